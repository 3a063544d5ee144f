"""Training speed of an ImageNet backbone (EfficientNet-Lite0, faces upsampled 48 -> 96 px inside
the model) on this CPU, in float32 and under bfloat16 autocast (train.amp bf16).

One training step = forward, loss, backward, Adam, on a batch of 64 faces already in memory, the
model in channels_last as training runs it. The two sides alternate, each for --seconds per
round, so that load from other processes hits both alike; the median images/s is reported with
the load average. bf16 is skipped on a CPU without native bfloat16 (device.cpu_has_bf16).

    python benchmarks/pretrained_bench.py [--seconds S] [--rounds R] [--out PATH]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from expressions.config import load_params
from expressions.core.atomic import write_json
from expressions.training import device
from expressions.training.model import build_model

ROOT = Path(__file__).resolve().parents[1]
BATCH, SIZE, INPUT_SIZE, CLASSES = 64, 48, 96, 4


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=12.0, help="per side and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "pretrained.json")
    return parser.parse_args()


def images_per_s(model: torch.nn.Module, amp: torch.dtype | None, seconds: float) -> float:
    """Training steps until `seconds` have passed (at least two); images per second."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randint(0, 256, (BATCH, 1, SIZE, SIZE)).float().div_(255)
    y = torch.randint(0, CLASSES, (BATCH,))
    cpu = torch.device("cpu")
    model.train()
    steps, start = 0, time.perf_counter()
    while steps < 2 or time.perf_counter() - start < seconds:
        with device.autocast(cpu, amp):
            loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        steps += 1
    return steps * BATCH / (time.perf_counter() - start)


def main() -> int:
    args = parse_args()
    device.set_threads(0)
    base = load_params(ROOT / "params.yaml").variant("main").model
    spec = dataclasses.replace(base, arch="efficientnet_lite0", input_size=INPUT_SIZE)
    torch.manual_seed(0)
    model = build_model(spec, CLASSES, SIZE).to(memory_format=torch.channels_last)
    sides = {"fp32": None}
    if device.cpu_has_bf16():
        sides["bf16"] = torch.bfloat16
    load_start = [round(v, 2) for v in os.getloadavg()]
    for amp in sides.values():  # warm-up: oneDNN builds its kernels for each dtype
        images_per_s(model, amp, 0)
    speeds: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(args.rounds):
        for name, amp in sides.items():
            speeds[name].append(images_per_s(model, amp, args.seconds))
    result = {
        "arch": "efficientnet_lite0",
        "input_size": INPUT_SIZE,
        "batch_size": BATCH,
        "images_per_s": {name: statistics.median(v) for name, v in speeds.items()},
        "torch_threads": torch.get_num_threads(),
        "load_average": {"start": load_start, "end": [round(v, 2) for v in os.getloadavg()]},
    }
    write_json(args.out, result)
    rates = ", ".join(f"{name} {v:.0f} img/s" for name, v in result["images_per_s"].items())
    print(
        f"efficientnet_lite0 training, batch {BATCH}, {SIZE} px upsampled to {INPUT_SIZE} px, "
        f"channels_last, {torch.get_num_threads()} threads: {rates}; load average "
        f"{result['load_average']['start']} at start, {result['load_average']['end']} at end"
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
