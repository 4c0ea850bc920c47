"""Small test clips written with plain PyAV, shared by the test modules."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def write_clip(path, kind="gradient", frames=12, size=(96, 64), fps=12, audio=False) -> Path:
    """A small H.264 clip: a moving 'gradient' (default), 'black' or 'noise' frames,
    optionally with a 440 Hz stereo tone. One encoder thread: the same bytes every run."""
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=Fraction(fps))
        vs.width, vs.height, vs.pix_fmt = size[0], size[1], "yuv420p"
        vs.options = {"crf": "18"}
        vs.thread_count = 1
        if audio:
            aus = out.add_stream("aac", rate=48000)
            aus.layout = "stereo"
        for i in range(frames):
            if kind == "black":
                img = np.zeros((size[1], size[0], 3), np.uint8)
            elif kind == "noise":
                img = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
            else:
                x = np.linspace(0, 255, size[0])[None, :, None] + 8 * i
                img = np.broadcast_to(x % 256, (size[1], size[0], 3)).astype(np.uint8)
            for p in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(p)
        if audio:
            t = np.arange(48000 * frames // fps) / 48000
            tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for k in range(0, len(t), 1024):
                chunk = np.stack([tone[k : k + 1024]] * 2)
                af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
                af.sample_rate, af.pts = 48000, k
                for p in aus.encode(af):
                    out.mux(p)
            for p in aus.encode(None):
                out.mux(p)
        for p in vs.encode(None):
            out.mux(p)
    return Path(path)


def frames_of(path) -> list[np.ndarray]:
    """Every frame of a video file, as RGB arrays."""
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def write_lossless(path, frames: np.ndarray, fps: int = 24) -> Path:
    """(n, H, W, 3) uint8 RGB frames written losslessly (FFV1), to compare decodings with."""
    with av.open(str(path), "w") as c:
        s = c.add_stream("ffv1", rate=Fraction(fps))
        s.width, s.height, s.pix_fmt = frames.shape[2], frames.shape[1], "bgr0"
        for a in frames:
            c.mux(s.encode(av.VideoFrame.from_ndarray(a, format="rgb24")))
        c.mux(s.encode(None))
    return Path(path)
