"""export@<variant>: models/<variant>/seed-<seed>/model.pt -> model.onnx beside it (the first of
train.seeds, as dvc.yaml runs it).

The ONNX file has a dynamic batch axis and carries the class names, image size, input scaling,
temperature and mirror averaging in its metadata, so onnxruntime alone can use it.
"""

from expressions.core import cli, paths
from expressions.release.export import export_onnx
from expressions.training.model_file import load_model


def main(argv: list[str]) -> None:
    name, seed = cli.run_arguments(__doc__, argv)
    source = paths.model(name, seed)
    loaded = load_model(source)
    target = paths.onnx_model(name, seed)
    export_onnx(loaded, target)
    print(f"export: {source} -> {target}")


if __name__ == "__main__":
    cli.run(main)
