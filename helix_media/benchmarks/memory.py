"""Peak memory of decoding a long video: from a ``.dnapkt`` and from simulated reads.

    helix bench memory [--minutes 5] [--size 640x360] [--coverage 30] [--redundancy 0.1]

Makes a synthetic clip (moving gradients and noise, 24 fps) of that length, then encodes it
with the default codec, simulates reads of its strands and decodes it both ways, each step in a
fresh process, and prints each one's peak resident memory (``ru_maxrss``) and time. Frames
stream GOP by GOP, so memory grows with the strands and reads held, not with the frames.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def synthetic_clip(path: Path, seconds: float, width: int, height: int) -> int:
    """A clip with motion and texture, written with x264 (fast); returns its frame count."""
    n = int(seconds * 24)
    y, x = np.mgrid[0:height, 0:width]
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 12, (height, width, 3), dtype=np.uint8)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=Fraction(24))
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        s.options = {"preset": "ultrafast", "crf": "20"}
        for i in range(n):
            img = np.stack([(x + 3 * i) % 256, (y + 2 * i) % 256, (x + y + i) % 256], -1)
            frame = np.clip(img.astype(np.int16) + np.roll(texture, i, axis=1), 0, 255)
            c.mux(s.encode(av.VideoFrame.from_ndarray(frame.astype(np.uint8), format="rgb24")))
        c.mux(s.encode(None))
    return n


#: run argv[1:] and print its peak RSS (KiB): a fresh wrapper per measurement, so the maximum
#: over its children is the command's own
_WRAP = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], stdout=subprocess."
    "DEVNULL).returncode; print(r, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def measure(cmd: list[str]) -> tuple[float, float, int]:
    """Run ``cmd`` in a fresh process: (its peak resident memory in MB, seconds, exit status;
    3 = done but data lost)."""
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _WRAP, *cmd], check=True, capture_output=True)
    status, kib = map(int, done.stdout.split()[-2:])
    return kib / 1024, time.perf_counter() - t, status


def run(*, minutes: float, width: int, height: int, coverage: float, redundancy: float) -> int:
    """Print the table for a synthetic clip of ``minutes`` at ``width`` x ``height``."""
    helix, transcode = (str(Path(sys.executable).parent / n) for n in ("helix", "helix-transcode"))
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        clip, dna, reads = tmp / "clip.mp4", tmp / "clip.dnapkt", tmp / "reads.fastq.gz"
        n = synthetic_clip(clip, minutes * 60, width, height)
        encode = [transcode, str(clip), str(dna), "--redundancy", str(redundancy), "-q"]
        rows = [("encode (default codec)", *measure(encode))]
        cov = ["--coverage", str(coverage)]
        rows.append(("simulate reads", *measure([helix, "simulate", str(dna), str(reads), *cov])))
        for name, src in (("decode from .dnapkt", dna), ("decode from reads", reads)):
            out = tmp / f"{len(rows)}.mkv"
            rows.append((name, *measure([transcode, str(src), str(out), "-q"])))
        strands = _strands(dna)
    print(
        f"{minutes:g} min of {width}x{height} at 24 fps ({n} frames) -> {strands} strands; "
        f"reads at {coverage:g}x"
    )
    print("| step | peak RSS MB | seconds | exit status |")
    print("|---|---|---|---|")
    for name, mb, seconds, status in rows:
        print(f"| {name} | {mb:.0f} | {seconds:.1f} | {status} |")
    return 0


def _strands(path: Path) -> int:
    from helix_media.strandio.container_reader import DnapktReader

    with DnapktReader(path) as r:
        return r.count
