"""``helix pool get`` streams a video's frames to OUT GOP by GOP (as helix-transcode does):
the same bytes as writing the frames all decoded first, and memory bounded by the item's
packets, not by frames x frame size (metadata may claim a picture of up to 8192x8192)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from helix_media.archive import pool
from helix_media.archive.pool.get import item_video_info
from helix_media.archive.pool.source import read_item_metadata
from helix_media.benchmarks._fuzz_targets import CATALOGUE_COPIES, FORGED_CHUNK, metadata_strands
from helix_media.media.pipe_output import StdoutSink, by_time
from helix_media.media.video_io import VideoSink
from helix_media.strandio.container_reader import read_dnapkt
from helix_media.strandio.strand_files import write_strands

HELIX = str(Path(sys.executable).parent / "helix")
linux = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM")


def _clip(path: Path, frames: int, size: int) -> None:
    """A moving gradient, ``size`` x ``size``, 24 fps (16-frame GOPs once archived)."""
    y, x = np.mgrid[0:size, 0:size] * (256 // size)
    base = np.stack([x, y, (x + y) // 2], axis=2).clip(0, 255).astype(np.uint8)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=24)
        s.width, s.height, s.pix_fmt = size, size, "yuv420p"
        for i in range(frames):
            for p in s.encode(av.VideoFrame.from_ndarray(np.roll(base, i, 1), format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)


def _pool(d: Path, frames: int, size: int) -> Path:
    _clip(d / "clip.mp4", frames, size)
    (d / "notes.txt").write_bytes(b"pool notes\n" * 40)
    p = d / "pool.dnapkt"
    pool.add_items(
        str(p), [str(d / "notes.txt"), str(d / "clip.mp4")], codec="bitstream", redundancy=0,
        progress=False,
    )  # fmt: skip
    return p


@pytest.fixture(scope="module")
def multi_gop(tmp_path_factory) -> Path:
    return _pool(tmp_path_factory.mktemp("stream"), 80, 64)  # 5 GOPs


def _written_whole(p: Path, tmp: Path, name: str, **rng) -> bytes:
    """What ``pool get`` wrote before it streamed: every frame decoded (decode_item), then
    written to a VideoSink of the metadata's size."""
    r = pool.decode_item(str(p), "clip.mp4", **rng)
    out = tmp / name
    with VideoSink(out, item_video_info(r), audio_params=r.audio_params) as sink:
        for frame in [*r.frames, *r.audio_frames]:
            sink.write(frame)
    return out.read_bytes()


@pytest.mark.parametrize("rng", [{}, {"start": 0.9, "duration": 1.5}])
def test_pool_get_writes_the_bytes_of_the_frames_all_decoded_first(multi_gop, tmp_path, rng):
    out = tmp_path / "streamed.mp4"
    r = pool.get_item(str(multi_gop), "clip.mp4", str(out), **rng)
    assert out.read_bytes() == _written_whole(multi_gop, tmp_path, "whole.mp4", **rng)
    assert r.report.complete and not r.concealed
    first = 21 if rng else 0  # 0.9 s at 24 fps: frames 21..57 are shown in the range
    assert r.first_frame == first and r.frames == range(first, 58 if rng else 80)
    assert len(pool.range_units(r.meta, 0, 80)[0]) == 5  # GOPs of 16 frames
    if rng:
        assert len(r.stats["units"]) == 3  # the GOPs of frames 16..63


def test_pool_get_to_stdout_writes_the_same_stream_as_before(multi_gop, tmp_path):
    got = subprocess.run(
        [HELIX, "pool", "get", str(multi_gop), "clip.mp4", "-"], capture_output=True, check=True
    )
    r = pool.decode_item(str(multi_gop), "clip.mp4")
    info = item_video_info(r)
    fd = os.open(tmp_path / "before.mkv", os.O_WRONLY | os.O_CREAT)
    try:
        with StdoutSink(fd, None, info, r.audio_params) as sink:
            for frame in by_time(r.frames, r.audio_frames, info):
                sink.write(frame)
    finally:
        os.close(fd)
    assert got.stdout == (tmp_path / "before.mkv").read_bytes()
    assert b"80 frames from 0" in got.stderr


def _forge(d: Path, size: int, *, decodable: bool) -> Path:
    """The pool with clip.mp4's metadata claiming a ``size`` x ``size`` picture: its codec
    claims to decode pictures of that size (``decodable``: refused, the coded picture is
    smaller), or its data strands are left out, so every frame is concealed by a black frame
    of that size. Built as the metadata fuzz target builds its inputs (item metadata past
    the others, the catalogue pointing at it)."""
    p = d / "pool.dnapkt"
    header, strands = read_dnapkt(p)
    source = pool.PoolSource(str(p))
    cat = pool.read_catalogue(source)
    items, parts, at = cat.to_json()["items"], [], 0
    for k, it in enumerate(cat.items):  # `pool add` wrote each item's metadata then its data
        n_meta = it.metadata[1] * it.metadata[2]
        meta_strands, data = (
            strands[at : at + n_meta],
            strands[at + n_meta : at + n_meta + it.data[1]],
        )
        at += n_meta + it.data[1]
        if it.name != "clip.mp4":
            parts += [meta_strands, data]
            continue
        meta = copy.deepcopy(read_item_metadata(source, it)[1])
        meta["video"]["width"] = meta["video"]["height"] = size
        if decodable:
            meta["codec_params"]["width"] = meta["codec_params"]["height"] = size
        forged = metadata_strands(json.dumps(meta).encode(), FORGED_CHUNK, it.metadata[2])
        items[k]["metadata"] = [FORGED_CHUNK, len(forged) // it.metadata[2], it.metadata[2]]
        parts += [forged, data] if decodable else [forged]
    catalogue = {"format": "helix-pool", "version": 1, "generation": 0, "items": items}
    parts.append(metadata_strands(json.dumps(catalogue).encode(), 0, CATALOGUE_COPIES))
    out = d / f"forged-{'decoded' if decodable else 'lost'}.dnapkt"
    write_strands(out, np.concatenate(parts), header)
    return out


#: ``helix ARGS`` that writes its peak RSS (kB, VmHWM: this process's own, not the parent's
#: that getrusage folds in across fork and exec) to the file its first argument names
_MEASURED = """
import atexit, sys
from helix_media.cli import main
def peak(path=sys.argv.pop(1)):
    with open("/proc/self/status") as f:
        kb = next(line.split()[1] for line in f if line.startswith("VmHWM:"))
    with open(path, "w") as f:
        f.write(kb)
atexit.register(peak)
sys.exit(main())
"""


def _peak_rss_mb(tmp: Path, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    """``helix ARGS`` in a child process: its peak RSS (MB) and its result."""
    where = tmp / "peak_kb"
    r = subprocess.run(
        [sys.executable, "-c", _MEASURED, str(where), *args],
        capture_output=True,
        check=False,
        cwd=tmp,  # the installed package, as the helix script imports it
    )
    return int(where.read_text()) / 1024, r


@linux
@pytest.mark.slow
def test_pool_get_memory_is_bounded_by_packets_not_frames(tmp_path):
    """300 frames a forged metadata blows up to 640x640 (1.2 MB each in RGB): writing them
    all decoded first took 200-650 MB over a file item's get; streamed, one GOP's frames and
    the encoder's lookahead (tens of MB). A codec picture larger than the coded one (decoded
    frames padded up to the claim) is refused before any frame (tests/test_forged_size.py)."""
    p = _pool(tmp_path, 300, 32)
    base, r = _peak_rss_mb(
        tmp_path, "pool", "get", str(p), "notes.txt", str(tmp_path / "notes.out")
    )
    assert r.returncode == 0
    for decodable in (False, True):
        forged = _forge(tmp_path, 640, decodable=decodable)
        out = tmp_path / f"out-{decodable}.mp4"
        peak, r = _peak_rss_mb(tmp_path, "pool", "get", str(forged), "clip.mp4", str(out))
        if decodable:  # the codec's 640x640 picture coded at 64x64: damaged parameters
            assert r.returncode == 1 and b"codec parameters are damaged" in r.stderr, r.stderr
            assert not out.exists()
        else:  # every frame concealed: exit 3, the loss said
            assert b"300 frames from 0" in r.stdout
            assert r.returncode == 3 and b"300 of 300 frames concealed" in r.stderr
            with av.open(str(out)) as c:
                assert (c.streams.video[0].width, c.streams.video[0].frames) == (640, 300)
        assert peak - base < 120, f"{peak:.0f} MB at peak, {base:.0f} MB for a file item"
