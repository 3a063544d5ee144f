"""train@<variant>: configs/<variant>.json + data/merged/dataset.npz -> models/<variant>/model.pt.

Also writes metrics/training/<variant>.json (kept epoch, speed: a timing, not a DVC metric),
dvclive/<variant>/ (per-epoch losses and accuracy) and, while it runs, the resume
point checkpoints/<variant>/last.pt. Runs as one process, or unchanged under
`torchrun --nproc_per_node N stages/train.py <variant>`.
"""

from pathlib import Path

from expressions.config import load_variant
from expressions.core import cli, paths
from expressions.core.atomic import write_json
from expressions.core.sourcefiles import local_modules
from expressions.data.dataset import load_merged
from expressions.training.checkpoint import fingerprint
from expressions.training.distributed import launch
from expressions.training.launch import run_workers, under_launcher, worker_count
from expressions.training.loop import train, training_summary
from expressions.training.model_file import save_model


def main(argv: list[str]) -> None:
    parser = cli.parser(__doc__)
    parser.add_argument("variant", help="a variant named in params.yaml variants")
    name = parser.parse_args(argv).variant
    variant = load_variant(name)
    checkpoint = paths.checkpoint(name)
    processes = worker_count(variant.train.processes)
    if processes > 1 and not under_launcher():  # start the workers; they re-enter main()
        return run_workers(Path(__file__), argv, processes, checkpoint)
    code = [Path(__file__), *local_modules(Path(__file__))]
    merged = load_merged(paths.DATASET)
    with launch(variant.train.device) as runtime:
        trained = train(
            variant,
            merged,
            fingerprint=fingerprint(variant, paths.DATASET, code),
            checkpoint=checkpoint,
            live_dir=paths.LIVE / name,
            runtime=runtime,
        )
        if runtime.main:
            save_model(paths.model(name), trained.model, variant, origins=merged.origins)
            write_json(paths.training_log(name), training_summary(trained))
            checkpoint.unlink(missing_ok=True)  # kept only to resume an interrupted run
            print(f"training: {trained.images_per_s:.0f} images/s; kept epoch {trained.kept_epoch}")


if __name__ == "__main__":
    cli.run(main)
