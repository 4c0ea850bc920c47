"""Reading videos (every way a file can be unreadable is a one-line HelixError), writing them
atomically, and the PSNR metric."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from helix_media.errors import HelixError
from helix_media.media.codec import VideoInfo
from helix_media.media.metrics import PSNR_CAP, psnr, video_psnr
from helix_media.media.video_io import VideoSink, open_video


def _gradient(width: int, height: int, i: int) -> av.VideoFrame:
    y, x = np.mgrid[0:height, 0:width]
    img = np.stack([(x * 3 + i * 5) % 256, (y * 3) % 256, np.full_like(x, i * 8 % 256)], -1)
    return av.VideoFrame.from_ndarray(img.astype(np.uint8), format="rgb24")


def _write_clip(path: Path, n=12, size=(64, 48), fps=Fraction(24), audio=False, video=True):
    """A small clip written with plain PyAV (gradient video, optional 440 Hz tone)."""
    with av.open(str(path), "w") as c:
        if video:
            vs = c.add_stream("libx264", rate=fps)
            vs.width, vs.height, vs.pix_fmt = *size, "yuv420p"
        if audio:
            aus = c.add_stream("aac", rate=48000, layout="mono")
        for i in range(n if video else 0):
            frame = _gradient(*size, i).reformat(format="yuv420p")
            frame.pts, frame.time_base = i, 1 / fps
            c.mux(vs.encode(frame))
        if video:
            c.mux(vs.encode(None))
        if audio:
            t = np.arange(int(48000 * n / fps)) / 48000
            pcm = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
            for start in range(0, pcm.shape[1], 1024):
                f = av.AudioFrame.from_ndarray(pcm[:, start : start + 1024], "fltp", "mono")
                f.sample_rate, f.pts, f.time_base = 48000, start, Fraction(1, 48000)
                c.mux(aus.encode(f))
            c.mux(aus.encode(None))
    return path


@pytest.fixture
def clip(tmp_path):
    return _write_clip(tmp_path / "clip.mp4", audio=True)


# -- open_video ----------------------------------------------------------------------------


def test_open_video_reads_info_and_frames(clip):
    src = open_video(clip)
    assert (src.info.width, src.info.height, src.info.fps, src.info.frames) == (64, 48, 24, 12)
    assert src.has_audio and src.audio_sample_rate == 48000 and src.audio_layout == "mono"
    assert sum(1 for _ in src.frames()) == 12
    assert sum(f.samples for f in src.audio_frames()) >= 24000


def test_frame_count_is_computed_when_the_container_has_none(tmp_path):
    mkv = _write_clip(tmp_path / "clip.mkv", n=7, fps=Fraction(30000, 1001))
    with av.open(str(mkv)) as c:
        assert c.streams.video[0].frames == 0  # Matroska does not store it
    info = open_video(mkv).info
    assert (info.frames, info.fps) == (7, Fraction(30000, 1001))


def _bad_inputs(tmp_path: Path) -> list[tuple[str, Path]]:
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not a video\n" * 20)
    (tmp_path / "notes.mp4").write_text("not a video either\n" * 20)
    (tmp_path / "folder.mp4").mkdir()
    _write_clip(tmp_path / "sound.m4a", audio=True, video=False)
    return [
        ("no such file", tmp_path / "missing.mp4"),
        ("empty", tmp_path / "empty.mp4"),
        ("not a video", tmp_path / "notes.txt"),
        ("not a video", tmp_path / "notes.mp4"),
        ("directory", tmp_path / "folder.mp4"),
        ("no video stream", tmp_path / "sound.m4a"),
    ]


def test_unreadable_inputs_are_one_line_user_errors(tmp_path):
    for words, path in _bad_inputs(tmp_path):
        with pytest.raises(HelixError) as err:
            open_video(path)
        message = str(err.value)
        assert words in message and str(path) in message and "\n" not in message


# -- VideoSink -----------------------------------------------------------------------------


@pytest.mark.parametrize("fps", [Fraction(24), Fraction(30000, 1001)])
def test_sink_writes_an_mp4_pyav_reads_back(tmp_path, fps):
    out = tmp_path / "out.mp4"
    info = VideoInfo(64, 48, fps, 15)
    with VideoSink(out, info) as sink:
        for i in range(15):
            sink.write(_gradient(64, 48, i))  # rgb24: the sink converts
    assert os.listdir(tmp_path) == ["out.mp4"]
    with av.open(str(out)) as c:
        stream = c.streams.video[0]
        assert stream.average_rate == fps and stream.guessed_rate == fps
        frames = list(c.decode(stream))
    assert len(frames) == 15 and (frames[0].width, frames[0].height) == (64, 48)
    for i in (0, 7, 14):  # near-transparent, in order
        assert psnr(frames[i].to_ndarray(format="rgb24"), _gradient(64, 48, i).to_ndarray()) > 40


def test_sink_copies_audio_and_fills_gaps(tmp_path, clip):
    src = open_video(clip)
    out = tmp_path / "copy.mkv"
    with VideoSink(out, src.info, audio_params={"sample_rate": 48000, "layout": "mono"}) as sink:
        for frame in src.frames():
            sink.write(frame)
        audio = list(src.audio_frames())
        for frame in audio[:5] + audio[10:]:  # a hole of five frames: filled with silence
            sink.write(frame)
    back = open_video(out)
    assert back.info.frames == 12 and back.has_audio
    samples = sum(f.samples for f in back.audio_frames())
    assert abs(samples - sum(f.samples for f in audio)) < 2000


def test_sink_odd_size_and_webm(tmp_path):
    info = VideoInfo(33, 17, Fraction(25), 5)
    for name in ("odd.mp4", "odd.webm"):
        with VideoSink(tmp_path / name, info) as sink:
            for i in range(5):
                sink.write(_gradient(33, 17, i))
        got = open_video(tmp_path / name).info
        assert (got.width, got.height, got.frames) == (33, 17, 5)


def test_sink_leaves_nothing_behind_on_failure(tmp_path):
    info = VideoInfo(64, 48, Fraction(24))
    out = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError), VideoSink(out, info) as sink:
        sink.write(_gradient(64, 48, 0))
        raise RuntimeError("the caller failed")
    with pytest.raises(HelixError, match="32x32"), VideoSink(out, info) as sink:
        sink.write(_gradient(32, 32, 0))
    assert os.listdir(tmp_path) == []


def test_sink_keeps_the_old_file_until_success(tmp_path):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"previous")
    with pytest.raises(RuntimeError), VideoSink(out, VideoInfo(64, 48, Fraction(24))) as sink:
        sink.write(_gradient(64, 48, 0))
        raise RuntimeError
    assert out.read_bytes() == b"previous" and os.listdir(tmp_path) == ["out.mp4"]


def test_sink_unwritable_targets_are_one_line_user_errors(tmp_path):
    (tmp_path / "file").write_text("x")
    info = VideoInfo(64, 48, Fraction(24))
    targets = [tmp_path / "missing-dir" / "a.mp4", tmp_path / "file" / "a.mp4", tmp_path / "a.avi"]
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        targets.append(locked / "a.mp4")
    for target in targets:
        with pytest.raises(HelixError) as err, VideoSink(target, info):
            pass
        assert "\n" not in str(err.value)
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["file"] + (["locked"] if len(targets) > 3 else [])
    )


# -- metrics -------------------------------------------------------------------------------


def test_psnr():
    a = np.zeros((4, 4, 3), np.uint8)
    assert psnr(a, a) == PSNR_CAP
    assert psnr(a, a + 1) == pytest.approx(20 * np.log10(255))
    with pytest.raises(HelixError):
        psnr(a, a[:2])


def test_video_psnr(tmp_path, clip):
    assert video_psnr(clip, clip) == PSNR_CAP
    shorter = _write_clip(tmp_path / "short.mp4", n=10)
    with pytest.raises(HelixError, match="frame counts differ"):
        video_psnr(clip, shorter)
