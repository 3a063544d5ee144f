"""Which model `expressions predict` and `serve` use, and why: the one --model names (a variant,
`release`, `fer2013`, a folder or a file) or by default this project's release when it learnt
from real faces, else the FER2013 model shipped in the package. The reason travels with the
choice, to the first line on stderr and the page's header.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from expressions.core import paths
from expressions.core.errors import PredictionError
from expressions.release.card import DRAWN, read_facts
from expressions.serving.classifier import Classifier, load_file

RELEASE = paths.RELEASE  # what `dvc repro release` writes
SHIPPED = "fer2013"  # the default model in the package: src/expressions/models/fer2013/
ACCURATE = "fer2013-accurate"  # its slower, more accurate sibling: src/expressions/models/<it>/
_VARIANT = re.compile(r"^[a-z][a-z0-9_]*$")


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def shipped_model(name: str = SHIPPED) -> Path:
    """A FER2013 model that ships inside the package (README: Use the model)."""
    return Path(str(resources.files("expressions"))) / "models" / name


def shipped_names() -> list[str]:
    """The models the package holds: each a folder with its card's facts."""
    folder = Path(str(resources.files("expressions"))) / "models"
    return sorted(p.parent.name for p in folder.glob("*/model_card.json"))


@dataclass(frozen=True)
class Chosen:
    path: Path  # the model file to load
    why: str  # why it is the one in use, for the line predict and serve print


def _release_is_real() -> bool:
    card = read_facts(RELEASE)
    return bool(card and card.data.real_faces)


def default_model() -> tuple[Path, str]:
    """models/release when it was trained on real faces; else the shipped FER2013 model. The
    reason is said in words (the page's header shows it too), naming the folder looked in."""
    if RELEASE.is_dir() and _release_is_real():
        return RELEASE, "this project's release (models/release), trained on real faces"
    if RELEASE.is_dir():
        why = "this project's release (models/release) learnt from drawn faces only"
    else:
        why = f"there is no release of a project in {Path.cwd()} (no models/release)"
    return shipped_model(), f"the FER2013 model shipped with the package, since {why}"


def variants_built() -> list[str]:
    return sorted({p.parent.parent.name for p in paths.MODELS.glob("*/seed-*/model.pt")})


def models_here() -> list[str]:
    """What --model can name in this folder: the package's models, the variants built here,
    the release, the students (`distill`)."""
    built = variants_built() + (["release"] if RELEASE.is_dir() else [])
    students = sorted(p.parent.name for p in paths.STUDENTS.glob("*/model.pt"))
    return [*shipped_names(), *built, *(f"{paths.STUDENTS}/{s}" for s in students)]


def unknown_model(name: str) -> str:
    """One sentence: what --model could have been, the nearest first."""
    known = models_here()
    near = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    guess = f"did you mean {near[0]}? " if near else ""
    return (
        f"no model {name!r} in {Path.cwd()}: {guess}the models here are {', '.join(known)}; "
        "or pass a model folder, a .pt or a .onnx file"
    )


def first_run(folder: Path) -> Path:
    """A variant's folder (models/<variant>/) holds a run per seed: the lowest seed's; any other
    folder is itself."""
    runs = [p for p in folder.glob("seed-*") if p.name.removeprefix("seed-").isdigit()]
    return min(runs, key=lambda p: int(p.name.removeprefix("seed-"))) if runs else folder


def choose_model(model: str | Path | None, runtime: str = "auto") -> Chosen:
    """--model: a variant name (`tuned`), `release`, `fer2013`, a model folder, a .pt or a .onnx
    file; None = default_model().

    A folder holding both files is run with onnxruntime when it is installed (`auto`): on a CPU
    it classifies faces 2-3x faster than PyTorch and agrees with it to 1e-4 (tests/test_export.py);
    `runtime="torch"` gives the very numbers `evaluate` computes, `runtime="onnx"` insists on the
    ONNX file. The file is what `serve` looks beside for the model card.
    """
    if model is None:
        path, why = default_model()
    elif str(model) in shipped_names() and not Path(str(model)).exists():
        path = shipped_model(str(model))
        why = f"asked for by name: {model}, a FER2013 model shipped with the package"
    elif str(model) == "release" and not Path("release").exists():
        path, why = RELEASE, "asked for by name: this project's release (models/release)"
    else:
        path, why = Path(model), f"asked for by name: {model}"
        if not path.exists() and _VARIANT.match(str(model)):
            path = paths.MODELS / str(model)
            if not path.exists():
                raise PredictionError(unknown_model(str(model)))
    if path.is_dir():
        path = first_run(path)
    return Chosen(_model_file(path, runtime), why)


def _model_file(path: Path, runtime: str) -> Path:
    """The file to load from a folder (or the file given), as `runtime` asks."""
    if not path.exists() and path == RELEASE:
        raise PredictionError(
            f"no model at {path} yet; `dvc repro release` builds it, running the whole pipeline "
            "first (about 6 minutes on a 2-core CPU), or pass --model fer2013"
        )
    if not path.exists():
        raise PredictionError(
            f"no model at {path}; pass --model a variant name, fer2013, a model folder or a "
            ".onnx file"
        )
    if not path.is_dir():
        return path
    pt, onnx, int8 = path / "model.pt", path / "model.onnx", path / "model.int8.onnx"
    if runtime == "onnx" and not onnx.exists():
        raise PredictionError(
            f"--runtime onnx: {path} holds no model.onnx; build it with `dvc repro export` or "
            "use --runtime torch"
        )
    use_torch = runtime == "torch" or (runtime == "auto" and not _installed("onnxruntime"))
    if runtime == "auto" and not use_torch and int8.exists():
        return int8  # kept only where it lost at most its tolerance of float32's val accuracy
    if onnx.exists() and not (use_torch and pt.exists()):
        return onnx
    if pt.exists():
        return pt
    raise PredictionError(f"{path} holds neither model.pt nor model.onnx")


def in_use(chosen: Chosen, classifier: Classifier) -> list[str]:
    """The lines predict and serve print on stderr: which model and why, and a warning when it
    learnt from drawn faces only."""
    lines = [f"model: {chosen.path} ({chosen.why})"]
    if classifier.real_faces is False:
        lines.append(f"warning: {chosen.path} was {DRAWN}")
    return lines


def load_classifier(
    model: str | Path | None, batch_size: int = 32, runtime: str = "auto"
) -> Classifier:
    """The model `choose_model` finds, run by onnxruntime (.onnx) or PyTorch (.pt)."""
    return load_file(choose_model(model, runtime).path, batch_size)
