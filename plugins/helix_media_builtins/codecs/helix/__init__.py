"""The HELIX codec: ONNX runtime, models, entropy coding, masking, tiling and training."""
