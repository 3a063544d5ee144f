"""The model's way out of the pipeline: ONNX export, calibration, the release folder and its
model card."""
