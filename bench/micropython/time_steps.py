# SPDX-License-Identifier: MIT
# Runs in the unix port: times `steps` learn and predict steps of the packed model "model" in
# the current folder (x.bin: one int8 input sample); prints one JSON line of microseconds.
import json
import sys
import time

import microtrain

steps = int(sys.argv[1])
m = microtrain.load("model")
with open("x.bin", "rb") as f:
    x = f.read()
learn, predict = [], []
for i in range(steps):
    t = time.ticks_us()
    m.learn(x, i % 10, False)
    learn.append(time.ticks_diff(time.ticks_us(), t))
    t = time.ticks_us()
    m.predict(x)
    predict.append(time.ticks_diff(time.ticks_us(), t))
print(json.dumps({"learn": learn, "predict": predict}))
