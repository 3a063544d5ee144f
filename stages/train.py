"""train@<variant>-<seed>: configs/<variant>.json + data/merged/dataset.npz
-> models/<variant>/seed-<seed>/model.pt, one run of the variant with one of train.seeds.

Also writes metrics/training/<variant>/seed-<seed>.json (the kept epoch), timings/train/<variant>/
seed-<seed>.json (images/s and seconds: beside the outputs, not one of them),
dvclive/<variant>/seed-<seed>/ (per-epoch losses and accuracy) and, while it runs, the resume
point checkpoints/<variant>/seed-<seed>/last.pt. params.yaml's runtime says how (threads,
workers, device, processes), undeclared in dvc.yaml: it changes no result. Runs as one process,
or unchanged under `torchrun --nproc_per_node N stages/train.py <variant> --seed <seed>`.
"""

from pathlib import Path

from expressions.config import load_params, load_run
from expressions.core import cli, paths
from expressions.core.atomic import write_json
from expressions.core.sourcefiles import local_modules
from expressions.data.dataset import load_merged
from expressions.training.checkpoint import fingerprint
from expressions.training.distributed import launch
from expressions.training.launch import run_workers, under_launcher, worker_count
from expressions.training.loop import train, training_speed, training_summary
from expressions.training.model_file import save_model


def main(argv: list[str]) -> None:
    name, seed = cli.run_arguments(__doc__, argv)
    run = load_run(name, seed)
    knobs = load_params().runtime  # how fast, not what is learnt: no stage declares it
    checkpoint = paths.checkpoint(name, seed)
    processes = worker_count(knobs.processes)
    if processes > 1 and not under_launcher():  # start the workers; they re-enter main()
        return run_workers(Path(__file__), argv, processes, checkpoint)
    code = [Path(__file__), *local_modules(Path(__file__))]
    merged = load_merged(paths.DATASET)
    with launch(knobs) as runtime:
        trained = train(
            run,
            merged,
            fingerprint=fingerprint(run, paths.DATASET, code),
            checkpoint=checkpoint,
            live_dir=paths.live(name, seed),
            runtime=runtime,
        )
        if runtime.main:
            save_model(paths.model(name, seed), trained.model, run, origins=merged.origins)
            write_json(paths.training_log(name, seed), training_summary(trained))
            write_json(paths.timing("train", name, seed), training_speed(trained))
            checkpoint.unlink(missing_ok=True)  # kept only to resume an interrupted run
            print(f"training: {trained.images_per_s:.0f} images/s; kept epoch {trained.kept_epoch}")


if __name__ == "__main__":
    cli.run(main)
