"""evaluate@<variant>: the model on the test split -> metrics/test/<variant>.json, plots/<variant>/.

Reads configs/<variant>.json, models/<variant>/model.pt, data/merged/dataset.npz and its
manifest.csv (which dataset each image comes from). Writes metrics/test/<variant>.json (Table 2:
accuracy, macro and micro P/R/F1, what `dvc metrics` compares), metrics/tables/<variant>.json
(Table 1 per class, the test split by source dataset, test images, speed),
plots/<variant>/confusion.csv
(for DVC's confusion template) and plots/<variant>/predictions.csv (one row per test image with
every class probability, for the confusion figure and the error gallery).
"""

from expressions.analysis.evaluation import predict_split, predictions_frame
from expressions.analysis.metrics import (
    by_source,
    classification_metrics,
    format_tables,
    split_headline,
)
from expressions.config import load_variant
from expressions.core import cli, paths
from expressions.core.atomic import write_json, write_text
from expressions.data.dataset import load_merged, load_sources
from expressions.training.device import make_deterministic, pick_device, set_threads
from expressions.training.model_file import load_model


def main(argv: list[str]) -> None:
    parser = cli.parser(__doc__)
    parser.add_argument("variant", help="a variant named in params.yaml variants")
    name = parser.parse_args(argv).variant
    spec = load_variant(name).train
    make_deterministic()
    set_threads(spec.threads)
    device = pick_device(spec.device)
    loaded = load_model(paths.model(name), device)
    model, variant = loaded.model, loaded.variant
    merged = load_merged(paths.DATASET)
    predictions = predict_split(model, merged, spec, device)
    frame = predictions_frame(predictions, variant.classes)
    frame["dataset"] = load_sources(paths.MANIFEST, len(merged.y))[predictions.index]
    metrics = classification_metrics(predictions.actual, predictions.predicted, variant.classes)
    metrics["by_source"] = by_source(predictions.actual, predictions.predicted, frame["dataset"])
    metrics["speed"] = {"images_per_s": round(predictions.images_per_s, 1)}
    headline, tables = split_headline(metrics)
    write_json(paths.test_metrics(name), headline)
    write_json(paths.tables(name), tables)
    plots = paths.PLOTS / name
    write_text(plots / "confusion.csv", frame[["actual", "predicted"]].to_csv(index=False))
    write_text(plots / "predictions.csv", frame.to_csv(index=False, float_format="%.6f"))
    print(format_tables(metrics))
    print(f"Test Accuracy of the model on the test images: {100 * metrics['accuracy']:.2f} %")


if __name__ == "__main__":
    cli.run(main)
