"""How much faster the project's clean stage and training loop are than plain reference loops.

One run, three pairs, each timed on the same synthetic image files (written here in the OAHEGA
layout: JPEG and PNG, colour and grayscale, 64-256 px, so it needs nothing from the pipeline):

  clean     clean_files over all cores  vs  one process looping imread -> rgb2gray -> resize
  training  the project's train() over in-memory uint8 arrays, in float32 as shipped  vs
            torchvision ImageFolder + DataLoader decoding every file every epoch in float32
            (same model, batch size, Adam, loss); and the project's train() under bf16 autocast
            (train.amp bf16, on a CPU with native bf16) against the same float32 reference
  step      the project's training step (batch slicing, scaling, lr, ...)  vs  the bare
            forward/backward/step on a random tensor already in memory: the data-handling share

Each pair is timed alternately (reference, project, reference, ...) so that load from other
processes hits both sides alike; medians over repeats are reported, with the load average.

    python benchmarks/bench.py [--quick] [--images N] [--repeats R] [--epochs E] [--out PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from skimage import color, transform, util
from skimage import io as skio
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from expressions.config import Run, VariantConfig, load_params
from expressions.core.atomic import write_json
from expressions.data.dataset import Merged
from expressions.data.images import clean_files
from expressions.data.synthetic import OAHEGA, write_synthetic
from expressions.training import batches, device
from expressions.training import loop as training
from expressions.training.distributed import Runtime
from expressions.training.model import build_model

ROOT = Path(__file__).resolve().parents[1]
SIZE, MIN_SIDE = 48, 16  # params.yaml's data.image_size and data.min_side
TARGETS = {"clean": 1.7, "training": 1.4, "training_bf16": 2.5, "step": 0.10}
OAHEGA_TOTAL = sum(label.counts[""] for label in OAHEGA)  # images at synthetic scale 1.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat (for CI)")
    parser.add_argument("--images", type=int, help="image files to write (default 2000; quick 320)")
    parser.add_argument("--repeats", type=int, help="timings per side (default 5; quick 1)")
    parser.add_argument("--epochs", type=int, help="training epochs per repeat (default 1)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "bench.json")
    args = parser.parse_args()
    args.images = args.images or (320 if args.quick else 2000)
    args.repeats = args.repeats or (1 if args.quick else 5)
    args.epochs = args.epochs or 1
    if args.images < 128:
        parser.error("--images must be at least 128 (two batches plus a validation batch)")
    return args


def machine() -> dict[str, Any]:
    """What the numbers depend on; the load average says how busy the machine was."""
    return {
        "cpu_count": os.cpu_count(),
        "usable_cpus": device.usable_cpus(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_start": [round(v, 2) for v in os.getloadavg()],
    }


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """train() prints epoch lines and a tqdm bar; the benchmark prints its own table."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


# ------------------------------------------------------------------------------------------
# data: real-layout image files, listed the way ImageFolder sees them


def write_images(root: Path, n: int, seed: int) -> datasets.ImageFolder:
    """About n OAHEGA-layout files under root/dataset/<Class>/; ImageFolder fixes their order."""
    write_synthetic("oahega", root, n / OAHEGA_TOTAL, seed, progress=False)
    return datasets.ImageFolder(str(root / "dataset"))


# ------------------------------------------------------------------------------------------
# (a) clean: all cores vs one plain scikit-image loop


def reference_clean(paths: list[Path]) -> np.ndarray:
    """What one would write without the project: one process, one file after another."""
    out = np.empty((len(paths), SIZE, SIZE), np.uint8)
    for i, path in enumerate(paths):
        image = skio.imread(path)
        gray = color.rgb2gray(image) if image.ndim == 3 else util.img_as_float(image)
        small = transform.resize(gray, (SIZE, SIZE), anti_aliasing=True)
        out[i] = np.clip(np.rint(small * 255), 0, 255).astype(np.uint8)
    return out


def bench_clean(paths: list[Path], repeats: int) -> tuple[dict[str, Any], np.ndarray]:
    """Median wall time of each side, pool start-up included; both must give the same pixels."""
    project, reference = [], []
    for _ in range(repeats):
        seconds, expected = timed(lambda: reference_clean(paths))
        reference.append(seconds)
        seconds, cleaned = timed(lambda: clean_files(paths, SIZE, MIN_SIDE, 0, progress=False))
        project.append(seconds)
        if cleaned.failed or not np.array_equal(cleaned.images, expected):
            raise RuntimeError("clean_files and the plain loop disagree: not the same work")
    p, r = statistics.median(project), statistics.median(reference)
    result = {"project_s": p, "reference_s": r, "ratio": r / p, "images": len(paths)}
    return result | verdict("clean", r / p), cleaned.images


# ------------------------------------------------------------------------------------------
# (b) training throughput: train() on in-memory arrays vs ImageFolder + DataLoader


def study_variant(classes: tuple[str, ...], epochs: int) -> VariantConfig:
    """params.yaml's `main` recipe on the benchmark's classes, on the CPU, all cores."""
    main = load_params(ROOT / "params.yaml").variant("main")
    spec = dataclasses.replace(main.train, epochs=epochs)  # runtime: Runtime(cpu), all cores
    return dataclasses.replace(main, classes=classes, image_size=SIZE, train=spec)


def merged_for_training(
    x: np.ndarray, y: np.ndarray, classes: tuple[str, ...], batch: int
) -> Merged:
    """All images train (as ImageFolder's loop does); one batch of them repeated validates,
    since train() needs a validation split (its time is not counted in the throughput)."""
    x = np.concatenate([x, x[:batch]])
    y = np.concatenate([y, y[:batch]]).astype(np.int64)
    split = np.repeat(np.array([0, 1], np.uint8), [len(x) - batch, batch])
    return Merged(x, y, split, classes)


def project_epochs(variant: VariantConfig, merged: Merged) -> list[float]:
    """Images/s of each epoch of the project's own train(), as it records them."""
    with quiet():
        trained = training.train(Run(variant), merged, runtime=Runtime(torch.device("cpu")))
    return [h["images"] / h["seconds"] for h in trained.history]


def reference_epochs(
    folder: datasets.ImageFolder, variant: VariantConfig, workers: int, mean: float, std: float
) -> list[float]:
    """The plain loop: decode + grayscale + resize every file every epoch, default settings.

    train() switches PyTorch to deterministic algorithms for the whole process; a plain loop
    would not, so this one switches them off again. Workers persist across epochs, which is
    the reference's best case (a fresh pool per epoch costs it a start-up each time).
    """
    torch.use_deterministic_algorithms(False)
    device.set_threads(0)
    spec = variant.train
    folder.transform = transforms.Compose(
        [
            transforms.Grayscale(),
            transforms.Resize((SIZE, SIZE)),
            transforms.ToTensor(),
            transforms.Normalize((mean,), (std,)),
        ]
    )
    loader = DataLoader(
        folder,
        batch_size=spec.batch_size,
        shuffle=True,
        num_workers=workers,
        persistent_workers=workers > 0,
        generator=torch.Generator().manual_seed(0),  # Run(variant)'s seed
    )
    torch.manual_seed(0)
    net = build_model(variant.model, len(variant.classes), variant.image_size)
    optimizer = torch.optim.Adam(net.parameters(), lr=spec.lr)
    criterion = nn.CrossEntropyLoss()
    net.train()
    speeds = []
    for _ in range(spec.epochs):
        start, seen = time.perf_counter(), 0
        for xb, yb in loader:
            optimizer.zero_grad(set_to_none=True)
            criterion(net(xb), yb).backward()
            optimizer.step()
            seen += len(yb)
        speeds.append(seen / (time.perf_counter() - start))
    return speeds


def bench_training(
    folder: datasets.ImageFolder, x: np.ndarray, epochs: int, repeats: int, workers: list[int]
) -> dict[str, Any]:
    """Median images/s over all epochs of all repeats; the reference's best worker count counts."""
    y = np.array(folder.targets)
    variant = study_variant(tuple(folder.classes), epochs)
    merged = merged_for_training(x, y, variant.classes, variant.train.batch_size)
    mean, std = batches.pixel_stats(x)
    bf16 = dataclasses.replace(variant, train=dataclasses.replace(variant.train, amp="bf16"))
    has_bf16 = device.cpu_has_bf16()  # else train.amp bf16 computes in float32: not measured
    project: list[float] = []
    project_bf16: list[float] = []
    reference: dict[int, list[float]] = {w: [] for w in workers}
    for _ in range(repeats):
        for w in workers:
            reference[w] += reference_epochs(folder, variant, w, mean, std)
        project += project_epochs(variant, merged)
        project_bf16 += project_epochs(bf16, merged) if has_bf16 else []
    p = statistics.median(project)
    by_workers = {w: statistics.median(v) for w, v in reference.items()}
    best = max(by_workers, key=by_workers.get)
    r = by_workers[best]
    result = {
        "project_images_per_s": p,
        "reference_images_per_s": r,
        "ratio": p / r,
        "reference_workers": best,
        "reference_by_workers": {str(w): v for w, v in by_workers.items()},
        "images": len(y),
        "epochs": epochs * repeats,
        "batch_size": variant.train.batch_size,
        "channels_last": variant.train.channels_last,
    } | verdict("training", p / r)
    if has_bf16:
        b, goal = statistics.median(project_bf16), TARGETS["training_bf16"]
        result |= {"bf16_images_per_s": b, "bf16_ratio": b / r}
        result |= {"bf16_target": goal, "bf16_pass": b / r >= goal}
    return result


# ------------------------------------------------------------------------------------------
# (c) one step: the project's (data handling included) vs the bare model step


def bare_steps(s: training.Setup, steps: int, batch: int, classes: int) -> float:
    """Seconds per step of forward/loss/backward/Adam on a random input already in memory."""
    xb = torch.rand(batch, 1, SIZE, SIZE)
    yb = torch.randint(0, classes, (batch,))
    s.stepped.train()
    start = time.perf_counter()
    for _ in range(steps):
        loss = s.criterion(s.stepped(xb), yb) / batch
        s.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        s.optimizer.step()
    return (time.perf_counter() - start) / steps


def bench_step(
    x: np.ndarray, y: np.ndarray, classes: tuple[str, ...], repeats: int
) -> dict[str, Any]:
    """The project's step, timed as training.train_epoch runs it over whole epochs of full
    batches, against the bare step on the same Setup (model, memory format, optimizer, loss),
    under the same global settings (threads, deterministic algorithms) that train() sets."""
    variant = study_variant(classes, epochs=1_000)
    batch = variant.train.batch_size
    n = len(x) - len(x) % batch
    x_train, y_train = torch.from_numpy(x[:n]), torch.from_numpy(y[:n].astype(np.int64))
    device.make_deterministic()
    runtime = Runtime(torch.device("cpu"))
    device.set_threads(runtime.threads)
    s = training.build_setup(Run(variant), x[:n], y[:n], runtime, None)
    steps = n // batch
    with quiet():
        training.train_epoch(s, x_train, y_train, 0)  # warm-up: oneDNN builds its kernels
    bare_steps(s, steps, batch, len(classes))
    project, bare = [], []
    for epoch in range(1, 1 + max(3, repeats)):
        with quiet():
            record = training.train_epoch(s, x_train, y_train, epoch)
        project.append(record["seconds"] / steps)
        bare.append(bare_steps(s, steps, batch, len(classes)))
    p, b = statistics.median(project), statistics.median(bare)
    share = 1 - b / p
    result = {"project_ms": p * 1e3, "bare_ms": b * 1e3, "data_share": share, "batch_size": batch}
    return result | verdict("step", share)


# ------------------------------------------------------------------------------------------
# report


def verdict(pair: str, value: float) -> dict[str, Any]:
    """Ratios must reach their target; the data-handling share must stay below its own."""
    target = TARGETS[pair]
    return {"target": target, "pass": bool(value < target if pair == "step" else value >= target)}


def bf16_row(t: dict[str, Any]) -> list[tuple[str, ...]]:
    """train.amp bf16 against the same fp32 reference loop; nothing on a CPU without bf16."""
    if "bf16_ratio" not in t:
        return []
    return [
        (
            "training bf16 autocast (same reference)",
            f"{t['bf16_images_per_s']:.0f} img/s",
            f"{t['reference_images_per_s']:.0f} img/s",
            f"{t['bf16_ratio']:.2f}x",
            f">= {t['bf16_target']}x",
            "PASS" if t["bf16_pass"] else "FAIL",
        )
    ]


def table(results: dict[str, Any]) -> str:
    c, t, s = results["clean"], results["training"], results["step"]
    rows = [
        ("pair", "project", "reference", "ratio", "target", ""),
        (
            f"clean ({c['images']} images)",
            f"{c['project_s']:.2f} s",
            f"{c['reference_s']:.2f} s",
            f"{c['ratio']:.2f}x",
            f">= {c['target']}x",
            "PASS" if c["pass"] else "FAIL",
        ),
        (
            f"training (ImageFolder, {t['reference_workers']} workers)",
            f"{t['project_images_per_s']:.0f} img/s",
            f"{t['reference_images_per_s']:.0f} img/s",
            f"{t['ratio']:.2f}x",
            f">= {t['target']}x",
            "PASS" if t["pass"] else "FAIL",
        ),
        *bf16_row(t),
        (
            f"step (batch {s['batch_size']}; bare = reference)",
            f"{s['project_ms']:.1f} ms",
            f"{s['bare_ms']:.1f} ms",
            f"data {s['data_share']:.1%}",
            f"< {s['target']:.0%}",
            "PASS" if s["pass"] else "FAIL",
        ),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    others = ", ".join(f"{w} workers {v:.0f} img/s" for w, v in t["reference_by_workers"].items())
    lines.append(f"ImageFolder reference by DataLoader workers: {others}")
    lines.append(
        f"study CNN training, batch {t['batch_size']}, {SIZE} px, channels_last "
        f"{t['channels_last']}; the reference loop computes in fp32"
        + ("" if "bf16_ratio" in t else "; bf16: no native bf16 on this CPU, not measured")
    )
    m = results["machine"]
    lines.append(
        f"{m['usable_cpus']} cpus, {m['torch_threads']} torch threads, torch {m['torch']}; "
        f"load average {m['load_average_start']} at start, {m['load_average_end']} at end"
    )
    return "\n".join(lines)


def main() -> int:
    args = parse_args()
    results: dict[str, Any] = {"machine": machine(), "quick": args.quick}
    workers = [0, 2]  # 1 worker measured within noise of 2 here
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        folder = write_images(Path(tmp), args.images, seed=0)
        paths = [Path(p) for p, _ in folder.samples]
        print(f"{len(paths)} synthetic OAHEGA images in {tmp}; {args.repeats} repeats", flush=True)
        results["clean"], x = bench_clean(paths, args.repeats)
        print(f"clean: {results['clean']['ratio']:.2f}x", flush=True)
        results["training"] = bench_training(folder, x, args.epochs, args.repeats, workers)
        print(f"training: {results['training']['ratio']:.2f}x", flush=True)
        y = np.array(folder.targets)
        results["step"] = bench_step(x, y, tuple(folder.classes), args.repeats)
    results["machine"]["torch_threads"] = torch.get_num_threads()
    results["machine"]["load_average_end"] = [round(v, 2) for v in os.getloadavg()]
    write_json(args.out, results)
    print()
    print(table(results))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
