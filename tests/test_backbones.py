"""ImageNet backbones: the shipped EfficientNet-Lite0 weights recognise ImageNet photos through
the project's own input path, a saved backbone rebuilds alone, and bad settings are one sentence."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import torch
from skimage import color, data, transform

from expressions.config import ModelSpec, Run, parse_params
from expressions.core.errors import ConfigError
from expressions.training.backbones import IMAGENET_MEAN, IMAGENET_STD, lite0_weights
from expressions.training.batches import forward_all
from expressions.training.efficientnet_lite import EfficientNetLite0
from expressions.training.loop import train
from expressions.training.model import build_model
from expressions.training.model_file import load_model, save_model
from expressions.training.recipe import make_optimizer
from helpers.builders import params_with, quadrants, tiny

CATS, ESPRESSO, CUP = {281, 282, 285}, 967, 968  # tabby, tiger cat, Egyptian cat
LITE0 = {"arch": "efficientnet_lite0", "pretrained": "imagenet", "input_size": 224}


def photos() -> dict[str, np.ndarray]:
    """scikit-image's cat and espresso as 224 px RGB floats in [0, 1]."""
    return {
        name: transform.resize(getattr(data, name)(), (224, 224), anti_aliasing=True)
        for name in ("chelsea", "coffee")
    }


def test_the_shipped_imagenet_weights_recognise_a_cat_and_an_espresso():
    net = EfficientNetLite0().eval()
    net.load_state_dict(torch.load(lite0_weights(), weights_only=True))  # strict: every name
    mean, std = torch.tensor(IMAGENET_MEAN).view(3, 1, 1), torch.tensor(IMAGENET_STD).view(3, 1, 1)
    x = torch.stack([(torch.from_numpy(p).permute(2, 0, 1).float() - mean) / std
                     for p in photos().values()])  # fmt: skip
    with torch.no_grad():
        cat, espresso = net(x).argmax(1).tolist()
    assert cat in CATS and espresso == ESPRESSO


def test_the_project_model_sees_them_too_from_gray_uint8_faces():
    """The input contract (gray uint8 / 255, [B, 1, S, S]): the channel repeated as RGB and the
    ImageNet normalisation inside the model leave both photos recognised, through the ImageNet
    classifier copied into the fresh head. In gray the espresso's crema loses its colour: the
    net then reads it as a cup of coffee, a close second in colour."""
    spec = ModelSpec(**{**dataclasses.asdict(tiny().model), **LITE0})
    model = build_model(spec, num_classes=1000, image_size=224, pretrained=True).eval()
    imagenet = torch.load(lite0_weights(), weights_only=True)
    model.head[1].load_state_dict({"weight": imagenet["_fc.weight"], "bias": imagenet["_fc.bias"]})
    gray = np.stack([np.rint(color.rgb2gray(p) * 255) for p in photos().values()]).astype(np.uint8)
    cat, espresso = forward_all(model, torch.from_numpy(gray), 2, torch.device("cpu")).argmax(1)
    assert cat.item() in CATS and espresso.item() in (ESPRESSO, CUP)


def lite0_variant(**model: object):
    base = tiny(epochs=1, batch_size=16)
    spec = dataclasses.replace(base.model, arch="efficientnet_lite0", input_size=32, **model)
    return dataclasses.replace(base, model=spec)


def test_a_saved_backbone_rebuilds_without_its_weights_file(tmp_path):
    variant = lite0_variant(pretrained=str(tmp_path / "gone.pth"))  # read by training only
    model = build_model(variant.model, 4, variant.image_size).eval()
    save_model(tmp_path / "model.pt", model, Run(variant))
    file = load_model(tmp_path / "model.pt")
    loaded, settings = file.model, file.variant
    assert settings == variant
    x = torch.rand(3, 1, variant.image_size, variant.image_size)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x))
    with pytest.raises(ConfigError, match=r"^model.pretrained is .*gone.pth, which is not a file$"):
        build_model(variant.model, 4, variant.image_size, pretrained=True)


def test_a_state_dict_file_is_loaded_as_the_backbone(tmp_path):
    torch.manual_seed(1)
    weights = EfficientNetLite0(size=32).state_dict()
    torch.save(weights, tmp_path / "mine.pth")
    spec = lite0_variant(pretrained=str(tmp_path / "mine.pth")).model
    model = build_model(spec, 4, 16, pretrained=True)
    torch.testing.assert_close(model.net._conv_stem.weight, weights["_conv_stem.weight"])
    assert model.head[1].out_features == 4
    torch.save({"not": torch.zeros(1)}, tmp_path / "other.pth")
    spec = dataclasses.replace(spec, pretrained=str(tmp_path / "other.pth"))
    with pytest.raises(ConfigError, match=r"is not a state dict of model\.arch efficientnet_lite0"):
        build_model(spec, 4, 16, pretrained=True)


def test_torchvision_imagenet_weights_that_cannot_be_fetched_are_one_sentence(tmp_path):
    spec = dataclasses.replace(tiny().model, arch="squeezenet1_1", pretrained="imagenet")
    cache = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path))  # an empty cache: the weights must be downloaded
    try:
        build_model(spec, 4, 64, pretrained=True)
    except ConfigError as err:
        assert "squeezenet1_1-b8a52dc0.pth" in str(err)
        assert f"{tmp_path}/checkpoints/" in str(err) and "model.pretrained: none" in str(err)
    else:
        pytest.skip("this machine downloaded the weights: it has internet")
    finally:
        torch.hub.set_dir(cache)


def test_a_torchvision_arch_gets_a_fresh_head_and_a_slower_backbone():
    spec = dataclasses.replace(tiny().model, arch="mobilenet_v3_small", input_size=32)
    model = build_model(spec, 4, 16).eval()
    assert model(torch.rand(2, 1, 16, 16)).shape == (2, 4)
    train_spec = dataclasses.replace(tiny().train, lr=0.01, backbone_lr=0.1)
    head, backbone = make_optimizer(model, train_spec).param_groups
    assert {id(p) for p in head["params"]} == {id(p) for p in model.head.parameters()}
    assert (head["lr"], backbone["lr"], backbone["lr_scale"]) == (0.01, pytest.approx(0.001), 0.1)


def test_a_backbone_trains_with_the_project_loop():
    variant = lite0_variant()
    variant = dataclasses.replace(
        variant, train=dataclasses.replace(variant.train, backbone_lr=0.5)
    )
    trained = train(Run(variant), quadrants(n=40))
    assert np.isfinite(trained.history[0]["train_loss"])


@pytest.mark.parametrize(
    ("dotted", "value", "message"),
    [
        ("model.arch", "resnet", "model.arch is 'resnet'; allowed: study | efficientnet_lite0 | "),
        ("model.pretrained", "imagenet", "model.pretrained applies to ImageNet backbones"),
        ("model.input_size", 96, "model.input_size applies to ImageNet backbones"),
        ("train.backbone_lr", 0.1, "variants.main.train.backbone_lr is 0.1, but the study CNN"),
        ("train.backbone_lr", 2, "train.backbone_lr is 2.0; allowed range [0.0, 1.0]"),
    ],
)
def test_bad_backbone_settings_are_one_sentence(dotted, value, message):
    with pytest.raises(ConfigError, match="^" + re.escape(message)):
        parse_params(params_with(dotted, value))


def test_an_imagenet_backbone_with_a_too_small_input_is_one_sentence():
    raw = params_with("model.arch", "efficientnet_lite0")
    raw["model"]["input_size"] = 16
    with pytest.raises(ConfigError, match=r"^model\.input_size is 16; an ImageNet network needs"):
        parse_params(raw)
    raw["model"]["input_size"] = 96
    assert parse_params(raw).variant("main").model.input_size == 96
