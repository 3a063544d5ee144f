"""export@<variant>: models/<variant>/model.pt -> models/<variant>/model.onnx.

The ONNX file has a dynamic batch axis and carries the class names, image size, input scaling,
temperature and mirror averaging in its metadata, so onnxruntime alone can use it.
"""

from expressions.core import cli, paths
from expressions.release.export import export_onnx
from expressions.training.model_file import load_model


def main(argv: list[str]) -> None:
    parser = cli.parser(__doc__)
    parser.add_argument("variant", help="a variant named in params.yaml variants")
    args = parser.parse_args(argv)
    source = paths.model(args.variant)
    loaded = load_model(source)
    target = paths.onnx_model(args.variant)
    export_onnx(loaded, target)
    print(f"export: {source} -> {target}")


if __name__ == "__main__":
    cli.run(main)
