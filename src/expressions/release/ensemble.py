"""Several exported models as one ONNX file: their calibrated probabilities averaged inside the
graph, so `expressions predict`, `serve` and onnxruntime alone run an ensemble as one model.

Each member keeps its own temperature: the graph computes mean_i softmax(logits_i / T_i) and
returns its log as `logits` with temperature 1, so softmax(logits) is that mean exactly. The
members must read the same input (the same image size and scaling); each may upsample it to its
own network's size inside its graph. The test-time views (the metadata's tta_flip, tta_crops,
crop) are the ensemble's own: the average over views happens outside, as for any model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from expressions.core.atomic import atomic_path

SAME = ("classes", "image_size", "input_scaling")  # what every member must agree on


def ensemble_onnx(members: Sequence[Path], target: Path, views: dict[str, str]) -> None:
    """Write the ensemble of `members` (model.onnx files) to `target`; `views` sets its
    tta_flip, tta_crops and crop metadata."""
    import onnx
    from onnx import TensorProto, compose, helper

    protos = [onnx.load(str(m)) for m in members]
    metas = [{p.key: p.value for p in proto.metadata_props} for proto in protos]
    for key in SAME:
        found = {meta.get(key) for meta in metas}
        if len(found) > 1:
            raise ValueError(f"the members' {key} differ ({', '.join(map(str, found))})")
    nodes, inits, probs = [], [], []
    for i, (proto, meta) in enumerate(zip(protos, metas, strict=True)):
        graph = compose.add_prefix_graph(proto.graph, f"m{i}/")
        for node in graph.node:  # every member reads the one shared input
            node.input[:] = ["pixels" if n == f"m{i}/pixels" else n for n in node.input]
        nodes += graph.node
        inits += graph.initializer
        temperature = helper.make_tensor(
            f"m{i}/T", TensorProto.FLOAT, [], [float(meta.get("temperature", 1.0))]
        )
        inits.append(temperature)
        nodes += [
            helper.make_node("Div", [f"m{i}/logits", f"m{i}/T"], [f"m{i}/tempered"]),
            helper.make_node("Softmax", [f"m{i}/tempered"], [f"m{i}/p"], axis=1),
        ]
        probs.append(f"m{i}/p")
    inits.append(helper.make_tensor("count", TensorProto.FLOAT, [], [float(len(members))]))
    nodes += [
        helper.make_node("Sum", probs, ["p_sum"]),
        helper.make_node("Div", ["p_sum", "count"], ["p_mean"]),
        helper.make_node("Log", ["p_mean"], ["logits"]),
    ]
    first = protos[0].graph
    graph = helper.make_graph(nodes, "ensemble", list(first.input), list(first.output), inits)
    model = helper.make_model(graph, opset_imports=list(protos[0].opset_import))
    model.ir_version = protos[0].ir_version  # what the members were written for
    meta = {
        **metas[0],
        **views,
        "temperature": "1.0",
        "variant": "+".join(meta.get("variant", "?") for meta in metas),
        "output": "log of the members' mean calibrated probabilities; softmax(logits) is it",
    }
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    with atomic_path(target) as tmp:
        onnx.save(model, str(tmp))
