"""A trained model as ONNX: runs with onnxruntime alone, carrying what it needs to be used.

The file's metadata holds the class names, image size, input scaling, temperature, whether
predictions average the mirror image and where its training data came from (`origins`), so a user with only the runtime (no torch, no project
checkout) feeds it correctly. The batch axis is dynamic.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch

from expressions.core.atomic import atomic_path
from expressions.training.model_file import LoadedModel

INPUT_SCALING = "grayscale uint8 pixels / 255, shape [batch, 1, size, size]; the model normalises"
OPSET = 17


def export_onnx(loaded: LoadedModel, target: Path) -> None:
    """Write the model (eval mode, CPU) to `target` as ONNX with its metadata, atomically."""
    import onnx  # export-time only: the runtime extra does not need it

    variant, temperature = loaded.variant, loaded.temperature
    model = loaded.model.to("cpu", memory_format=torch.contiguous_format).eval()
    size = variant.image_size
    with atomic_path(target) as tmp, warnings.catch_warnings():
        # the TorchScript exporter warns that it is legacy, and that an even kernel's padding
        # slice cannot be constant-folded; neither changes the file (tests compare outputs)
        warnings.simplefilter("ignore", (DeprecationWarning, UserWarning))
        torch.onnx.export(
            model,
            (torch.zeros(1, 1, size, size),),
            str(tmp),
            dynamo=False,  # the TorchScript exporter needs no onnxscript and gives one file
            input_names=["pixels"],
            output_names=["logits"],
            dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=OPSET,
        )
        proto = onnx.load(str(tmp))
        meta = {
            "classes": json.dumps(list(variant.classes)),
            "image_size": str(size),
            "input_scaling": INPUT_SCALING,
            "temperature": repr(float(temperature)),
            "tta_flip": "true" if variant.train.tta_flip else "false",
            "tta_crops": "true" if variant.train.tta_crops else "false",
            "crop": repr(float(variant.train.tta_crop)),
            "variant": variant.name,
            "output": "logits; probabilities = softmax(logits / temperature)",
        }
        if loaded.origins is not None:
            meta["origins"] = json.dumps(loaded.origins, sort_keys=True)
        for key, value in meta.items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        proto.producer_name = "expressions"
        onnx.save(proto, str(tmp))
