"""export@<variant>: models/<variant>/model.pt -> models/<variant>/model.onnx (with metadata)."""

import argparse

from expressions import cli, paths
from expressions.serving.export import export_onnx
from expressions.serving.torch_model import load_checkpoint


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        description="Export a trained variant to ONNX. Reads models/<variant>/model.pt; "
        "writes models/<variant>/model.onnx (dynamic batch axis; classes, image size and "
        "input scaling in its metadata)."
    )
    parser.add_argument("variant")
    args = parser.parse_args(argv)
    source = paths.model(args.variant)
    model, variant, temperature = load_checkpoint(source)
    target = paths.onnx_model(args.variant)
    export_onnx(model, variant, target, temperature)
    print(f"export: {source} -> {target}")


if __name__ == "__main__":
    cli.run(main)
