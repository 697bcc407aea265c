# SPDX-License-Identifier: MIT
"""PyTorch's side of bench/host_vs_pytorch.py: runs in a venv of its own (`make torch-venv`: torch
2.13.0 CPU and numpy; PyTorch is no dependency of microtrain) and imports nothing of ours.

It builds a float32 model from a graph spec that host_vs_pytorch.py wrote (the layers of one of
the paper's int8 graphs, with its sparse update scheme) and times, on one thread, `steps` learn
steps (forward, cross-entropy, backward down to the earliest updated layer, SGD on the updated
parameters only) and `steps` predicts (forward under inference_mode), alternating as ours do.
A layer whose weights are updated for its first k input channels holds them as two tensors, the
first k channels a parameter and the rest a constant, so autograd computes only that gradient.

    python bench/torch_steps.py SPEC.json STEPS   -> one JSON line {"learn": [us], "predict": [us]}
"""

import json
import sys
import time

import torch
from torch import nn
from torch.nn import functional as F

ACTS = {"none": lambda x: x, "relu": F.relu, "relu6": F.relu6}


class Layer(nn.Module):
    """One conv2d / dwconv2d / pwconv2d / fc layer; trainable parts as the scheme says."""

    def __init__(self, spec, bias_trained, k_trained):
        super().__init__()
        self.spec = spec
        c_in, c_out = spec["c_in"], spec["c_out"]
        groups = c_in if spec["op"] == "dwconv2d" else 1
        kh, kw = spec.get("kernel", (1, 1))
        shape = (c_out, c_in // groups, kh, kw) if spec["op"] != "fc" else (c_out, c_in)
        w = torch.randn(shape) * 0.05
        split = 0 if groups > 1 else 1  # depthwise: channels are output channels
        k = k_trained
        if k:
            self.w_trained = nn.Parameter(w.narrow(split, 0, k).clone())
            self.register_buffer("w_frozen", w.narrow(split, k, w.shape[split] - k).clone())
        else:
            self.register_buffer("w_frozen", w)
        self.split, self.k, self.groups = split, k, groups
        b = torch.randn(c_out) * 0.05
        if bias_trained:
            self.b = nn.Parameter(b)
        else:
            self.register_buffer("b", b)

    def weight(self):
        if not self.k:
            return self.w_frozen
        if self.w_frozen.shape[self.split] == 0:
            return self.w_trained
        return torch.cat([self.w_trained, self.w_frozen], self.split)

    def forward(self, x):
        s = self.spec
        if s["op"] == "fc":
            y = F.linear(x.flatten(1), self.weight(), self.b)
        else:
            y = F.conv2d(x, self.weight(), self.b, stride=tuple(s["stride"]),
                         padding=tuple(s["padding"]), groups=self.groups)
        return ACTS[s["act"]](y)


class Net(nn.Module):
    def __init__(self, spec):
        super().__init__()
        self.layers = spec["layers"]
        bias = set(spec["bias_layers"])
        k = {w["layer"]: w["k"] for w in spec["weights"]}
        self.mods = nn.ModuleDict({
            ly["name"]: Layer(ly, ly["name"] in bias, k.get(ly["name"], 0))
            for ly in self.layers if ly["op"] in ("conv2d", "dwconv2d", "pwconv2d", "fc")})

    def forward(self, x):
        values = {"input": x}
        for ly in self.layers:
            ins = [values[name] for name in ly["inputs"]]
            if ly["op"] == "add":
                y = ACTS[ly["act"]](ins[0] + ins[1])
            elif ly["op"] == "avgpool":
                y = ins[0].mean((2, 3), keepdim=True)
            else:
                y = self.mods[ly["name"]](ins[0])
            values[ly["name"]] = y
        return values[self.layers[-1]["name"]].flatten(1)


def main():
    spec = json.loads(open(sys.argv[1]).read())
    steps = int(sys.argv[2])
    torch.set_num_threads(1)
    torch.manual_seed(0)
    net = Net(spec)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=0.01)
    h, w, c = spec["input_shape"]
    x = torch.randn(1, c, h, w)
    learn, predict = [], []
    for i in range(steps):
        y = torch.tensor([i % spec["classes"]])
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        learn.append((time.perf_counter() - t) * 1e6)
        t = time.perf_counter()
        with torch.inference_mode():
            net(x).argmax()
        predict.append((time.perf_counter() - t) * 1e6)
    print(json.dumps({"learn": learn, "predict": predict, "torch": torch.__version__,
                      "threads": torch.get_num_threads(), "trained": sum(p.numel() for p in params)}))


if __name__ == "__main__":
    main()
