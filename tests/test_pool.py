"""Pools: three videos and two files in one pool, item by item, by time range, from reads."""

from __future__ import annotations

import av
import numpy as np
import pytest

from helix_media import plugins
from helix_media.archive import pool
from helix_media.channel.sequencing import Channel, simulate, write_reads
from helix_media.cli import main
from helix_media.errors import HelixError
from helix_media.strandio.strand_files import read_strands

FILES = {"notes.txt": b"pool notes\n" * 300, "table.csv": np.random.default_rng(5).bytes(4000)}
VIDEOS = ("a.mp4", "b.mp4", "c.mkv")


def _make_video(path, seed: int, frames: int = 72, fps: int = 24) -> None:
    """A tiny 64x64 clip (3 s at 24 fps: several 16-frame GOPs)."""
    y, x = np.mgrid[0:64, 0:64]
    base = np.stack([x * 4, y * 4, (x + y + 40 * seed) * 2], axis=2).clip(0, 255).astype(np.uint8)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = 64, 64, "yuv420p"
        for i in range(frames):
            img = np.roll(base, 2 * i, axis=1)
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("pool")
    for k, name in enumerate(VIDEOS):
        _make_video(d / name, k)
    for name, data in FILES.items():
        (d / name).write_bytes(data)
    p = str(d / "pool.dnapkt")
    pool.add_items(
        p, [str(d / n) for n in ("a.mp4", "b.mp4", "notes.txt")], redundancy=0.1, codec="bitstream"
    )
    # a second `pool add` appends strands and a new catalogue generation
    before = len(read_strands(p)[1])
    cat, _, added = pool.add_items(
        p, [str(d / "c.mkv"), str(d / "table.csv")], redundancy=0.1, codec="bitstream"
    )
    assert len(read_strands(p)[1]) == before + added and cat.generation == 1
    reads = simulate(np.stack(read_strands(p)[1]), Channel(coverage=20, dropout=0.01, seed=4))
    write_reads(str(d / "reads.fastq.gz"), reads)
    whole = {n: pool.decode_item(p, n) for n in VIDEOS}
    return d, p, whole


def _arrays(frames):
    return [f.to_ndarray(format="rgb24") for f in frames]


def test_catalogue_lists_every_item(built):
    d, p, _ = built
    cat = pool.read_catalogue(pool.PoolSource(p))
    assert [it.name for it in cat.items] == ["a.mp4", "b.mp4", "notes.txt", "c.mkv", "table.csv"]
    assert [it.kind for it in cat.items] == ["video", "video", "file", "video", "file"]
    ranges = sorted((it.data[0], it.data[0] + it.data[1]) for it in cat.items)
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))  # disjoint


def test_items_round_trip_from_strands(built):
    d, p, whole = built
    for name, data in FILES.items():
        assert pool.decode_item(p, name).data == data
    for name in VIDEOS:
        r = whole[name]
        assert len(r.frames) == 72 and not r.concealed
        with av.open(str(d / name)) as c:
            src = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
        mse = np.mean(
            [
                np.mean((a.astype(float) - b) ** 2)
                for a, b in zip(src, _arrays(r.frames), strict=True)
            ]
        )
        assert 10 * np.log10(255**2 / mse) > 30, name
    # the pool gives exactly what a standalone archive of the same video gives
    from helix_media.archive.decode import decode_media
    from helix_media.archive.encode import encode_video

    encode_video(str(d / "a.mp4"), str(d / "alone.dnapkt"), redundancy=0.1, codec="bitstream")
    alone = decode_media(str(d / "alone.dnapkt"))
    assert all(
        np.array_equal(a, b)
        for a, b in zip(_arrays(alone.frames), _arrays(whole["a.mp4"].frames), strict=True)
    )


def test_time_range_touches_only_its_gops_and_returns_exactly_those_frames(built):
    d, p, whole = built
    r = pool.decode_item(p, "b.mp4", start=1.0, duration=2.0)
    assert r.first_frame == 24 and len(r.frames) == 48  # frames 24..71
    assert all(
        np.array_equal(a, b)
        for a, b in zip(_arrays(r.frames), _arrays(whole["b.mp4"].frames[24:72]), strict=True)
    )
    units, idx = pool.range_units(r.meta, 24, 72)
    assert [u[0] for u in units] == [1, 2, 3, 4]  # GOPs of 16 frames; GOP 0 not read
    assert r.touched["data"] == len(idx) < r.item.data[1]
    assert r.touched["metadata"] == r.item.metadata[1] * r.item.metadata[2]
    # a range inside one GOP reads that GOP only
    one = pool.decode_item(p, "b.mp4", start=0.1, duration=0.2)
    assert one.first_frame == 2 and len(one.frames) == 6  # frames 2..7 are shown in it
    assert one.touched["data"] == len(pool.range_units(one.meta, 2, 8)[1]) < r.touched["data"]
    cost = pool.range_cost(p, "b.mp4", 1.0, 2.0, 0.01)
    assert cost["data_strands"] == len(idx) and cost["gops"] == [1, 2, 3, 4]


def test_items_from_reads_of_the_whole_pool(built):
    d, p, whole = built
    reads = str(d / "reads.fastq.gz")
    source = pool.PoolSource(reads)
    for name, data in FILES.items():
        assert pool.decode_item(source, name).data == data
    r = pool.decode_item(pool.PoolSource(reads), "c.mkv")
    assert all(
        np.array_equal(a, b)
        for a, b in zip(_arrays(r.frames), _arrays(whole["c.mkv"].frames), strict=True)
    )
    # other items' reads were dropped by address before consensus
    assert source.read_reports["data"]["not_selected"] > source.read_reports["data"]["clustered"]
    ranged = pool.decode_item(pool.PoolSource(reads), "a.mp4", start=2.0, duration=1.0)
    assert all(
        np.array_equal(a, b)
        for a, b in zip(_arrays(ranged.frames), _arrays(whole["a.mp4"].frames[48:72]), strict=True)
    )


def test_own_primers_keep_items_apart(tmp_path):
    for name, data in FILES.items():
        (tmp_path / name).write_bytes(data)
    p = str(tmp_path / "p.dnapkt")
    cat, items, _ = pool.add_items(p, [str(tmp_path / n) for n in FILES], own_primers=True)
    pairs = {tuple(it.primers) for it in items}
    assert len(pairs) == 2
    strands = np.stack(read_strands(p)[1])
    for it in items:
        fr = plugins.get_framer(None, primer5=it.primers[0], primer3=it.primers[1])
        mine = strands[(strands[:, :20] == fr.primer5).all(1)]
        assert len(mine) == it.strands and fr.check(mine).ok(fr.constraints).all()
    reads = simulate(strands, Channel(coverage=15, seed=1))
    write_reads(str(tmp_path / "r.fastq"), reads)
    source = pool.PoolSource(str(tmp_path / "r.fastq"))
    assert pool.decode_item(source, "notes.txt").data == FILES["notes.txt"]


def test_errors(built, tmp_path, capsys):
    d, p, _ = built
    with pytest.raises(HelixError, match="no item"):
        pool.decode_item(p, "nope.mp4")
    with pytest.raises(HelixError, match="is a file"):
        pool.decode_item(p, "notes.txt", start=0, duration=1)
    with pytest.raises(HelixError, match="past the end"):
        pool.decode_item(p, "a.mp4", start=10, duration=1)
    with pytest.raises(HelixError, match="two items named"):
        pool.add_items(p, [str(d / "a.mp4")])
    out = tmp_path / "x.mp4"
    assert main(["pool", "get", p, "nope", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and len(err.splitlines()) == 1 and not out.exists()
    (tmp_path / "single.txt").write_bytes(b"x")
    from helix_media.archive.encode import encode_file

    encode_file(str(tmp_path / "single.txt"), str(tmp_path / "single.dnapkt"))
    assert main(["pool", "list", str(tmp_path / "single.dnapkt")]) == 1
    assert "not a pool" in capsys.readouterr().err


def test_cli(built, tmp_path, capsys):
    d, p, _ = built
    assert main(["pool", "list", p]) == 0
    assert "table.csv" in capsys.readouterr().out
    assert main(["pool", "get", p, "table.csv", str(tmp_path / "t.mp4")]) == 0
    assert (tmp_path / "t.mp4").read_bytes() == FILES["table.csv"]
    assert (
        main(
            ["pool", "get", p, "a.mp4", str(tmp_path / "a.mkv"), "--start", "1", "--duration", "1"]
        )
        == 0
    )
    with av.open(str(tmp_path / "a.mkv")) as c:
        assert sum(1 for _ in c.decode(video=0)) == 24
    assert main(["probe", p, "--item", "a.mp4", "--start", "1", "--duration", "1"]) == 0
    assert "strands to read" in capsys.readouterr().out


def test_probe_of_a_pool_summarizes_it(tmp_path, capsys):
    """Was a KeyError: a pool's metadata is its catalogue, not an archive's."""
    from clips import write_clip

    from helix_media.cli import main

    pool = tmp_path / "p.dnapkt"
    clip = write_clip(tmp_path / "a.mp4", frames=6, size=(64, 48))
    assert main(["pool", "add", str(pool), str(clip), "--codec", "bitstream", "-q"]) == 0
    capsys.readouterr()
    assert main(["probe", str(pool)]) == 0
    assert "a pool of 1 items" in capsys.readouterr().out
