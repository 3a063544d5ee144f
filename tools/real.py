"""The pipeline on real faces: FER2013 through the project's own stages, every shipped variant.

    python tools/real.py PATH [--classes 4|7] [--variants main tuned ...] [--epochs N]
                              [--seeds N] [--variant NAME=YAML ...] [--set KEY=VALUE ...] [--add]

PATH is FER2013 in the generic folder layout (`fer2013/<split>/<label>/<name>.jpg`), as a zip or
a folder. A scratch copy of the repository (git + dvc, like a fresh clone) gets a params.yaml
whose only dataset is PATH with the `folder` layout and the challenge's own train/val/test, and
the label map of the 4 classes (angry, happy, neutral, surprise) or of all 7. Then
`dvc repro evaluate@<variant>` runs download -> clean -> merge -> train -> evaluate for each
variant, exactly as `make repro` does on the synthetic data.

Writes bench-results/real-<classes>.json (per variant: test accuracy and macro F1, each the mean
over --seeds N runs with its sd and bootstrap 95 % interval, each run's numbers, the study's macro
F1, per-class recall, the first seed's validation accuracy and epochs, seconds to train and
evaluate, the precision it computed in, the date; the data preparation's seconds once; the
differences against the first variant in words) and real-<classes>.md (the tables of
docs/RESULTS.md). --set changes params.yaml for every variant (e.g. train.amp=bf16; a variant's own
override still wins). With --add, the variants already in real-<classes>.json that this run does not
repeat stay in it (one slow variant re-measured without re-running the others). Choose recipes
on val; test is what the README reports, once per recipe.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from expressions.analysis.report import comparisons
from expressions.analysis.seeds import read_headline
from expressions.config import load_params, read_yaml, set_dotted, yaml_value
from expressions.config.check import setting
from expressions.config.scratch import environment, scratch_project
from expressions.core import paths
from expressions.core.errors import ConfigError
from expressions.training.device import amp_dtype, pick_device, precision_name

ROOT = Path(__file__).resolve().parents[1]
CLASSES = {
    4: ["angry", "happy", "neutral", "surprise"],
    7: ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"],
}


def real_params(
    data: Path,
    classes: list[str],
    variants: list[str],
    epochs: int | None,
    extra: dict[str, dict] | None = None,
    settings: dict[str, object] | None = None,
) -> dict:
    """params.yaml with FER2013 as the only dataset, `extra` variants added and the dotted
    `settings` set; else as shipped."""
    params = read_yaml(ROOT / "params.yaml")
    params["variants"].update(extra or {})
    for dotted, value in (settings or {}).items():
        set_dotted(params, dotted, value)
    params["data"].update(source="local", datasets={"fer2013": "folder"})
    params["data"]["local"] = {"fer2013": str(data)}
    names = [c.capitalize() for c in classes]
    params["labels"] = {
        "classes": names,
        "map": {"fer2013": dict(zip(classes, names, strict=True))},
    }
    unknown = sorted(set(variants) - set(params["variants"]))
    if unknown:
        raise SystemExit(f"error: variant {unknown[0]!r} is not in params.yaml")
    params["variants"] = {v: params["variants"][v] for v in variants}
    if params["release"]["variant"] not in variants:  # not run here, but it must name a variant
        params["release"]["variant"] = variants[0]
    if epochs:  # a quick look: every variant's epochs capped
        params["train"]["epochs"] = min(params["train"]["epochs"], epochs)
        for override in params["variants"].values():
            train = (override or {}).get("train", {})
            if "epochs" in train:
                train["epochs"] = min(train["epochs"], epochs)
    return params


def run(cwd: Path, cmd: list[str]) -> None:
    """Run a command in the scratch project, its output streaming to the terminal; stop on
    failure."""
    if subprocess.run(cmd, cwd=cwd, env=environment()).returncode != 0:
        raise SystemExit(f"error: `{' '.join(cmd)}` failed in {cwd}")


def precision(project: Path, variant: str) -> str:
    """What train.amp resolved to for this variant on this machine (auto: bf16 where native)."""
    params = load_params(project / "params.yaml")
    amp, device = params.variant(variant).train.amp, params.runtime.device
    return precision_name(amp_dtype(amp, pick_device(device), verbose=False))


def variant_result(project: Path, variant: str, seconds: float, seed: int) -> dict:
    """One variant's numbers, read from the stages' own outputs; `seed`: the first run's."""

    def read(path: Path) -> dict:
        return json.loads((project / path).read_text())

    test = read_headline(project / paths.test_metrics(variant), variant)
    tables = read(paths.tables(variant))
    training = read(paths.training_log(variant, seed))
    timing = project / paths.timing("train", variant, seed)
    speed = json.loads(timing.read_text()) if timing.exists() else {}
    live = read(paths.live(variant, seed) / "metrics.json")  # the kept epoch's validation
    return {
        "test_accuracy": test["acc"],
        "test_accuracy_sd": test["acc_sd"],
        "macro_f1_sklearn": test["f1"],
        "macro_f1_sd": test["f1_sd"],
        "macro_f1_study": tables["macro"]["f1_study"],
        "seeds": test["seeds"],
        "intervals": tables["intervals"],
        "runs": tables["runs"],
        "recall": {c: m["recall"] for c, m in tables["per_class"].items()},
        "val_accuracy": live.get("val_acc"),
        "kept_epoch": training.get("kept_epoch"),
        "epochs_run": training.get("epochs_run"),
        "train_seconds": speed.get("seconds"),
        "seconds": round(seconds, 1),
        "precision": precision(project, variant),
        "measured": date.today().isoformat(),
    }


def earlier_variants(path: Path, data: str, classes: list[str]) -> dict:
    """--add: the variants of an earlier run on the same data and classes, or one sentence."""
    if not path.exists():
        return {}
    earlier = json.loads(path.read_text())
    if earlier.get("data") != data or earlier.get("classes") != classes:
        raise SystemExit(
            f"error: --add: {path} holds a run on {earlier.get('data')} with classes "
            f"{earlier.get('classes')}, not this one; use --out for another folder"
        )
    return earlier["variants"]


def resumable(stored: dict, wanted: dict) -> bool:
    """Whether a kept project can run `wanted`: the same params, and each wanted variant among its
    own with the same overrides (it may hold more variants, so the release may name another)."""
    rest = ("variants", "release")
    same = {k: v for k, v in stored.items() if k not in rest} == {
        k: v for k, v in wanted.items() if k not in rest
    }
    held = stored.get("variants", {})
    return same and all(v in held and held[v] == o for v, o in wanted["variants"].items())


def kept_project(scratch: Path, params: dict) -> bool:
    """Build the scratch project in `scratch`, or resume the one already there (its data and
    checkpoints) if it can run these params; whether it resumed."""
    if not (scratch / "dvc.yaml").exists():
        scratch.mkdir(parents=True, exist_ok=True)
        scratch_project(scratch, params)
        return False
    if not resumable(read_yaml(scratch / "params.yaml"), params):
        raise SystemExit(
            f"error: --keep {scratch} holds a project with other params.yaml; "
            "resume it with the same arguments, or give another folder"
        )
    print(f"resuming the project in {scratch}", file=sys.stderr)
    return True


def earlier_time(earlier: dict, variant: str, seeds: int) -> dict:
    """A resumed run re-reads a variant's numbers from the project (its code may be newer) but
    keeps the time of the run that trained it, when that run finished it with as many seeds."""
    row = earlier.get(variant, {})
    return {k: row[k] for k in ("seconds", "measured") if k in row and row.get("seeds") == seeds}


def parse_variant(text: str) -> tuple[str, dict]:
    """`name={model: {depth: 4}}` -> ("name", {"model": {"depth": 4}}), or one sentence why not."""
    name, sep, overrides = text.partition("=")
    try:
        value = yaml_value(overrides) if sep else None
    except ValueError as err:
        raise SystemExit(f"error: --variant {name}: its overrides are not YAML ({err})") from None
    if not name.isidentifier() or not isinstance(value, dict):
        raise SystemExit(f"error: --variant takes NAME={{model: ..., train: ...}}, not {text!r}")
    return name, value


def parse_setting(text: str) -> tuple[str, object]:
    """`train.amp=bf16` -> ("train.amp", "bf16"), read as `dvc exp run -S` reads it."""
    try:
        return setting(text)
    except ConfigError as err:
        raise SystemExit(f"error: --set takes KEY=VALUE, e.g. train.amp=bf16: {err}") from None


def spread(value: float, sd: float | None, seeds: int) -> str:
    return f"{value:.4f} ± {sd:.4f}" if seeds > 1 and sd is not None else f"{value:.4f}"


def interval(pair: list[float] | None) -> str:
    return "n/a" if not pair else f"[{pair[0]:.4f}, {pair[1]:.4f}]"


def markdown(results: dict, classes: int) -> str:
    head = ["variant", "seeds", "test accuracy", "95 % interval", "macro F1 (sklearn)"]
    head += ["95 % interval", "macro F1 (study)", "val accuracy", "epochs (kept/run)"]
    head += ["precision", "minutes"]
    lines = [f"FER2013, {classes} classes, the challenge's splits (test = PrivateTest)", ""]
    lines += ["| " + " | ".join(head) + " |", "| --- |" + " ---: |" * (len(head) - 1)]
    for name, r in results["variants"].items():
        n, ci = r.get("seeds", 1), r.get("intervals", {})
        val = "n/a" if r["val_accuracy"] is None else f"{r['val_accuracy']:.4f}"
        cells = [name, str(n), spread(r["test_accuracy"], r.get("test_accuracy_sd"), n)]
        cells += [interval(ci.get("accuracy"))]
        cells += [spread(r["macro_f1_sklearn"], r.get("macro_f1_sd"), n)]
        cells += [interval(ci.get("macro_f1")), f"{r['macro_f1_study']:.4f}", val]
        cells += [f"{r['kept_epoch']}/{r['epochs_run']}", r.get("precision", "fp32")]
        lines.append("| " + " | ".join([*cells, f"{r['seconds'] / 60:.1f}"]) + " |")
    for words in results.get("differences", {}).values():
        lines += ["", f"- {words['accuracy']} (accuracy); {words['macro_f1']} (macro F1)"]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="FER2013 as a zip or folder (fer2013/<split>/...)")
    parser.add_argument("--classes", type=int, choices=sorted(CLASSES), default=4)
    parser.add_argument("--variants", nargs="+", help="default: every variant in params.yaml")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=YAML",
        help="also run this variant: its overrides, e.g. "
        "'pretrained={model: {arch: efficientnet_lite0, pretrained: imagenet, input_size: 96}}'",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change params.yaml for this run, e.g. train.amp=bf16",
    )
    parser.add_argument("--epochs", type=int, help="cap every variant's epochs (a quick look)")
    parser.add_argument(
        "--seeds", type=int, default=1, help="train each variant N times, seeds 0..N-1 (default 1)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results")
    parser.add_argument(
        "--keep",
        type=Path,
        help="build the scratch project here and keep it; if it is already there, resume it "
        "(DVC skips the stages done, training picks up from its last checkpoint)",
    )
    parser.add_argument(
        "--add", action="store_true", help="keep the earlier run's other variants in the table"
    )
    args = parser.parse_args(argv)
    if not args.path.exists():
        raise SystemExit(f"error: {args.path} not found (FER2013 as a zip or a folder)")
    shipped = list(read_yaml(ROOT / "params.yaml")["variants"])
    extra = dict(map(parse_variant, args.variant))
    variants = [*(args.variants or ([] if extra else shipped)), *extra]
    settings = dict(map(parse_setting, args.set))
    if args.seeds < 1:
        raise SystemExit(f"error: --seeds must be 1 or more, not {args.seeds}")
    settings["train.seeds"] = list(range(args.seeds))
    data, classes = args.path.resolve(), CLASSES[args.classes]
    params = real_params(data, classes, variants, args.epochs, extra, settings)
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="real-"))
    resuming = kept_project(scratch, params)
    try:  # a bad --set or --variant: one sentence now, not a failed stage later
        load_params(scratch / "params.yaml")
    except ConfigError as err:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
        raise SystemExit(f"error: {err}") from None
    results = {
        "data": str(args.path),
        "classes": params["labels"]["classes"],
        "settings": settings,
        "cpus": os.cpu_count(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "variants": {},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"real-{args.classes}{'-quick' if args.epochs else ''}"
    earlier = {}
    if args.add or resuming:
        earlier = earlier_variants(stem.with_suffix(".json"), results["data"], results["classes"])
    if args.add:
        results["variants"] = {v: r for v, r in earlier.items() if v not in variants}
    start = time.perf_counter()
    run(scratch, ["dvc", "repro", "merge"])  # download -> clean -> merge, once for all variants
    results["data_seconds"] = round(time.perf_counter() - start, 1)
    for variant in variants:
        start = time.perf_counter()
        run(scratch, ["dvc", "repro", f"evaluate@{variant}"])
        seconds = time.perf_counter() - start
        results["variants"][variant] = variant_result(scratch, variant, seconds, 0)
        if resuming:
            results["variants"][variant] |= earlier_time(earlier, variant, args.seeds)
        results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
        stem.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
        stem.with_suffix(".md").write_text(markdown(results, args.classes))
    # every variant in the table that this project ran against the first, on the same test images
    compared = [v for v in results["variants"] if (scratch / "metrics" / "runs" / v).is_dir()]
    if len(compared) > 1:
        found = comparisons(scratch, compared, list(range(args.seeds)), results["classes"])
        results["differences"] = {
            v: {m: c[m]["sentence"] for m in ("accuracy", "macro_f1")} | {"mcnemar": c["mcnemar"]}
            for v, c in found.items()
        }
        stem.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
        stem.with_suffix(".md").write_text(markdown(results, args.classes))
    print(stem.with_suffix(".md").read_text())
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
