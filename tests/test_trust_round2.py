"""No silent loss, round 2 (issue 38): a pool's lost audio is reported, the demo never
replaces its input, FIFOs and devices are written to rather than replaced, a pool is one
pool under every name, and helix-transcode does not replace a pool by accident."""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import threading
from pathlib import Path

import numpy as np
import pytest
from archive_edits import without_streams
from clips import write_clip

from helix_media.archive import demo, pool
from helix_media.archive.encode import encode_file
from helix_media.archive.pool.source import read_item_metadata
from helix_media.cli import main, transcode_main
from helix_media.errors import HelixError
from helix_media.strandio import atomic
from helix_media.strandio.strand_files import read_strands, write_strands

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _err_lines(capsys) -> list[str]:
    return capsys.readouterr().err.splitlines()


# -- 1. a pool item's lost audio is reported as a lone archive's is -----------------------------
@pytest.fixture(scope="module")
def audio_clip(tmp_path_factory):
    """The same clip with sound as a lone archive and as a pool item, both without an outer
    code (so that a lost strand stays lost): (dir, archive, pool)."""
    d = tmp_path_factory.mktemp("audio")
    clip = write_clip(d / "talk.mp4", frames=24, size=(64, 48), audio=True)
    archive = d / "talk.dnapkt"
    options = ["--codec", "bitstream", "--redundancy", "0", "-q"]
    assert transcode_main([str(clip), str(archive), *options]) == 0
    p = d / "pool.dnapkt"
    pool.add_items(str(p), [str(clip)], codec="bitstream", redundancy=0.0)
    return d, archive, p


def _pool_without(p: Path, dst: Path, name: str, stream: str, count: int | None) -> None:
    """A copy of pool ``p`` without the data strands of item ``name``'s ``stream`` (or only
    the first ``count`` of them), picked by address as a sequencing run would miss them."""
    source = pool.PoolSource(str(p))
    item = pool.read_catalogue(source).find(name)
    fr, meta = read_item_metadata(source, item)
    s = meta["streams"][stream]
    gone = np.arange(s["first_strand"], s["first_strand"] + s["strands"])[:count]
    header, seqs = read_strands(str(p))
    strands = np.stack(seqs)
    keys = fr.cluster_keys(strands[:, len(fr.primer5) : fr.cluster_span])
    drop = np.isin(keys, fr.address_keys(item.data_addresses(gone)))
    assert drop.sum() == len(gone)
    write_strands(str(dst), strands[~drop], header)


@pytest.mark.parametrize("count", [None, 5], ids=["all-audio", "5-audio-strands"])
def test_pool_get_reports_lost_audio_exactly_as_a_lone_archive_decode(
    audio_clip, tmp_path, capsys, count
):
    d, archive, p = audio_clip
    without_streams(archive, tmp_path / "hurt.dnapkt", ["audio"], count=count)
    _pool_without(p, tmp_path / "hurt_pool.dnapkt", "talk.mp4", "audio", count)
    capsys.readouterr()
    assert transcode_main([str(tmp_path / "hurt.dnapkt"), str(tmp_path / "a.mp4"), "-q"]) == 3
    lone = _err_lines(capsys)
    rc = main(
        ["pool", "get", str(tmp_path / "hurt_pool.dnapkt"), "talk.mp4", str(tmp_path / "b.mp4")]
    )
    pooled = _err_lines(capsys)
    assert rc == 3 and (tmp_path / "b.mp4").exists()  # written, and said to be incomplete
    assert len(pooled) == 1 and pooled[0].startswith("warning: data lost: ")
    assert "audio units lost" in pooled[0] and "data strands missing" in pooled[0]
    assert pooled == lone  # the same item, the same loss, the same words


def test_pool_get_of_a_whole_item_and_a_range_exit_0(audio_clip, tmp_path, capsys):
    _, _, p = audio_clip
    assert main(["pool", "get", str(p), "talk.mp4", str(tmp_path / "w.mp4")]) == 0
    out = tmp_path / "r.mkv"
    assert (
        main(["pool", "get", str(p), "talk.mp4", str(out), "--start", "1", "--duration", "1"]) == 0
    )
    assert not [line for line in _err_lines(capsys) if "warning" in line]


# -- 5. the demo never replaces its input, and names what it replaces ---------------------------
def _stop(*args, **kwargs):
    raise HelixError("stopped before encoding (test)")


@pytest.mark.parametrize("name", ["decoded.mp4", "decoded_from_reads.mp4", "decoded.helix.mp4"])
def test_demo_refuses_an_input_that_is_one_of_its_outputs(tmp_path, capsys, monkeypatch, name):
    monkeypatch.setattr(demo, "encode_video", _stop)  # any work done would end here
    clip = write_clip(tmp_path / name, frames=4, size=(32, 32))
    before = clip.read_bytes()
    assert main(["demo", str(clip), "--out", str(tmp_path)]) == 1
    err = _err_lines(capsys)
    assert len(err) == 1 and err[0].startswith("error:") and "is also an input" in err[0]
    assert clip.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == [name]  # nothing else was written


def test_demo_says_which_existing_files_it_replaces(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(demo, "encode_video", _stop)
    clip = write_clip(tmp_path / "in.mp4", frames=4, size=(32, 32))
    out = tmp_path / "out"
    out.mkdir()
    (out / "order.csv").write_text("mine\n")
    (out / "decoded.mp4").write_bytes(b"mine")
    (out / "unrelated.txt").write_text("not the demo's\n")
    assert main(["demo", str(clip), "--out", str(out)]) == 1
    note, error = _err_lines(capsys)
    assert note.startswith("note: replacing 2 existing files: ")
    assert str(out / "order.csv") in note and str(out / "decoded.mp4") in note
    assert "unrelated" not in note and error == "error: stopped before encoding (test)"


# -- 6. FIFOs and devices are written to, never replaced ----------------------------------------
@contextlib.contextmanager
def _fifo_reader(path: Path):
    """A FIFO at ``path`` and a thread reading it to EOF; yields the list its bytes go to."""
    os.mkfifo(path)
    # held open for writing until the block ends: the reader's open returns at once, and
    # its EOF waits for this and the real writer both (no hang if nothing ever writes)
    hold = os.open(path, os.O_RDWR)
    got: list[bytes] = []
    opened = threading.Event()

    def read() -> None:
        with open(path, "rb") as f:
            opened.set()
            got.append(f.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert opened.wait(10)
    try:
        yield got
    finally:
        os.close(hold)
        reader.join(30)
    assert not reader.is_alive()


@pytest.fixture(scope="module")
def file_archive(tmp_path_factory):
    d = tmp_path_factory.mktemp("file")
    data = np.random.default_rng(3).bytes(3000)
    (d / "notes.bin").write_bytes(data)
    encode_file(str(d / "notes.bin"), str(d / "notes.dnapkt"))
    return d / "notes.dnapkt", data


def test_a_fifo_output_is_streamed_to_and_stays_a_fifo(file_archive, tmp_path):
    dna, data = file_archive
    fifo = tmp_path / "out.bin"
    with _fifo_reader(fifo) as got:
        assert transcode_main([str(dna), str(fifo), "-q"]) == 0
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert got == [data]
    assert os.listdir(tmp_path) == ["out.bin"]  # no temp file left beside it


def test_a_video_decoded_into_a_fifo_is_the_same_bytes_as_into_a_file(tmp_path):
    clip = write_clip(tmp_path / "v.mp4", frames=8, size=(48, 32))
    dna = tmp_path / "v.dnapkt"
    assert transcode_main([str(clip), str(dna), "--codec", "bitstream", "-q"]) == 0
    assert transcode_main([str(dna), str(tmp_path / "file.mkv"), "-q"]) == 0
    fifo = tmp_path / "pipe.mkv"
    with _fifo_reader(fifo) as got:
        assert transcode_main([str(dna), str(fifo), "-q"]) == 0
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert got == [(tmp_path / "file.mkv").read_bytes()]


def test_dev_null_as_output_stays_the_device(file_archive, audio_clip, capsys):
    dna, _ = file_archive
    # only a fixed writer may go near the real /dev/null (as root, the old one replaced it)
    assert atomic.is_stream_target("/dev/null")
    before = os.stat("/dev/null")
    assert transcode_main([str(dna), "/dev/null", "-q"]) == 0
    # a video needs a container its name does not give: refused, the device untouched
    assert transcode_main([str(audio_clip[1]), "/dev/null", "-q"]) == 1
    err = _err_lines(capsys)
    assert len(err) == 1 and err[0].startswith("error: /dev/null: unsupported output type")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


# -- 7. one pool, one lock, under every name ----------------------------------------------------
@pytest.fixture
def small_pool(tmp_path):
    for name in ("one.txt", "two.txt", "three.txt"):
        (tmp_path / name).write_text(f"{name}\n" * 50)
    p = tmp_path / "p.dnapkt"
    pool.add_items(str(p), [str(tmp_path / "one.txt")])
    return tmp_path, p


def _items(p) -> list[str]:
    return [it.name for it in pool.read_catalogue(pool.PoolSource(str(p))).items]


def test_pool_add_through_a_symlink_adds_to_the_pool_and_keeps_the_link(small_pool, capsys):
    d, p = small_pool
    link = d / "link.dnapkt"
    link.symlink_to(p.name)
    assert main(["pool", "add", str(link), str(d / "two.txt"), "-q"]) == 0
    assert link.is_symlink() and os.path.samefile(link, p)
    assert _items(p) == ["one.txt", "two.txt"]


def test_concurrent_adds_under_other_names_wait_for_one_lock(small_pool, capsys, monkeypatch):
    """An add holds the pool (stopped half-way); adds through a symlink and a hard link
    must fail with "pool is in use" instead of forking it."""
    from helix_media.archive.pool import add

    d, p = small_pool
    (d / "link.dnapkt").symlink_to(p.name)
    os.link(p, d / "hard.dnapkt")
    holding, release = threading.Event(), threading.Event()
    real = add._add_items

    def slow(pool_path, paths, **options):
        if threading.current_thread().name == "holder":
            holding.set()
            assert release.wait(60)
        return real(pool_path, paths, **options)

    monkeypatch.setattr(add, "_add_items", slow)
    holder = threading.Thread(
        target=pool.add_items, args=(str(p), [str(d / "two.txt")]), name="holder", daemon=True
    )
    holder.start()
    assert holding.wait(30)
    try:
        for alias in ("link.dnapkt", "hard.dnapkt"):
            assert main(["pool", "add", str(d / alias), str(d / "three.txt"), "-q"]) == 1
            err = _err_lines(capsys)
            assert len(err) == 1 and "pool is in use" in err[0]
    finally:
        release.set()
        holder.join(60)
    assert _items(p) == ["one.txt", "two.txt"] and (d / "link.dnapkt").is_symlink()


def test_pool_add_through_a_hard_link_says_the_other_names_keep_the_old_pool(small_pool, capsys):
    d, p = small_pool
    os.link(p, d / "hard.dnapkt")
    assert main(["pool", "add", str(d / "hard.dnapkt"), str(d / "two.txt"), "-q"]) == 0
    err = _err_lines(capsys)
    assert len(err) == 1 and err[0].startswith("note: ") and "1 other hard link" in err[0]
    assert _items(d / "hard.dnapkt") == ["one.txt", "two.txt"] and _items(p) == ["one.txt"]


# -- 8. helix-transcode does not replace a pool by accident -------------------------------------
def test_transcode_refuses_a_pool_as_output_unless_told(small_pool, capsys):
    d, p = small_pool
    before = p.read_bytes()
    assert transcode_main([str(d / "two.txt"), str(p), "-q"]) == 1
    err = _err_lines(capsys)
    assert len(err) == 1 and err[0].startswith("error:") and "is a pool" in err[0]
    assert "helix pool add" in err[0] and "--overwrite-pool" in err[0]
    assert p.read_bytes() == before
    # told to, it still waits for no add: it takes the pool's lock
    with open(d / ".p.dnapkt.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        assert transcode_main([str(d / "two.txt"), str(p), "--overwrite-pool", "-q"]) == 1
    assert "pool is in use" in capsys.readouterr().err and p.read_bytes() == before
    assert transcode_main([str(d / "two.txt"), str(p), "--overwrite-pool", "-q"]) == 0
    assert transcode_main([str(p), str(d / "back.txt"), "-q"]) == 0  # now a lone archive
    assert (d / "back.txt").read_bytes() == (d / "two.txt").read_bytes()


def test_atomic_output_writes_through_a_symlink(tmp_path):
    (tmp_path / "real.txt").write_text("old")
    (tmp_path / "link.txt").symlink_to("real.txt")
    with atomic.atomic_output(tmp_path / "link.txt", "w") as f:
        f.write("new")
    assert (tmp_path / "link.txt").is_symlink() and (tmp_path / "real.txt").read_text() == "new"
