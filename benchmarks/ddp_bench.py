"""Training images/s with 1 and 2 processes, side by side, through the stage's own launcher.

Each run is `python stages/train.py bench` with runtime.processes set to N, so the timed code path
is the one `dvc repro` takes (torch.distributed's elastic launcher, Gloo on CPU, NCCL on GPUs).
The data is random 48 px images in memory; the model is `main` from params.yaml. On a 2-core CPU
two processes cannot beat one (they split the same cores); the number that matters there is how
little the second process costs. On a machine with one GPU per process it is the speed-up.

    python benchmarks/ddp_bench.py [--images N] [--epochs E] [--repeats R] [--out PATH]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from expressions.config import load_params, read_yaml, set_dotted, write_yaml
from expressions.core.atomic import write_json
from expressions.data.dataset import Merged, save_merged

ROOT = Path(__file__).resolve().parents[1]
SPEED = re.compile(r"training: (\d+) images/s")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=4000, help="training images (default 4000)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2, help="runs per process count, alternated")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "ddp.json")
    return parser.parse_args()


def write_inputs(work: Path, images: int, epochs: int, counts: list[int]) -> None:
    """configs/bench.json (params.yaml's main variant) and a random dataset of `images`."""
    variant = load_params(ROOT / "params.yaml").variant("main")
    rng = np.random.default_rng(0)
    n = images * 10 // 7  # 70 % train, 10 % validation, 20 % test
    size = variant.image_size
    x = rng.integers(0, 256, (n, size, size), dtype=np.uint8)
    y = rng.integers(0, len(variant.classes), n).astype(np.int64)
    split = np.repeat(np.array([0, 1, 2], np.uint8), [images, n // 10, n - images - n // 10])
    save_merged(work / "data" / "merged" / "dataset.npz", Merged(x, y, split, variant.classes))
    for processes in counts:
        spec = dataclasses.replace(variant.train, epochs=epochs)
        bench = dataclasses.replace(variant, name=f"p{processes}", train=spec)
        (work / "configs").mkdir(exist_ok=True)
        (work / "configs" / f"p{processes}.json").write_text(bench.to_json())


def run(work: Path, processes: int) -> float:
    """One training run with `processes` workers; its images/s as rank 0 reports it."""
    params = read_yaml(ROOT / "params.yaml")
    set_dotted(params, "runtime.processes", processes)  # the train stage reads it from here
    write_yaml(work / "params.yaml", params)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    script = ROOT / "stages" / "train.py"
    done = subprocess.run(
        [sys.executable, str(script), f"p{processes}"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    found = SPEED.search(done.stdout)
    if done.returncode != 0 or not found:
        raise SystemExit(
            f"error: training with {processes} processes failed:\n{done.stderr[-2000:]}"
        )
    return float(found.group(1))


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="ddp-bench-") as tmp:
        work = Path(tmp)
        write_inputs(work, args.images, args.epochs, args.processes)
        speeds: dict[int, list[float]] = {p: [] for p in args.processes}
        for _ in range(args.repeats):  # alternate, so machine load hits every count alike
            for processes in args.processes:
                speeds[processes].append(run(work, processes))
    medians = {p: statistics.median(s) for p, s in speeds.items()}
    base = medians[args.processes[0]]
    print(
        f"training images/s, {args.images} images x {args.epochs} epochs, model main, "
        f"{os.cpu_count()} CPU cores, CUDA: {torch.cuda.is_available()}"
    )
    print("| processes | images/s (median) | runs | vs first |")
    print("| ---: | ---: | --- | ---: |")
    for p, speed in medians.items():
        runs = ", ".join(f"{s:.0f}" for s in speeds[p])
        print(f"| {p} | {speed:.0f} | {runs} | {speed / base:.2f}x |")
    write_json(
        args.out,
        {
            "images": args.images,
            "epochs": args.epochs,
            "cpus": os.cpu_count(),
            "cuda": torch.cuda.is_available(),
            "machine": platform.machine(),
            "load_average": os.getloadavg(),
            "images_per_s": {str(p): s for p, s in speeds.items()},
            "median": {str(p): s for p, s in medians.items()},
        },
    )


if __name__ == "__main__":
    main()
