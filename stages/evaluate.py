"""evaluate@<variant>: the model on the test split -> metrics/<variant>.json and plots/<variant>/.

plots/<variant>/confusion.csv feeds DVC's confusion template; predictions.csv (one row per test
image with every class probability) feeds the confusion figure and the error gallery.
"""

from pathlib import Path

from expressions import cli
from expressions.analysis.evaluation import predict_split, predictions_frame
from expressions.analysis.metrics import classification_metrics, format_tables
from expressions.atomic import write_json, write_text
from expressions.config import VariantConfig
from expressions.data.dataset import load_merged
from expressions.training.device import make_deterministic, pick_device, set_threads
from expressions.training.model import load_model


def main(argv: list[str]) -> None:
    (name,) = argv
    spec = VariantConfig.from_json(Path(f"configs/{name}.json").read_text()).train
    make_deterministic()
    set_threads(spec.threads)
    device = pick_device(spec.device)
    model, variant = load_model(Path("models") / name / "model.pt", device)
    predictions = predict_split(model, load_merged(Path("data/merged/dataset.npz")), spec, device)
    frame = predictions_frame(predictions, variant.classes)
    metrics = classification_metrics(predictions.actual, predictions.predicted, variant.classes)
    metrics["speed"] = {"images_per_s": round(predictions.images_per_s, 1)}
    write_json(Path("metrics") / f"{name}.json", metrics)
    plots = Path("plots") / name
    write_text(plots / "confusion.csv", frame[["actual", "predicted"]].to_csv(index=False))
    write_text(plots / "predictions.csv", frame.to_csv(index=False, float_format="%.6f"))
    print(format_tables(metrics))
    print(f"Test Accuracy of the model on the test images: {100 * metrics['accuracy']:.2f} %")


if __name__ == "__main__":
    cli.run(main)
