"""Which model `expressions predict` and `serve` use, and why: the one --model names (a variant,
`release`, `fer2013`, a folder or a file) or by default this project's release when it learnt
from real faces, else the FER2013 model shipped in the package. The reason travels with the
choice, to the first line on stderr and the page's header.
"""

from __future__ import annotations

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
SHIPPED = "fer2013"  # the model in the package: src/expressions/models/fer2013/
_VARIANT = re.compile(r"^[a-z][a-z0-9_]*$")


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def shipped_model() -> Path:
    """The FER2013 model that ships inside the package (README: Using the model)."""
    return Path(str(resources.files("expressions"))) / "models" / SHIPPED


@dataclass(frozen=True)
class Chosen:
    path: Path  # the model file to load
    why: str  # why it is the one in use, for the line predict and serve print


def _release_is_real() -> bool:
    facts = read_facts(RELEASE)
    return bool(facts and facts.get("data", {}).get("real_faces"))


def default_model() -> tuple[Path, str]:
    """models/release when it was trained on real faces; else the shipped FER2013 model."""
    if RELEASE.is_dir() and _release_is_real():
        return RELEASE, "models/release, this project's release, trained on real faces"
    if RELEASE.is_dir():
        why = "models/release was trained on drawn faces; --model release to use it anyway"
    else:
        why = "there is no models/release (`dvc repro release` builds one)"
    return shipped_model(), f"the FER2013 model shipped with the package: {why}"


def variants_built() -> list[str]:
    return sorted({p.parent.parent.name for p in paths.MODELS.glob("*/seed-*/model.pt")})


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
    elif str(model) == SHIPPED and not Path(SHIPPED).exists():
        path, why = shipped_model(), "--model fer2013: the FER2013 model shipped with the package"
    elif str(model) == "release" and not Path("release").exists():
        path, why = RELEASE, "--model release: this project's release (`dvc repro release`)"
    else:
        path, why = Path(model), f"--model {model}"
        if not path.exists() and _VARIANT.match(str(model)):
            path = paths.MODELS / str(model)
            if not path.exists():
                built = ", ".join(variants_built()) or "none yet"
                raise PredictionError(
                    f"no model {model!r} here: {path} does not exist (models built here: "
                    f"{built}); build it with `dvc repro train@{model}`, or pass fer2013 (the "
                    "model shipped with the package), a model folder or a .onnx file"
                )
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
    pt, onnx = path / "model.pt", path / "model.onnx"
    if runtime == "onnx" and not onnx.exists():
        raise PredictionError(
            f"--runtime onnx: {path} holds no model.onnx; build it with `dvc repro export` or "
            "use --runtime torch"
        )
    use_torch = runtime == "torch" or (runtime == "auto" and not _installed("onnxruntime"))
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
