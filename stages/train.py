"""train@<variant>: configs/<variant>.json + data/merged/dataset.npz -> models/<variant>/model.pt.

Also dvclive/<variant>/ (per-epoch losses and accuracy) and, while it runs, the resume point
checkpoints/<variant>/last.pt. Runs as one process, or unchanged under
`torchrun --nproc_per_node N stages/train.py <variant>`.
"""

from pathlib import Path

from expressions import cli
from expressions.config import VariantConfig
from expressions.data.dataset import load_merged
from expressions.training.distributed import launch
from expressions.training.launch import run_workers, under_launcher, worker_count
from expressions.training.loop import fingerprint, train
from expressions.training.model import save_model

DATASET = Path("data/merged/dataset.npz")


def main(argv: list[str]) -> None:
    (name,) = argv
    variant = VariantConfig.from_json(Path(f"configs/{name}.json").read_text())
    checkpoint = Path("checkpoints") / name / "last.pt"
    processes = worker_count(variant.train.processes)
    if processes > 1 and not under_launcher():  # start the workers; they re-enter main()
        return run_workers(Path(__file__), argv, processes, checkpoint)
    with launch(variant.train.device) as runtime:
        trained = train(
            variant,
            load_merged(DATASET),
            fingerprint=fingerprint(variant, DATASET),
            checkpoint=checkpoint,
            live_dir=Path("dvclive") / name,
            runtime=runtime,
        )
        if runtime.main:
            save_model(Path("models") / name / "model.pt", trained.model, variant)
            checkpoint.unlink(missing_ok=True)  # kept only to resume an interrupted run
            print(f"training: {trained.images_per_s:.0f} images/s; kept epoch {trained.kept_epoch}")


if __name__ == "__main__":
    cli.run(main)
