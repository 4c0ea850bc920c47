"""Faults: a killed process, a full disk. What the user had is never lost or half-written."""

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clips import write_clip

from helix_media.cli import main
from helix_media.resources import sample_clip

BIN = Path(sys.executable).parent
SAMPLE = sample_clip()


def _kill_while_writing(cmd: list[str], folder: Path) -> None:
    """Run ``cmd`` and SIGKILL it the moment its temporary output file appears in ``folder``
    (it is writing its output then), or let it finish if it is faster than we look."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None:
        if any(p.name.endswith(".tmp") for p in folder.iterdir()):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.001)
    proc.wait()


@pytest.mark.slow
def test_killed_transcode_leaves_no_partial_output(tmp_path):
    out = tmp_path / "s.dnapkt"
    _kill_while_writing([str(BIN / "helix-transcode"), str(SAMPLE), str(out)], tmp_path)
    # killed: no output at all; or it finished first: a whole, readable one
    assert not out.exists() or main(["verify", str(out)]) == 0


@pytest.mark.slow
def test_killed_pool_add_leaves_the_pool_unchanged_or_complete(tmp_path):
    pool = tmp_path / "p.dnapkt"
    clip = write_clip(tmp_path / "a.mp4", frames=6, size=(64, 48))
    assert main(["pool", "add", str(pool), str(clip), "--codec", "bitstream", "-q"]) == 0
    before = pool.read_bytes()
    _kill_while_writing([str(BIN / "helix"), "pool", "add", str(pool), str(SAMPLE)], tmp_path)
    assert main(["pool", "list", str(pool)]) == 0  # still a readable pool
    if pool.read_bytes() != before:  # it finished first: then both items are there
        assert main(["pool", "get", str(pool), "sample.mp4", str(tmp_path / "s.mkv")]) == 0


def _small_disk() -> None:
    """In the child: files may not grow past 4 KiB, and writing past it fails (EFBIG)
    instead of killing the process."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


@pytest.mark.slow
def test_full_disk_gives_one_line_error_and_no_file(tmp_path):
    clip = write_clip(tmp_path / "c.mp4", frames=24, size=(160, 120))
    out = tmp_path / "c.fasta"
    cmd = [str(BIN / "helix-transcode"), str(clip), str(out), "--codec", "bitstream", "-q"]
    r = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=_small_disk)
    assert r.returncode == 1
    assert r.stderr.startswith("error: cannot write") and r.stderr.count("\n") == 1
    assert os.listdir(tmp_path) == ["c.mp4"]  # no output, no temporary file
