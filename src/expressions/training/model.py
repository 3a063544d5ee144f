"""The study's CNN (and, through backbones.py, the ImageNet networks): build_model builds either.

The network normalises its own input with the training split's pixel mean and std, held as
buffers: whoever loads `model.pt` (model_file.py: evaluation, the figures, predict) feeds plain
`pixels / 255` and cannot normalise differently from training.
"""

from __future__ import annotations

from collections import OrderedDict
from itertools import pairwise

import torch
from torch import nn

from expressions.config import ModelSpec
from expressions.training.backbones import build_backbone


def conv_block(in_channels: int, out_channels: int, kernel: int) -> nn.Sequential:
    """Conv -> BatchNorm -> LeakyReLU -> MaxPool(2), the conv keeping the spatial size.

    An even kernel has no centre, so it needs one more pixel of padding on one side: PyTorch's
    padding="same" does that too, but warns on every build, so the even case pads explicitly.
    The conv has no bias: BatchNorm subtracts the batch mean right after, so a bias there gets
    a zero gradient that Adam would turn into lr-sized steps of pure rounding noise.
    """
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    if kernel % 2 == 0:
        layers["pad"] = nn.ZeroPad2d(
            ((kernel - 1) // 2, kernel // 2, (kernel - 1) // 2, kernel // 2)
        )
    odd_padding = kernel // 2 if kernel % 2 else 0
    layers["conv"] = nn.Conv2d(in_channels, out_channels, kernel, padding=odd_padding, bias=False)
    layers["norm"] = nn.BatchNorm2d(out_channels)
    layers["act"] = nn.LeakyReLU()
    layers["pool"] = nn.MaxPool2d(2)
    return nn.Sequential(layers)


class ExpressionNet(nn.Module):
    """`blocks[i]` is conv block i (hook `blocks[i].act` for its activations before pooling)."""

    def __init__(self, spec: ModelSpec, num_classes: int, image_size: int) -> None:
        super().__init__()
        widths = (1, *spec.channels[: spec.depth])
        self.blocks = nn.Sequential(*(conv_block(a, b, spec.kernel) for a, b in pairwise(widths)))
        side = image_size
        for _ in range(spec.depth):
            side //= 2
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(spec.dropout),
            nn.Linear(widths[-1] * side * side, spec.hidden),
            nn.LeakyReLU(),
            nn.Dropout(spec.dropout),
            nn.Linear(spec.hidden, num_classes),
        )
        self.register_buffer("pixel_mean", torch.tensor(0.0))
        self.register_buffer("pixel_std", torch.tensor(1.0))

    def set_pixel_stats(self, mean: float, std: float) -> None:
        self.pixel_mean.fill_(mean)
        self.pixel_std.fill_(std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [B, 1, S, S] floats in [0, 1] (see batches.as_input); returns class logits."""
        return self.head(self.blocks((x - self.pixel_mean) / self.pixel_std))


def build_model(
    spec: ModelSpec, num_classes: int, image_size: int, pretrained: bool = False
) -> nn.Module:
    """The study CNN, or `spec.arch`'s ImageNet network with a fresh head (backbones.py).

    `pretrained` loads `spec.pretrained`'s weights: only a fresh training run asks for them; a
    saved model (or a resumed run) rebuilds over random weights and loads its own, so it needs
    no ImageNet file.
    """
    if spec.arch == "study":
        return ExpressionNet(spec, num_classes, image_size)
    return build_backbone(spec, num_classes, image_size, pretrained)
