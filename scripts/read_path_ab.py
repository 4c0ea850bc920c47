"""Time this checkout's read path against another commit's on the same reads, alternating.

    git worktree add /tmp/ref 1032ac2
    python -m venv /tmp/ref/.venv && /tmp/ref/.venv/bin/pip install -e /tmp/ref
    python scripts/read_path_ab.py /tmp/ref --profile nanopore-r9 --coverage 10 --runs 2

The reference runs in its own install (``REF/.venv``): the plugins are found through the
installed entry points, so a ``PYTHONPATH`` alone would mix this checkout's plugins into the
other's core. The strands (a 100 kB random file, no outer code) are made by each checkout's
own encoder and must agree, so one read set serves both; the reads come from this checkout's
simulator. Each run is a fresh process that loads the compiled kernels on 3,000 reads, then
times ``ReadProcessor(framer).process(reads)``: wall and CPU seconds, and the estimates it
made.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

ENCODE = """
import sys, tempfile, numpy as np
from pathlib import Path
from helix_media.archive.encode import encode_file
rng = np.random.default_rng(0)
with tempfile.TemporaryDirectory() as tmp:
    p = Path(tmp) / "f.bin"
    p.write_bytes(rng.integers(0, 256, int(sys.argv[2]) * 1000, dtype=np.uint8).tobytes())
    np.save(sys.argv[1], np.asarray(encode_file(str(p), redundancy=0).strands, dtype=np.uint8))
"""

SIMULATE = """
import sys, numpy as np
from dataclasses import replace
from helix_media.channel.profiles import profile_channel
from helix_media.channel.sequencing import simulate
channel = replace(profile_channel(sys.argv[2], coverage=float(sys.argv[3])), seed=1)
r = simulate(np.load(sys.argv[1]), channel)
np.savez(sys.argv[4], bases=r.bases, offsets=r.offsets)
"""

PROCESS = """
import sys, time, os, numpy as np
from helix_media import plugins
from helix_media.readpath.reads import ReadProcessor
z = np.load(sys.argv[1])
b, o = z["bases"], z["offsets"]
reads = [b[o[i] : o[i + 1]] for i in range(len(o) - 1)]
framer = plugins.get_framer()
ReadProcessor(framer).process(reads[:3000])
c, w = os.times(), time.perf_counter()
est = ReadProcessor(framer).process(reads)
c2, w2 = os.times(), time.perf_counter()
cpu = c2.user + c2.system - c.user - c.system
print(f"{len(reads)} {w2 - w:.3f} {cpu:.3f} {len(est.strands)}")
"""


def _python(tree: Path) -> str:
    """The interpreter of ``tree``'s install: this one's, or ``tree/.venv``'s."""
    if tree == HERE:
        return sys.executable
    python = tree / ".venv/bin/python"
    if not python.is_file():
        sys.exit(f"no {python}: install the reference first (see the top of this script)")
    return str(python)


def _run(tree: Path, code: str, *args: str) -> str:
    done = subprocess.run(
        [_python(tree), "-c", code, *args],
        cwd=tree,  # (python -c puts the working folder first on the path)
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reference", type=Path, help="the other checkout (a git worktree)")
    ap.add_argument("--profile", default="nanopore-r9")
    ap.add_argument("--coverage", type=float, default=10.0)
    ap.add_argument("--kb", type=int, default=100, help="random file size in kB (100)")
    ap.add_argument("--runs", type=int, default=2, help="timed runs per checkout (2)")
    args = ap.parse_args()
    trees = {"reference": args.reference.resolve(), "this": HERE}
    with tempfile.TemporaryDirectory() as tmp:
        strands = {}
        for name, tree in trees.items():
            strands[name] = f"{tmp}/{name}.npy"
            _run(tree, ENCODE, strands[name], str(args.kb))
        import numpy as np

        a, b = (np.load(f) for f in strands.values())
        if a.shape != b.shape or not (a == b).all():
            print("the two checkouts encode different strands: no common read set", file=sys.stderr)
            return 1
        reads = f"{tmp}/reads.npz"
        _run(HERE, SIMULATE, strands["this"], args.profile, str(args.coverage), reads)
        print(f"{args.profile} {args.coverage:g}x, {args.kb} kB random file")
        print(f"{'checkout':>10} {'reads':>7} {'wall s':>7} {'reads/s':>8} {'CPU s':>6} estimates")
        for _ in range(args.runs):
            for name, tree in trees.items():
                n, wall, cpu, est = _run(tree, PROCESS, reads).split()
                rate = int(n) / float(wall)
                print(
                    f"{name:>10} {n:>7} {float(wall):7.2f} {rate:8,.0f} {float(cpu):6.2f} {est:>9}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
