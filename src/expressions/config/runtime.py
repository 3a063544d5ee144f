"""params.yaml `runtime`: how fast a run goes, never what it learns.

These knobs live apart from `train` so that no stage's result depends on them: they are not in
configs/<variant>.json, not in model.pt, not in a checkpoint's fingerprint, and no stage declares
them in dvc.yaml. Changing one re-runs nothing that is built (`dvc status` stays clean); the next
training that runs for another reason runs with it. What they can change is the order of
floating-point sums: on this 2-core CPU the default data's variants trained on 1 thread ended
0.3-1.4 points from their 2-thread runs (main 0.762 against 0.760, tuned 0.920 against 0.906),
inside each variant's 95 % interval of about +-2 points. The same recipe, other bits: a run is
bit-identical only on the same machine with the same runtime (docs/RESULTS.md, seeds).
"""

from __future__ import annotations

from dataclasses import dataclass

from expressions.config.fields import bounded, choice

KEYS = ("threads", "workers", "device", "processes")  # once train's, in older model.pt files


@dataclass(frozen=True, kw_only=True)
class RuntimeSpec:
    threads: int = bounded(0, 1024, default=0)  # torch CPU threads; 0 = one per CPU core
    workers: int = bounded(0, 64, default=0)  # data-loader processes; 0 = in the training process
    device: str = choice("auto", "cpu", "cuda", default="auto")
    processes: int | str = 1  # data-parallel training processes here; 'auto' = one per GPU
