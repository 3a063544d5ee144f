"""The CNN's shapes for every kernel and depth the study and its variants use, and its file."""

import pytest
import torch
import torch.nn.functional as F

from expressions.config import ModelSpec, Run, TrainSpec, VariantConfig
from expressions.training.model import build_model
from expressions.training.model_file import load_model, save_model

CHANNELS = (32, 64, 128, 256, 512)


def spec(kernel: int = 3, depth: int = 3) -> ModelSpec:
    return ModelSpec(kernel=kernel, depth=depth, channels=CHANNELS, hidden=128, dropout=0.3)


@pytest.mark.parametrize(
    ("kernel", "depth", "size", "side"),
    [
        (3, 3, 48, 6),  # main
        (4, 3, 48, 6),  # variant1
        (3, 4, 48, 3),  # variant2
        (3, 3, 40, 5),
        (5, 4, 40, 2),
    ],
)
def test_logits_and_head_input_for_the_study_variants(kernel, depth, size, side):
    model = build_model(spec(kernel, depth), num_classes=4, image_size=size).eval()
    assert model(torch.rand(2, 1, size, size)).shape == (2, 4)
    assert model.head[2].in_features == CHANNELS[depth - 1] * side * side
    assert len(model.blocks) == depth


@pytest.mark.parametrize("kernel", range(1, 7))
@pytest.mark.parametrize("size", [48, 40, 13])
def test_every_block_keeps_its_size_before_pooling(kernel, size):
    model = build_model(spec(kernel, depth=3), num_classes=4, image_size=size).eval()
    sizes = []
    hooks = [
        b.act.register_forward_hook(lambda m, i, o: sizes.append(o.shape[-2:]))
        for b in model.blocks
    ]
    with torch.no_grad():
        assert model(torch.rand(1, 1, size, size)).shape == (1, 4)
    for h in hooks:
        h.remove()
    expected = [size, size // 2, size // 4]
    assert [tuple(s) for s in sizes] == [(e, e) for e in expected]


@pytest.mark.parametrize("kernel", [2, 4, 6])
def test_even_kernels_pad_one_more_pixel_after_than_before(kernel):
    block = build_model(spec(kernel, depth=1), 4, 16).blocks[0]
    x = torch.rand(1, 1, 16, 16)
    padded = F.pad(x, ((kernel - 1) // 2, kernel // 2, (kernel - 1) // 2, kernel // 2))
    reference = F.conv2d(padded, block.conv.weight)
    torch.testing.assert_close(block.conv(block.pad(x)), reference)


def variant(model_spec: ModelSpec) -> VariantConfig:
    train = TrainSpec(
        epochs=1, lr=1e-3, batch_size=8, amp="none",
        rotate=10, translate=0.1, crop=0.9, balance="none", label_smoothing=0.0,
        weight_decay=0.0, schedule="none", warmup_epochs=0, early_stopping=0,
    )  # fmt: skip
    return VariantConfig(
        "variant1", ("Angry", "Engaged", "Happy", "Neutral"), 40, model_spec, train
    )


def test_a_saved_model_reloads_alone_with_its_settings_and_pixel_stats(tmp_path):
    settings = variant(spec(kernel=4))
    model = build_model(settings.model, 4, 40)
    model.set_pixel_stats(0.4, 0.2)
    model = model.to(memory_format=torch.channels_last).eval()
    save_model(tmp_path / "model.pt", model, Run(settings, seed=3))
    file = load_model(tmp_path / "model.pt")
    loaded, loaded_settings = file.model, file.variant
    assert loaded_settings == settings and file.run.seed == 3
    assert not loaded.training
    assert loaded.pixel_mean.item() == pytest.approx(0.4)
    x = torch.rand(3, 1, 40, 40)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x))  # memory formats may round apart


def test_the_model_file_is_written_atomically(tmp_path):
    settings = variant(spec())
    save_model(tmp_path / "m" / "model.pt", build_model(settings.model, 4, 40), Run(settings))
    assert [p.name for p in (tmp_path / "m").iterdir()] == ["model.pt"]
