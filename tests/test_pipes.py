"""``-`` as IN and OUT: media, strands and files through pipes, with a real ``ffmpeg`` on the
other end (skipped, with the reason, where there is none)."""

import json
import os
import pty
import re
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from helix_media.cli import main, transcode_main
from helix_media.media.codec import frame_timing
from helix_media.resources import sample_clip

SAMPLE = sample_clip()
BIN = Path(sys.executable).parent
HELIX_TRANSCODE, HELIX = str(BIN / "helix-transcode"), str(BIN / "helix")
FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(
    FFMPEG is None, reason="no ffmpeg binary (apt-get install ffmpeg; .ci/run installs it)"
)
FAST = ["--effort", "fast", "-q"]  # the same options on both sides of every comparison


def run(cmd, stdin=None, **kw):
    """One command; ``stdin``: bytes, or a file object (a pipe's end)."""
    data = stdin if isinstance(stdin, bytes) else None
    src = None if data is not None else stdin
    return subprocess.run(
        cmd, input=data, stdin=src, capture_output=True, timeout=300, env=_env(), **kw
    )


def pipe(first, second):
    """``first | second``: (first's exit status and stderr, second's CompletedProcess)."""
    a = subprocess.Popen(first, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    b = run(second, stdin=a.stdout)
    a.stdout.close()
    err = a.stderr.read()
    a.wait(timeout=300)
    return a.returncode, err, b


def _env():
    env = dict(os.environ)
    env.pop("HELIX_DEBUG", None)
    return env


def ffmpeg_out(*args):
    return [FFMPEG, "-v", "error", *args]


def frames_counted(ffmpeg_stderr: bytes) -> int:
    """The frame count ``ffmpeg ... -f null -`` reports last (its progress line)."""
    counts = re.findall(rb"frame=\s*(\d+)", ffmpeg_stderr)
    assert counts, ffmpeg_stderr.decode(errors="replace")[-500:]
    return int(counts[-1])


def video_md5s(data_or_path) -> list[bytes]:
    """The video frames' MD5s (ffmpeg's framemd5), from a file or bytes."""
    src = "-" if isinstance(data_or_path, bytes) else str(data_or_path)
    stdin = data_or_path if isinstance(data_or_path, bytes) else None
    r = run(ffmpeg_out("-i", src, "-map", "0:v", "-f", "framemd5", "-"), stdin=stdin)
    assert r.returncode == 0, r.stderr
    return [line.rsplit(b",", 1)[1] for line in r.stdout.splitlines() if not line.startswith(b"#")]


def one_error_line(r) -> str:
    err = r.stderr.decode()
    assert r.returncode == 1, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The sample encoded from its file, with and without audio."""
    d = tmp_path_factory.mktemp("pipes")
    assert transcode_main([str(SAMPLE), str(d / "s.dnapkt"), *FAST]) == 0
    assert transcode_main([str(SAMPLE), str(d / "silent.dnapkt"), "--no-audio", *FAST]) == 0
    assert transcode_main([str(d / "s.dnapkt"), str(d / "back.mkv"), "-q"]) == 0
    return d


# -- standard input ------------------------------------------------------------------------------
@needs_ffmpeg
@pytest.mark.parametrize("fmt", ["matroska", "mpegts"])
@pytest.mark.slow
def test_a_stream_on_stdin_makes_the_same_strands_as_the_file(reference, tmp_path, fmt):
    # Matroska's millisecond clock (41/42 ms steps at 24 fps, the video shifted by the AAC
    # priming frame that -c copy keeps) and MPEG-TS's 90 kHz one with its 1.4 s offset
    # both give the MP4's frames, timing and sound: the same strands, byte for byte
    out = tmp_path / "s.dnapkt"
    rc, err, r = pipe(
        ffmpeg_out("-i", str(SAMPLE), "-c", "copy", "-f", fmt, "-"),
        [HELIX_TRANSCODE, "-", str(out), *FAST],
    )
    assert rc == 0 and r.returncode == 0, (err, r.stderr)
    assert out.read_bytes() == (reference / "s.dnapkt").read_bytes()


@needs_ffmpeg
@pytest.mark.slow
def test_raw_video_on_stdin(reference, tmp_path):
    raw = run(ffmpeg_out("-i", str(SAMPLE), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"))
    assert raw.returncode == 0 and len(raw.stdout) == 48 * 320 * 240 * 3
    out = tmp_path / "rgb.dnapkt"
    size = ["--video-size", "320x240", "--framerate", "24"]
    r = run(
        [HELIX_TRANSCODE, "-", str(out), "--input-format", "rawvideo", *size, *FAST], raw.stdout
    )
    assert r.returncode == 0, r.stderr
    probe = run([HELIX, "probe", str(out), "--json"])
    video = json.loads(probe.stdout)
    assert (video["frames"], video["width"], video["fps"]) == (48, 320, 24.0), video
    # the decoder's own frames (yuv420p), raw: the strands of the file without its sound
    yuv = run(ffmpeg_out("-i", str(SAMPLE), "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"))
    out = tmp_path / "yuv.dnapkt"
    argv = ["--input-format", "rawvideo", "--pixel-format", "yuv420p", *size, *FAST]
    r = run([HELIX_TRANSCODE, "-", str(out), *argv], yuv.stdout)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == (reference / "silent.dnapkt").read_bytes()


@needs_ffmpeg
@pytest.mark.slow
def test_strands_and_files_on_stdin(reference, tmp_path):
    s = reference / "s.dnapkt"
    back = (reference / "back.mkv").read_bytes()
    # a .dnapkt, and gzipped FASTA, recognised by their first bytes
    r = run([HELIX_TRANSCODE, "-", str(tmp_path / "a.mkv"), "-q"], s.read_bytes())
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "a.mkv").read_bytes() == back
    assert main(["export", str(s), str(tmp_path / "s.fasta")]) == 0
    gz = run(["gzip", "-c", str(tmp_path / "s.fasta")]).stdout
    r = run([HELIX_TRANSCODE, "-", str(tmp_path / "b.mkv"), "-q"], gz)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "b.mkv").read_bytes() == back
    # any file with --codec raw, and back to standard output
    blob = os.urandom(3000)
    r = run([HELIX_TRANSCODE, "-", str(tmp_path / "f.dnapkt"), "--codec", "raw"], blob)
    assert r.returncode == 0 and b"for stdin (3000 bytes" in r.stdout, r.stderr
    r = run([HELIX_TRANSCODE, str(tmp_path / "f.dnapkt"), "-"])
    assert r.returncode == 0 and r.stdout == blob, r.stderr
    assert b"3000 bytes of stdin (SHA-256 ok)" in r.stderr  # the summary: not on stdout


# -- standard output -----------------------------------------------------------------------------
@needs_ffmpeg
@pytest.mark.slow
def test_stdout_streams_every_frame_into_ffmpeg(reference, tmp_path):
    s = str(reference / "s.dnapkt")
    rc, err, r = pipe([HELIX_TRANSCODE, s, "-"], [FFMPEG, "-i", "-", "-f", "null", "-"])
    assert rc == 0 and r.returncode == 0, (err, r.stderr)
    assert frames_counted(r.stderr) == 48
    assert b"-: 48 frames" in err  # progress and summary on standard error
    # nothing but the stream on standard output: the same frames as a file, the same
    # bytes every run
    out = run([HELIX_TRANSCODE, s, "-", "-q"])
    assert out.returncode == 0 and out.stdout[:4] == b"\x1a\x45\xdf\xa3"  # EBML
    assert video_md5s(out.stdout) == video_md5s(reference / "back.mkv")
    assert run([HELIX_TRANSCODE, s, "-", "-q"]).stdout == out.stdout
    # both ends pipes, and --format mp4 (fragmented: written without seeking)
    with open(s, "rb") as strands:
        a = subprocess.Popen(
            [HELIX_TRANSCODE, "-", "-", "--format", "mp4", "-q"],
            stdin=strands, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(),
        )  # fmt: skip
        r = run([FFMPEG, "-i", "-", "-f", "null", "-"], stdin=a.stdout)
        a.stdout.close()
        assert a.wait(timeout=300) == 0 and r.returncode == 0, (a.stderr.read(), r.stderr)
    assert frames_counted(r.stderr) == 48


@needs_ffmpeg
@pytest.mark.slow
def test_pool_get_to_stdout(tmp_path):
    clip, blob = tmp_path / "clip.mp4", tmp_path / "blob.bin"
    shutil.copy(SAMPLE, clip)
    blob.write_bytes(os.urandom(2000))
    pool = str(tmp_path / "pool.dnapkt")
    assert main(["pool", "add", pool, str(clip), str(blob), "-q"]) == 0
    r = run([HELIX, "pool", "get", pool, "blob.bin", "-"])
    assert r.returncode == 0 and r.stdout == blob.read_bytes(), r.stderr
    rc, err, r = pipe(
        [HELIX, "pool", "get", pool, "clip.mp4", "-", "--start", "0.5", "--duration", "0.5"],
        [FFMPEG, "-i", "-", "-f", "null", "-"],
    )
    assert rc == 0 and r.returncode == 0, (err, r.stderr)
    assert frames_counted(r.stderr) == 12 and b"-: 12 frames from 12" in err


# -- errors --------------------------------------------------------------------------------------
@needs_ffmpeg
@pytest.mark.slow
def test_pipe_errors_are_one_line(reference, tmp_path):
    out = str(tmp_path / "x.dnapkt")
    # an MP4 (its index at the end) cannot be demuxed from a pipe: pipe Matroska
    line = one_error_line(run([HELIX_TRANSCODE, "-", out, "-q"], SAMPLE.read_bytes()))
    assert "MP4" in line and "-f matroska" in line
    assert "is empty" in one_error_line(run([HELIX_TRANSCODE, "-", out], b""))
    assert "not a media stream" in one_error_line(run([HELIX_TRANSCODE, "-", out], b"hi\n" * 9))
    raw = [HELIX_TRANSCODE, "-", out, "--input-format", "rawvideo"]
    assert "--video-size" in one_error_line(run(raw, b"\0" * 64))
    # a terminal on either side is refused
    s = str(reference / "s.dnapkt")
    for side, cmd in (
        ("stdin", [HELIX_TRANSCODE, "-", out]),
        ("stdout", [HELIX_TRANSCODE, s, "-"]),
    ):
        leader, terminal = pty.openpty()
        ends = {"stdin": subprocess.DEVNULL, "stdout": subprocess.PIPE, side: terminal}
        try:
            r = subprocess.run(cmd, **ends, stderr=subprocess.PIPE, timeout=120, env=_env())
        finally:
            os.close(leader)
            os.close(terminal)
        assert "is a terminal" in one_error_line(r)
    # OUT - takes what decoding gives, in a container it knows; --format only with OUT -
    assert "encoding writes strands" in one_error_line(run([HELIX_TRANSCODE, str(SAMPLE), "-"]))
    assert "use one of matroska" in one_error_line(
        run([HELIX_TRANSCODE, s, "-", "--format", "avi"])
    )
    assert "OUT -" in one_error_line(run([HELIX_TRANSCODE, s, out + ".mkv", "--format", "mp4"]))
    assert "IN -" in one_error_line(run([HELIX_TRANSCODE, str(SAMPLE), out, "--framerate", "24"]))


@needs_ffmpeg
@pytest.mark.slow
def test_a_reader_that_leaves_is_an_error(reference):
    rc, err, r = pipe(
        [HELIX_TRANSCODE, str(reference / "s.dnapkt"), "-", "-q"], ["head", "-c", "100"]
    )
    assert len(r.stdout) == 100
    assert rc == 1 and err.decode().strip().splitlines()[-1] == (
        "error: cannot write standard output: Broken pipe"
    )


# -- timing ---------------------------------------------------------------------------------------
def test_a_constant_rate_in_milliseconds_is_constant():
    # 24 fps in Matroska's milliseconds (41 and 42 ms steps, from 21 ms): constant, as the
    # same frames in an MP4 say; a real jump is still kept
    ms = Fraction(1, 1000)
    pts = [round(1000 * (Fraction(1024, 48000) + Fraction(i, 24))) for i in range(48)]
    assert frame_timing(pts, ms, Fraction(24)) is None
    assert frame_timing([*pts[:10], *(p + 5 for p in pts[10:])], ms, Fraction(24)) is not None
    assert frame_timing([0, 40, 80, 140, 180, 240], ms, Fraction(25)) is not None
