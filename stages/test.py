"""test@<variant>-<seed>: one run's model on the test split -> metrics/runs/<variant>/seed-<seed>/.

Reads models/<variant>/seed-<seed>/model.pt (its settings inside), params.yaml's runtime (threads,
device: how fast, not what it computes), data/merged/dataset.npz and
its manifest.csv (which dataset each image comes from). Writes test.json (Table 1 and Table 2 of
this run, the test split by source dataset) and predictions.csv (one row per test image
with every class probability) into metrics/runs/<variant>/seed-<seed>/; evaluate@<variant>
gathers the seeds.
"""

from expressions.analysis.evaluation import predict_split, predictions_frame
from expressions.analysis.metrics import by_source, classification_metrics, format_tables
from expressions.config import load_params
from expressions.core import cli, paths
from expressions.core.atomic import write_json, write_text
from expressions.data.dataset import load_merged, load_sources
from expressions.training.device import make_deterministic, pick_device, set_threads
from expressions.training.model_file import load_model


def main(argv: list[str]) -> None:
    name, seed = cli.run_arguments(__doc__, argv)
    knobs = load_params().runtime
    make_deterministic()
    set_threads(knobs.threads)
    device = pick_device(knobs.device)
    loaded = load_model(paths.model(name, seed), device)
    merged = load_merged(paths.DATASET)
    predictions = predict_split(loaded.model, merged, loaded.variant, device)
    classes = loaded.variant.classes
    frame = predictions_frame(predictions, classes)
    frame["dataset"] = load_sources(paths.MANIFEST, len(merged.y))[predictions.index]
    metrics = classification_metrics(predictions.actual, predictions.predicted, classes)
    metrics["by_source"] = by_source(predictions.actual, predictions.predicted, frame["dataset"])
    write_json(paths.run_metrics(name, seed), metrics)
    write_json(
        paths.timing("test", name, seed), {"images_per_s": round(predictions.images_per_s, 1)}
    )
    csv = frame.to_csv(index=False, float_format="%.6f")
    write_text(paths.run_predictions(name, seed), csv)
    print(format_tables(metrics))
    print(f"Test Accuracy of the model on the test images: {100 * metrics['accuracy']:.2f} %")


if __name__ == "__main__":
    cli.run(main)
