"""What a trained variant gets wrong and what it looks at: confusion matrix, errors, feature maps.

The metrics JSON says how often a variant is right; these outputs show where it is wrong (which
classes it mixes up, on which faces, how sure it was) and what each conv block responds to, so two
variants can be compared by eye with `dvc plots diff`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from expressions.analysis.confusion import confused_pairs, confusion_counts, plot_confusion
from expressions.analysis.error_gallery import plot_errors
from expressions.analysis.feature_maps import feature_maps, pick_per_class, plot_feature_maps
from expressions.core.atomic import write_text
from expressions.core.errors import AnalysisError
from expressions.data.dataset import Merged

if TYPE_CHECKING:
    from torch import nn

PREDICTION_COLUMNS = ("index", "actual", "predicted", "confidence")


def read_predictions(path: Path | str, merged: Merged) -> pd.DataFrame:
    """predictions.csv, checked against the dataset: known classes, indices that are test rows."""
    path = Path(path)
    if not path.exists():
        raise AnalysisError(f"{path} not found; run the evaluate stage for this variant first")
    frame = pd.read_csv(path, keep_default_na=False)  # a class may be called "NA"
    missing = [c for c in PREDICTION_COLUMNS if c not in frame.columns]
    if missing:
        raise AnalysisError(f"{path} lacks column(s) {', '.join(missing)}")
    unknown = sorted(set(frame["actual"]).union(frame["predicted"]) - set(merged.classes))
    if unknown:
        raise AnalysisError(f"{path} names class {unknown[0]!r}, not one of {list(merged.classes)}")
    index = frame["index"].to_numpy()
    if len(index) and (index.min() < 0 or index.max() >= len(merged.y)):
        raise AnalysisError(f"{path} has an index outside the {len(merged.y)} dataset rows")
    return frame


def analyze(
    variant: str,
    model: nn.Module,
    merged: Merged,
    predictions: pd.DataFrame,
    out_dir: Path | str,
    *,
    seed: int = 0,
) -> list[Path]:
    """confusion.png, confused_pairs.csv, errors.png and feature_maps.png for one variant."""
    out = Path(out_dir)
    counts = confusion_counts(predictions["actual"], predictions["predicted"], merged.classes)
    pairs = confused_pairs(counts, merged.classes)
    write_text(out / "confused_pairs.csv", pairs.to_csv(index=False))
    rows = pick_per_class(merged, seed)
    by_index = predictions.set_index("index")
    captions = [
        f"pred {by_index.at[r, 'predicted']} {by_index.at[r, 'confidence'] * 100:.0f}%"
        if r in by_index.index
        else f"test row {r}"
        for r in rows
    ]
    labels = [merged.classes[merged.y[r]] for r in rows]
    maps = feature_maps(model, merged.x[rows]) if hasattr(model, "blocks") else []
    return [
        plot_confusion(
            counts,
            merged.classes,
            out / "confusion.png",
            title=f"{variant}: confusion matrix on the test set",
        ),
        out / "confused_pairs.csv",
        plot_errors(predictions, merged, out / "errors.png", title=variant),
        plot_feature_maps(
            merged.x[rows],
            labels,
            captions,
            maps,
            merged.classes,
            out / "feature_maps.png",
            title=f"{variant}, seed {seed}",
        ),
    ]
