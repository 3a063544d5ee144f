"""model.pt, the one model file format: weights plus the settings that rebuild the network alone
(and, once released, the temperature that calibrates it). Everything that writes or reads one
comes here: the train stage, evaluation, the figures, export, release and `expressions predict`.

A model file is something people download and share, so it is read as data only
(`torch.load(..., weights_only=True)`): unpickling arbitrary objects would run whatever code the
file carries. Every way a file can fail is one sentence naming it and the command that rebuilds it.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from expressions.config import Run, VariantConfig
from expressions.core.atomic import atomic_path
from expressions.core.errors import ModelFileError
from expressions.data.origins import real_faces
from expressions.training.model import build_model


@dataclass(frozen=True)
class LoadedModel:
    model: nn.Module  # in eval mode
    run: Run  # the settings it was trained with, and its seed
    temperature: float = 1.0  # softmax(logits / temperature): 1.0 until release calibrates it
    origins: dict[str, str] | None = None  # dataset -> synthetic | kaggle | local; None: unknown

    @property
    def variant(self) -> VariantConfig:
        return self.run.variant

    @property
    def real_faces(self) -> bool | None:
        """Whether it learnt from photos of people only: False for drawn (synthetic) faces."""
        return None if self.origins is None else real_faces(self.origins)


def save_model(
    path: Path | str,
    model: nn.Module,
    run: Run,
    temperature: float | None = None,
    origins: dict[str, str] | None = None,
) -> None:
    """Weights contiguous and on the CPU, so the file depends on neither device nor memory
    format; written to a temporary name and renamed into place. `origins` says where each
    dataset it learnt from came from, so whoever uses the file can tell drawn faces from real."""
    saved: dict[str, Any] = {
        "config": run.to_json(),
        "state_dict": {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
    }
    if temperature is not None:
        saved["temperature"] = temperature
    if origins is not None:
        saved["origins"] = dict(origins)
    write_model_file(path, saved)


def write_model_file(path: Path | str, saved: dict[str, Any]) -> None:
    """The one writer of model.pt (save_model, and release's float16 copy of a read file):
    written to a temporary name and renamed into place."""
    with atomic_path(path) as tmp:
        torch.save(saved, tmp)


def rebuild_hint(path: Path) -> str:
    """The command that writes `path`: models/release/ comes from release,
    models/<variant>/seed-<seed>/ from train@<variant>-<seed>."""
    folder = path.parent.name
    if folder == "release":
        return "dvc repro release"
    if folder.startswith("seed-"):
        return f"dvc repro train@{path.parent.parent.name}-{folder.removeprefix('seed-')}"
    return "dvc repro train"


def read_model_file(path: Path | str) -> dict[str, Any]:
    """The saved dict (config, state_dict, optional temperature), or one sentence why not."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"no model file at {path}; build it with `{rebuild_hint(path)}`")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        reason = str(err).strip().splitlines()[0].removeprefix("Weights only load failed. ")
        raise ModelFileError(
            f"{path} holds pickled objects, not just weights, and is refused because loading it "
            f"could run code ({reason[:160]})"
        ) from None
    except Exception:  # torch.load raises many types for a file that is no checkpoint at all
        raise ModelFileError(
            f"{path} is not a PyTorch model file (it is truncated, or another kind of file); "
            f"rebuild it with `{rebuild_hint(path)}`"
        ) from None
    if not isinstance(saved, dict) or not {"config", "state_dict"} <= set(saved):
        raise ModelFileError(
            f"{path} is a PyTorch file but not a model saved by this project (it has no "
            "config and state_dict)"
        )
    return saved


def load_model(path: Path | str, device: str | torch.device = "cpu") -> LoadedModel:
    """The network in eval mode on `device`, its settings and its temperature."""
    saved = read_model_file(path)
    try:
        run = Run.from_json(saved["config"])
        variant = run.variant
        model = build_model(variant.model, len(variant.classes), variant.image_size)
        model.load_state_dict(saved["state_dict"])
    except Exception as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ModelFileError(
            f"{path} does not match its own settings ({first[:160]}); "
            f"rebuild it with `{rebuild_hint(Path(path))}`"
        ) from None
    return LoadedModel(
        model.to(device).eval(),
        run,
        float(saved.get("temperature", 1.0)),
        saved.get("origins"),
    )
