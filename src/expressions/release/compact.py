"""A model's files at half the size: weights stored as float16, computed with as float32.

The package ships its FER2013 model inside the wheel, where every megabyte counts for everyone who
installs it. Storing the weights as float16 halves model.pt and model.onnx; loading casts them
back (load_state_dict copies into float32 parameters; in the ONNX graph a Cast node before each
weight, which onnxruntime folds away when the session starts), so the arithmetic is unchanged
and only the weights' last bits differ (tests: probabilities within 1e-3).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from expressions.core.atomic import atomic_path
from expressions.training.model_file import read_model_file, write_model_file

SMALL = 1024  # values: tensors smaller than this stay float32 (BatchNorm statistics, biases)


def compact_model_file(source: Path, target: Path) -> None:
    """model.pt with its large float32 weights as float16 (read back by model_file.load_model)."""
    saved = read_model_file(source)
    saved["state_dict"] = {
        k: v.half() if v.dtype == torch.float32 and v.numel() >= SMALL else v
        for k, v in saved["state_dict"].items()
    }
    write_model_file(target, saved)


def compact_onnx(source: Path, target: Path) -> None:
    """model.onnx with its large float32 initializers stored as float16 behind Cast nodes."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    proto = onnx.load(str(source))
    graph = proto.graph
    casts = []
    for init in list(graph.initializer):
        values = numpy_helper.to_array(init)
        if values.dtype != np.float32 or values.size < SMALL:
            continue
        half = numpy_helper.from_array(values.astype(np.float16), f"{init.name}__fp16")
        graph.initializer.remove(init)
        graph.initializer.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT))
    for node in reversed(casts):  # before every node, so the graph stays topologically sorted
        graph.node.insert(0, node)
    with atomic_path(target) as tmp:
        onnx.save(proto, str(tmp))
