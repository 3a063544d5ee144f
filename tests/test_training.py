"""The training loop on tiny learnable images: learning, determinism, resume and each recipe option."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from collections import Counter
from itertools import pairwise

import numpy as np
import pytest
import torch
from torch import nn

from expressions.config import TrainSpec
from expressions.core.errors import TrainingError
from expressions.data.dataset import Merged
from expressions.training import mixing, recipe
from expressions.training.batches import epoch_order, forward_all
from expressions.training.device import amp_dtype, cpu_has_bf16
from expressions.training.distributed import Runtime
from expressions.training.loop import train
from expressions.training.model_file import load_model, save_model
from expressions.training.recipe import Augment, class_weights, lr_at, make_optimizer, random_affine
from helpers.builders import SIZE, STUDY, quadrants, tiny_run


def weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_same_weights(a: nn.Module, b: nn.Module) -> None:
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    assert all(torch.equal(wa[k], wb[k]) for k in wa), "weights differ"


def scores(history: list[dict[str, float]]) -> list[tuple]:
    """History without the wall-clock fields, which no two runs share."""
    return [tuple(h[k] for k in ("train_loss", "val_loss", "val_acc", "lr")) for h in history]


def test_learns_the_quadrants_well_above_chance():
    trained = train(tiny_run(dropout=0.0, epochs=3), quadrants())
    assert trained.history[-1]["val_acc"] > 0.6  # chance is 0.25
    assert trained.history[-1]["val_loss"] < trained.history[0]["val_loss"]
    assert trained.images_per_s > 0


def test_prints_the_studys_epoch_line_after_each_epoch(capsys):
    train(tiny_run(epochs=2), quadrants())
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("Epoch")]
    pattern = r"Epoch \[{}/2\], Validation Loss: \d+\.\d{{4}}, Validation Accuracy: \d+\.\d{{2}}%"
    assert len(lines) == 2
    for k, line in enumerate(lines, 1):
        assert re.fullmatch(pattern.format(k), line), line


def test_two_runs_with_every_random_option_on_are_bit_identical():
    recipe = tiny_run(augment=True, balance="sampler", label_smoothing=0.1, schedule="cosine")
    first, second = train(recipe, quadrants()), train(recipe, quadrants())
    assert scores(first.history) == scores(second.history)
    assert_same_weights(first.model, second.model)


def test_a_resumed_run_ends_exactly_where_an_uninterrupted_one_does(tmp_path, capsys):
    recipe = tiny_run(augment=True, epochs=2)
    whole = train(recipe, quadrants())
    ckpt, live = tmp_path / "last.pt", tmp_path / "live"
    train(
        tiny_run(augment=True, epochs=1),
        quadrants(),
        fingerprint="f",
        checkpoint=ckpt,
        live_dir=live,
    )
    (live / "plots" / "metrics" / "val_loss.tsv").unlink()  # as DVC deletes outputs before a run
    capsys.readouterr()
    resumed = train(recipe, quadrants(), fingerprint="f", checkpoint=ckpt, live_dir=live)
    out = capsys.readouterr().out
    assert "resuming" in out and "Epoch [1/2]" not in out and "Epoch [2/2]" in out
    assert scores(resumed.history) == scores(whole.history)
    assert_same_weights(resumed.model, whole.model)
    for name in ("train_loss", "val_loss", "val_acc"):
        rows = (live / "plots" / "metrics" / f"{name}.tsv").read_text().splitlines()
        assert [r.split("\t")[0] for r in rows] == ["step", "0", "1"]


def test_a_checkpoint_of_other_settings_is_ignored(tmp_path, capsys):
    ckpt = tmp_path / "last.pt"
    train(tiny_run(epochs=1), quadrants(), fingerprint="a", checkpoint=ckpt)
    train(tiny_run(epochs=1), quadrants(), fingerprint="b", checkpoint=ckpt)
    out = capsys.readouterr().out
    assert out.count("Epoch [1/1]") == 2 and "starting afresh" in out


def test_early_stopping_keeps_the_best_epochs_weights():
    data = quadrants(val_shift=1)  # validation loss rises as the model learns
    stopped = train(tiny_run(epochs=6, early_stopping=2), data)
    assert len(stopped.history) == 3  # epoch 1 is best, then two epochs without improvement
    assert stopped.kept_epoch == 1
    assert stopped.history[2]["val_loss"] > stopped.history[0]["val_loss"]
    assert_same_weights(stopped.model, train(tiny_run(epochs=1), data).model)


def test_learning_rate_schedules_per_step():
    spec = TrainSpec(**{**STUDY, "epochs": 4, "lr": 1.0, "warmup_epochs": 1})
    assert [lr_at(s, 10, spec) for s in (0, 4, 9, 10, 39)] == [1 / 11, 5 / 11, 10 / 11, 1, 1]
    cosine = TrainSpec(**{**STUDY, "epochs": 4, "lr": 1.0, "schedule": "cosine"})
    assert [lr_at(e * 10, 10, cosine) for e in range(4)] == pytest.approx(
        [1, 0.8536, 0.5, 0.1464], abs=1e-4
    )
    step = TrainSpec(**{**STUDY, "epochs": 4, "lr": 1.0, "schedule": "step"})
    assert [lr_at(e * 10, 10, step) for e in range(4)] == pytest.approx([1, 1, 0.1, 0.01])


def test_weight_decay_switches_adam_to_adamw():
    net = nn.Linear(2, 2)
    assert type(make_optimizer(net, TrainSpec(**STUDY))) is torch.optim.Adam
    decayed = make_optimizer(net, TrainSpec(**{**STUDY, "weight_decay": 0.01}))
    assert type(decayed) is torch.optim.AdamW and decayed.defaults["weight_decay"] == 0.01


def test_each_epoch_logs_the_learning_rate_it_started_with():
    recipe = tiny_run(epochs=3, schedule="cosine", warmup_epochs=1, lr=0.01)
    trained = train(recipe, quadrants())
    spec = recipe.variant.train
    steps = math.ceil(len(quadrants().part("train")[1]) / spec.batch_size)
    expected = [lr_at(e * steps, steps, spec) for e in range(3)]
    assert [h["lr"] for h in trained.history] == expected
    assert expected[0] < expected[1] > expected[2]


def test_weighted_loss_uses_inverse_class_frequencies():
    labels = np.array([0] * 60 + [1] * 30 + [2] * 10)
    w = class_weights(labels, 4)
    assert w[:3] * np.array([60, 30, 10]) == pytest.approx([100 / 4] * 3)
    assert w[3] == 0  # absent class


def test_the_summed_loss_over_the_weight_total_is_torchs_mean_loss():
    """What lets DDP ranks split a batch unevenly and still average to the global mean."""
    logits, y = torch.randn(10, 4), torch.tensor([0, 0, 0, 0, 1, 1, 2, 3, 3, 3])
    w = torch.tensor([0.5, 2.0, 1.0, 3.0])
    mean = nn.CrossEntropyLoss(weight=w, label_smoothing=0.1)(logits, y)
    summed = nn.CrossEntropyLoss(weight=w, label_smoothing=0.1, reduction="sum")
    parts = summed(logits[:3], y[:3]) + summed(logits[3:], y[3:])
    torch.testing.assert_close(parts / w[y].sum(), mean)


def test_the_balanced_sampler_draws_classes_evenly_and_reproducibly():
    labels = np.array([0] * 900 + [1] * 100)
    order = epoch_order(labels, seed=0, epoch=0, balance="sampler")
    assert len(order) == len(labels)
    assert Counter(labels[order].tolist())[1] / len(order) == pytest.approx(0.5, abs=0.05)
    assert np.array_equal(order, epoch_order(labels, seed=0, epoch=0, balance="sampler"))
    assert not np.array_equal(order, epoch_order(labels, seed=0, epoch=1, balance="sampler"))
    assert sorted(epoch_order(labels, 0, 0, "none")) == list(range(1000))


def test_augmentation_touches_training_batches_only(monkeypatch):
    seen = []
    original = recipe.augment_batch
    monkeypatch.setattr(recipe, "augment_batch", lambda x, t: seen.append(len(x)) or original(x, t))
    data = quadrants()
    plain, augmented = (
        train(tiny_run(epochs=2), data),
        train(tiny_run(epochs=2, augment=True), data),
    )
    assert sum(seen) == 2 * len(data.part("train")[1])  # no validation image went through it
    assert plain.history[0]["train_loss"] != augmented.history[0]["train_loss"]


def test_flip_only_augmentation_mirrors_about_half_the_images():
    x = torch.rand(64, 1, SIZE, SIZE)
    theta = random_affine(
        64, Augment(rotate=0, translate=0, crop=1), torch.Generator().manual_seed(0)
    )
    out = recipe.augment_batch(x, theta)
    mirrored = [torch.allclose(o, i.flip(-1), atol=1e-5) for o, i in zip(out, x, strict=True)]
    kept = [torch.allclose(o, i, atol=1e-5) for o, i in zip(out, x, strict=True)]
    assert all(m != k for m, k in zip(mirrored, kept, strict=True))
    assert 20 < sum(mirrored) < 44


def test_loader_workers_give_the_same_run_as_in_loop_batches():
    in_loop, loaded = (
        train(tiny_run(epochs=1), quadrants()),
        train(tiny_run(epochs=1), quadrants(), runtime=Runtime(torch.device("cpu"), workers=1)),
    )
    assert_same_weights(in_loop.model, loaded.model)


@pytest.mark.parametrize("world", [1, 2, 3, 5])
def test_rank_shards_partition_every_batch(world):
    for n in range(12):
        parts = [
            np.arange(n)[Runtime(torch.device("cpu"), r, world).shard(n)] for r in range(world)
        ]
        assert np.array_equal(np.concatenate(parts), np.arange(n))
        assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_classes_that_differ_from_the_config_stop_with_one_sentence():
    data = quadrants()
    other = Merged(data.x, data.y, data.split, ("a", "b", "c", "d"))
    with pytest.raises(TrainingError, match="differ from the config"):
        train(tiny_run(), other)


def test_deterministic_mode_is_on_without_loading_torchs_compiler():
    """make_deterministic sets the flag eager kernels read, and leaves torch._inductor unloaded:
    importing it cost 2 s of every train and test stage."""
    code = (
        "import sys, torch\n"
        "from expressions.training.device import make_deterministic\n"
        "make_deterministic()\n"
        "print(torch.are_deterministic_algorithms_enabled(), 'torch._inductor' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "False"]


def test_bf16_autocast_runs_on_this_cpu_and_fp16_stays_cuda_only(capsys):
    cpu = torch.device("cpu")
    assert amp_dtype("bf16", cpu) == (torch.bfloat16 if cpu_has_bf16() else None)
    assert amp_dtype("fp16", cpu, verbose=False) is None
    capsys.readouterr()
    assert amp_dtype("auto", cpu) == (torch.bfloat16 if cpu_has_bf16() else None)
    assert capsys.readouterr().out == ""  # the default falls back to float32 without a note
    assert amp_dtype("none", cpu) is None


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no native bfloat16")
def test_a_bf16_run_on_the_cpu_trains_and_its_model_agrees_in_float32(tmp_path):
    run = tiny_run(amp="bf16", epochs=3)
    merged = quadrants()
    trained = train(run, merged)
    assert all(np.isfinite(h["train_loss"]) and np.isfinite(h["val_loss"]) for h in trained.history)
    save_model(tmp_path / "model.pt", trained.model, run)
    model = load_model(tmp_path / "model.pt").model
    x = torch.from_numpy(merged.part("test")[0])
    cpu = torch.device("cpu")
    in_bf16 = forward_all(model, x, 16, cpu, torch.bfloat16)
    assert in_bf16.dtype == torch.float32  # logits come back as float32
    agree = (forward_all(model, x, 16, cpu).argmax(1) == in_bf16.argmax(1)).float().mean()
    assert agree >= 0.8


def test_ema_mixup_and_cutmix_runs_resume_exactly_and_repeat_bit_for_bit(tmp_path, capsys):
    recipe = tiny_run(augment=True, epochs=2, ema=0.9, mixup=0.4, cutmix=1.0)
    whole, again = train(recipe, quadrants()), train(recipe, quadrants())
    assert scores(whole.history) == scores(again.history)
    assert_same_weights(whole.model, again.model)
    ckpt = tmp_path / "last.pt"
    one = tiny_run(augment=True, epochs=1, ema=0.9, mixup=0.4, cutmix=1.0)
    train(one, quadrants(), fingerprint="f", checkpoint=ckpt)
    resumed = train(recipe, quadrants(), fingerprint="f", checkpoint=ckpt)
    assert "resuming" in capsys.readouterr().out
    assert scores(resumed.history) == scores(whole.history)
    assert_same_weights(resumed.model, whole.model)


def test_the_kept_model_is_the_weights_moving_average():
    plain, averaged = (
        train(tiny_run(epochs=2), quadrants()),
        train(tiny_run(epochs=2, ema=0.5), quadrants()),
    )
    weight = next(n for n, _ in plain.model.named_parameters() if n.endswith("weight"))
    a, b = (
        dict(plain.model.named_parameters())[weight],
        dict(averaged.model.named_parameters())[weight],
    )
    assert not torch.equal(a, b)  # the same run, but the average is what is kept
    assert averaged.history[-1]["val_acc"] > 0.4  # and it still learns the quadrants


def test_mixup_blends_pairs_and_cutmix_pastes_a_box_whose_area_is_one_minus_lam():
    x = torch.arange(2 * 16 * 16, dtype=torch.float32).view(2, 1, 16, 16)
    y = torch.tensor([0, 1])
    for seed in range(4):
        blend = mixing.mix(x, y, mixing.Mixing(mixup=1.0, cutmix=0.0), np.random.default_rng(seed))
        perm = blend.y_other  # labels are the indices here, so they show the permutation
        torch.testing.assert_close(blend.x, blend.lam * x + (1 - blend.lam) * x[perm])
        cut = mixing.mix(x, y, mixing.Mixing(mixup=0.0, cutmix=1.0), np.random.default_rng(seed))
        pasted = (cut.x != x).float().mean().item()
        moved = not torch.equal(cut.y_other, y)  # a swap pastes the other image's pixels
        assert pasted == pytest.approx(1 - cut.lam if moved else 0.0)
        assert torch.equal(cut.x[..., :, :][cut.x != x], x[cut.y_other][cut.x != x])


def test_onecycle_rises_to_the_peak_at_30_percent_then_falls_to_zero():
    spec = TrainSpec(**{**STUDY, "schedule": "onecycle", "lr": 1.0, "epochs": 10})
    rates = [lr_at(step, 10, spec) for step in range(100)]
    assert rates[0] == pytest.approx(1 / 25) and max(rates) == pytest.approx(1.0)
    assert int(np.argmax(rates)) == 30 and rates[-1] < 0.001
    assert all(b >= a for a, b in pairwise(rates[:31])) and all(
        b <= a for a, b in pairwise(rates[30:])
    )
