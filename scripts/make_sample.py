"""Make the bundled sample clip ``helix_media/data/sample.mp4`` reproducibly.

A slow camera pan with a slight zoom over scikit-image's ``astronaut`` photo (Eileen Collins,
NASA; "No known copyright restrictions, released into the public domain", NASA Great Images
database via scikit-image), 320x240, 24 fps, 48 frames, H.264 (libx264 CRF 18, yuv420p), with
a soft synthesized two-tone chord (A3 + E4, 48 kHz stereo, AAC) so the sample also exercises
the audio path. The clip is public domain too; see ``helix_media/data/SAMPLE_LICENSE.md``.

Needs the optional extra ``sample`` (scikit-image). Usage:
``python scripts/make_sample.py [OUT.mp4]``.
"""

from __future__ import annotations

import argparse
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from helix_media.resources import sample_clip

WIDTH, HEIGHT, FPS, FRAMES = 320, 240, 24, 48
SAMPLE_RATE = 48_000
DEFAULT_OUT = sample_clip()  # the package data file: helix_media/data/ in a checkout


def _ease(t: np.ndarray | float) -> np.ndarray | float:
    """Smoothstep: the camera starts and stops gently, like a real pan."""
    return t * t * (3 - 2 * t)


def video_frames() -> np.ndarray:
    """(FRAMES, HEIGHT, WIDTH, 3) uint8: the pan, rendered with cubic interpolation."""
    from skimage import data
    from skimage.transform import AffineTransform, warp

    photo = data.astronaut()
    frames = np.empty((FRAMES, HEIGHT, WIDTH, 3), np.uint8)
    for i in range(FRAMES):
        t = _ease(i / (FRAMES - 1))
        scale = 1.25 - 0.15 * t  # source pixels per output pixel: a slight zoom in
        cx, cy = 190 + 130 * t, 230 - 40 * t  # window centre in the photo
        # warp maps output coordinates to source coordinates (x, y order).
        tf = AffineTransform(
            scale=scale, translation=(cx - scale * WIDTH / 2, cy - scale * HEIGHT / 2)
        )
        img = warp(photo, tf, output_shape=(HEIGHT, WIDTH), order=3, mode="edge")
        frames[i] = np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)
    return frames


def audio_samples() -> np.ndarray:
    """(2, n) float32: A3 + E4 (a fifth), panned apart, faded in and out."""
    n = FRAMES * SAMPLE_RATE // FPS
    t = np.arange(n) / SAMPLE_RATE
    a3, e4 = np.sin(2 * np.pi * 220.0 * t), np.sin(2 * np.pi * 329.63 * t)
    fade = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.15)
    left, right = 0.12 * a3 + 0.06 * e4, 0.06 * a3 + 0.12 * e4
    return (np.stack([left, right]) * fade).astype(np.float32)


def write_sample(path: Path) -> None:
    with av.open(str(path), "w", format="mp4", options={"fflags": "+bitexact"}) as out:
        vs = out.add_stream("libx264", rate=FPS)
        vs.width, vs.height, vs.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        vs.codec_context.thread_count = 1  # one thread: the same bytes on every machine
        vs.options = {"crf": "18", "preset": "slow"}
        aus = out.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
        aus.bit_rate = 96_000
        for i, rgb in enumerate(video_frames()):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
        pcm = audio_samples()
        step = aus.codec_context.frame_size or 1024
        for start in range(0, pcm.shape[1], step):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(pcm[:, start : start + step]), format="fltp", layout="stereo"
            )
            frame.sample_rate, frame.pts = SAMPLE_RATE, start
            frame.time_base = Fraction(1, SAMPLE_RATE)
            out.mux(aus.encode(frame))
        out.mux(aus.encode(None))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    write_sample(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
