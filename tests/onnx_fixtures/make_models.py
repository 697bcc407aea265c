# SPDX-License-Identifier: MIT
"""Write the float .onnx models of tests/test_onnx_import.py with PyTorch's own exporter
(torch.onnx.export), as a PyTorch user would get them.

Generator: this script; PyTorch is not a dependency of microtrain, so it runs in a venv of its
           own:  python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install
           torch==2.13.0+cpu onnx==1.23.2 onnxscript==0.7.2 &&
           /tmp/torchvenv/bin/python tests/onnx_fixtures/make_models.py
Versions:  torch 2.13.0+cpu, onnx 1.23.2, onnxscript 0.7.2 (the dynamo exporter), Python 3.11.
Seed:      SEED below: PyTorch's initializers, the random biases and batch-norm statistics.
Output:    *.onnx here (a few kB each, weights inside the file), rewritten on every run.

The models (the ops each exporter writes are in brackets):
  cnn_block         the TorchScript exporter's defaults (dynamo=False): conv 3x3 s2 + BatchNorm2d
                    + ReLU (the exporter folds the BN into the conv) -> depthwise 3x3 -> clamp(0, 6)
                    -> pointwise -> residual add -> adaptive_avg_pool2d(1) -> flatten -> Linear +
                    ReLU -> Linear  [Conv Relu Clip Constant Add GlobalAveragePool Flatten Gemm]
  cnn_block_dynamo  the same network through the default exporter of torch 2.9+ (dynamo=True)
                    [Conv Relu Clip Add ReduceMean Reshape Gemm]
  bn_flatten_map    do_constant_folding=False, so the BatchNormalization stays a node; ReLU6;
                    a batch of any size; x.view(x.size(0), -1) of a 3x3 map (NCHW order!) ->
                    x @ w + b  [Conv BatchNormalization Constant Clip Shape Gather Unsqueeze
                    Concat Reshape MatMul Add]
  mlp               Linear + ReLU -> Linear on 13 features, input (batch, 13): a model of
                    (1, 1, 13) input for us  [Gemm Relu Gemm]
  maxpool           a conv and a MaxPool2d: an op microtrain has no kernel for (a refusal test)
"""

from pathlib import Path

import torch
from torch import nn

SEED = 20261207
HERE = Path(__file__).resolve().parent


class Block(nn.Module):
    """The small CNN of a typical fine-tuning job, on 12x12x3 inputs, 5 classes."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.pw = nn.Conv2d(8, 8, 1)
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 5)

    def forward(self, x):
        x = torch.relu(self.bn(self.conv(x)))
        y = torch.clamp(self.dw(x), 0.0, 6.0)
        x = x + self.pw(y)
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return self.fc2(torch.relu(self.fc1(x)))


class BnFlattenMap(nn.Module):
    """Conv + BN + ReLU6 on 7x7x2 inputs, then a flatten of the whole 3x3x6 map: NCHW order."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 6, 3, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(6)
        self.act = nn.ReLU6()
        self.w = nn.Parameter(torch.randn(6 * 3 * 3, 4) * 0.2)
        self.b = nn.Parameter(torch.randn(4) * 0.2)

    def forward(self, x):
        x = self.act(self.bn(self.conv(x)))
        return x.view(x.size(0), -1) @ self.w + self.b


class MaxPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 4 * 4, 3)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv(x)), 2)
        return self.fc(torch.flatten(x, 1))


def mlp():
    return nn.Sequential(nn.Linear(13, 16), nn.ReLU(), nn.Linear(16, 3))


def randomize(model):
    """Random biases and batch-norm statistics: PyTorch starts them at 0 and 1, which would
    test nothing (a BN with mean 0 and var 1 is almost the identity)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)) and m.bias is not None:
                m.bias.normal_(0.0, 0.2)
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.2)
                m.running_mean.normal_(0.0, 0.3)
                m.running_var.uniform_(0.5, 2.0)
    return model.eval()


def export(model, shape, name, **options):
    path = HERE / f"{name}.onnx"
    x = torch.randn(1, *shape)
    if options.get("dynamo"):
        options.setdefault("external_data", False)  # weights inside the one file
    torch.onnx.export(model, (x,), str(path), input_names=["input"], output_names=["logits"],
                      **options)
    print(f"{path.name}  {path.stat().st_size} bytes")


def main():
    torch.manual_seed(SEED)
    block = randomize(Block())
    export(block, (3, 12, 12), "cnn_block", dynamo=False)
    export(block, (3, 12, 12), "cnn_block_dynamo", dynamo=True)
    export(randomize(BnFlattenMap()), (2, 7, 7), "bn_flatten_map", dynamo=False,
           do_constant_folding=False, dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    export(randomize(mlp()), (13,), "mlp", dynamo=False)
    export(randomize(MaxPool()), (2, 8, 8), "maxpool", dynamo=False)


if __name__ == "__main__":
    main()
