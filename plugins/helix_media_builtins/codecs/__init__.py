"""Built-in codecs (``register_codecs``): bitstream (its encoder, decoder, GOP packing,
settings and CRF search in ``bitstream_*``), helix (the whole HELIX codec, its ONNX model
sets as package data in ``helix/onnx_models/`` and its training in ``helix/train/``),
jpeg-dna (``jpeg_dna_image``), mjpeg (both on ``intra``) and raw."""
