"""GStreamer elements helixdnasink and helixdnasrc (helix_media/gst), through real
gst-launch-1.0 pipelines: the sink's archive is the CLI's byte for byte, the source gives the
frames the CLI's decoder gives, a damaged archive plays to the end and reports its loss on the
bus, and gst-inspect-1.0 describes every property. Skipped with the reason when GStreamer, its
Python plugin loader or gst-libav is absent (.ci/run installs them); the first tests need none.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from fractions import Fraction

import av
import numpy as np
import pytest

import helix_media
from helix_media.cli import main as helix_main
from helix_media.cli import transcode_main
from helix_media.errors import HelixError
from helix_media.gst import SITE_VARIABLE, plugin_dir, site_dirs
from helix_media.gst.bridge import (
    PlaneLayout,
    _timing,
    buffer_from_frame,
    frame_from_buffer,
    parse_codec_options,
    parse_stream_redundancy,
)
from helix_media.media.codec import frame_timing
from helix_media.resources import sample_clip
from helix_media.strandio.strand_files import read_strands, write_strands

#: GStreamer pipelines in subprocesses: the full suite (CI) runs them
pytestmark = pytest.mark.slow

SAMPLE = str(sample_clip())
FRAMES = 48  # the sample's


# -- without GStreamer ----------------------------------------------------------------------------
def test_gst_path_prints_the_plugin_folder(capsys):
    assert helix_main(["gst-path"]) == 0
    folder = capsys.readouterr().out.strip()
    assert folder == str(plugin_dir())
    for name in ("helixdna.py", "helixdnasink.py", "helixdnasrc.py"):
        assert os.path.isfile(os.path.join(folder, "python", name))  # what gst-python loads
    assert helix_main(["gst-path", "--env"]) == 0
    env = capsys.readouterr().out
    assert f"export GST_PLUGIN_PATH={folder}" in env
    assert f"export {SITE_VARIABLE}=" in env and site_dirs()[0] in env


def test_plugin_setup_finds_helix_medias_python(monkeypatch, tmp_path):
    """python/helixdna.py (standard library only) puts HELIX_MEDIA_SITE, or the site-packages
    it is installed in, first on GStreamer's sys.path, and says why a Python of another
    version cannot use them."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "helixdna_setup_test", plugin_dir() / "python" / "helixdna.py"
    )
    setup = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setup)
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    ours = tmp_path / "venv" / "lib" / f"python{here}" / "site-packages"
    (ours / "helix_media" / "gst" / "python").mkdir(parents=True)
    (ours / "extra.pth").write_text(str(tmp_path / "from-pth") + "\n")
    (tmp_path / "from-pth").mkdir()
    monkeypatch.setattr(setup, "__file__", str(ours / "helix_media/gst/python/helixdna.py"))
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv(SITE_VARIABLE, "")
    assert setup.site_dirs() == [str(ours)]  # a plain install: its own site-packages
    setup.use_site_dirs()
    assert sys.path[:2] == [str(ours), str(tmp_path / "from-pth")] and setup.PROBLEM is None
    other = tmp_path / "lib" / "python2.7" / "site-packages"
    monkeypatch.setenv(SITE_VARIABLE, str(other))
    setup.use_site_dirs()
    assert str(other) not in sys.path and "is for Python 2.7" in setup.PROBLEM


def i420_layout(width: int, height: int) -> tuple[PlaneLayout, int]:
    """GStreamer's default I420 layout (rows padded to 4 bytes) and buffer size."""
    ys, cs = -(-width // 4) * 4, -(-((width + 1) // 2) // 4) * 4
    ch = (height + 1) // 2
    offsets = (0, ys * height, ys * height + cs * ch)
    return PlaneLayout(offsets, (ys, cs, cs)), ys * height + 2 * cs * ch


def test_buffers_and_frames_round_trip_at_odd_sizes():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (65, 97, 3), dtype=np.uint8)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
    layout, size = i420_layout(97, 65)
    data = buffer_from_frame(frame, "I420", size, layout)
    assert len(data) == size
    back = frame_from_buffer(data, "I420", 97, 65, layout)
    for a, b in zip(frame.planes, back.planes, strict=True):
        rows, width = a.height, a.width
        pa = np.frombuffer(a, np.uint8).reshape(rows, a.line_size)[:, :width]
        pb = np.frombuffer(b, np.uint8).reshape(rows, b.line_size)[:, :width]
        assert np.array_equal(pa, pb)
    row = -(-97 * 3 // 4) * 4
    data = buffer_from_frame(av.VideoFrame.from_ndarray(rgb, format="rgb24"), "RGB", row * 65,
                             PlaneLayout((0,), (row,)))  # fmt: skip
    assert np.array_equal(np.frombuffer(data, np.uint8).reshape(65, row)[:, : 97 * 3],
                          rgb.reshape(65, -1))  # fmt: skip
    with pytest.raises(HelixError, match="too small"):
        frame_from_buffer(data[:-10], "RGB", 97, 65, PlaneLayout((0,), (row,)))


def test_options_are_the_clis():
    assert parse_codec_options("--video-codec libx265 --effort fast", gop=32) == {
        "video_codec": "libx265",
        "effort": "fast",
        "gop": 32,
    }
    with pytest.raises(HelixError, match="codec-options: unrecognized arguments: --bogus"):
        parse_codec_options("--bogus 3")
    assert parse_stream_redundancy("video=0.2, audio=0") == {"video": 0.2, "audio": 0.0}
    with pytest.raises(HelixError, match="expected STREAM=R"):
        parse_stream_redundancy("video")


def test_variable_frame_timing_recovers_the_containers_time_base():
    # what the CLI stores for a variable-rate source (its container's pts and time base), and
    # the same frames' nanosecond buffer timestamps in GStreamer (demuxers scale rounding down)
    for tb, pts in (
        (Fraction(1, 1000), [0, 40, 80, 140, 180, 240]),  # Matroska
        (Fraction(1, 12288), [0, 512, 1024, 2048, 2560, 3584]),  # FFmpeg's MP4 at 24 fps
        (Fraction(1, 90000), [0, 3003, 6006, 12012, 15015]),  # MPEG-TS at 30000/1001
    ):
        fps = Fraction(24) if tb.denominator == 12288 else Fraction(25)
        cli = frame_timing(pts, tb, fps)
        # (a stream that starts later: its first pts is two frames in)
        ns = [(2 * pts[1] + p) * 10**9 // tb.denominator for p in pts]
        assert cli is not None and _timing(ns, fps) == cli
    t = _timing([0, 7, 21, 28], Fraction(25))  # no usual time base: the coarsest exact one
    assert t == {"time_base": [7, 10**9], "start": 0, "deltas": [[1, 1], [2, 1], [1, 1]]}
    assert _timing([i * 41_666_666 for i in range(5)], Fraction(24)) is None  # constant rate


# -- through GStreamer -----------------------------------------------------------------------------
GST_LAUNCH, GST_INSPECT = shutil.which("gst-launch-1.0"), shutil.which("gst-inspect-1.0")


def _run(cmd: list[str], env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


def _loader_python(env: dict[str, str]) -> str | None:
    """The Python version gst-python's loader embeds (from the libpython it links), if known."""
    out = _run([GST_INSPECT, "python"], env).stdout
    lib = re.search(r"Filename\s+(\S+)", out)
    ldd = shutil.which("ldd")
    if not lib or not ldd:
        return None
    m = re.search(r"libpython(\d+\.\d+)", _run([ldd, lib[1]], env).stdout)
    return m[1] if m else None


@pytest.fixture(scope="module")
def gst_env(tmp_path_factory):
    """The environment gst-launch-1.0 needs for the elements: ``helix gst-path --env``'s
    variables, and a registry of its own (no stale cache); skips with the reason."""
    if not GST_LAUNCH or not GST_INSPECT:
        pytest.skip("gst-launch-1.0 is not installed (gstreamer1.0-tools; .ci/run installs it)")
    env = dict(os.environ)
    env.update(
        GST_PLUGIN_PATH=str(plugin_dir()),
        GST_REGISTRY=str(tmp_path_factory.mktemp("gst") / "registry.bin"),
        **{SITE_VARIABLE: os.pathsep.join(site_dirs())},
    )
    env.pop("HELIX_DEBUG", None)
    if _run([GST_INSPECT, "python"], env).returncode != 0:
        pytest.skip("GStreamer's Python plugin loader is not installed "
                    "(gstreamer1.0-python3-plugin-loader python3-gst-1.0)")  # fmt: skip
    ours = f"{sys.version_info.major}.{sys.version_info.minor}"
    theirs = _loader_python(env)
    if theirs and theirs != ours:
        pytest.skip(f"GStreamer's Python plugin loader runs Python {theirs}, these tests {ours}: "
                    "the elements need helix-media installed for the loader's Python")  # fmt: skip
    return env


@pytest.fixture(scope="module")
def decoders(gst_env):
    """The sample's decoders (H.264, AAC: gst-libav) must be there for the encoding tests."""
    if _run([GST_INSPECT, "avdec_h264"], gst_env).returncode != 0:
        pytest.skip("GStreamer cannot decode the sample's H.264 (gstreamer1.0-libav)")
    return gst_env


def launch(env: dict[str, str], pipeline: str, *flags: str) -> str:
    """Run a gst-launch-1.0 pipeline; its output (it must reach EOS, with no traceback and no
    GLib critical on the way)."""
    r = _run([GST_LAUNCH, *flags, *pipeline.split()], env)
    out = r.stdout + r.stderr
    assert r.returncode == 0 and "Got EOS" in out, out
    assert "Traceback" not in out and "CRITICAL" not in out, out
    return out


def video_frames(path: str) -> list[np.ndarray]:
    with av.open(path) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("gstreamer")


@pytest.fixture(scope="module")
def cli_archive(work):
    out = work / "cli.dnapkt"
    assert transcode_main([SAMPLE, str(out), "--no-audio", "-q"]) == 0
    return out


@pytest.fixture(scope="module")
def sink_archive(decoders, work):
    """The README's pipeline, video only (a GStreamer pipeline's frames have the CLI's)."""
    out = work / "sink.dnapkt"
    launch(decoders, f"filesrc location={SAMPLE} ! decodebin ! videoconvert ! "
                     f"helixdnasink location={out}")  # fmt: skip
    return out


@pytest.mark.slow
def test_sink_writes_the_clis_archive_byte_for_byte(cli_archive, sink_archive, work):
    assert sink_archive.read_bytes() == cli_archive.read_bytes()
    # and helix-transcode decodes it to the CLI's archive's frames
    for name in ("sink", "cli"):
        assert transcode_main([str(work / f"{name}.dnapkt"), str(work / f"{name}.mkv"), "-q"]) == 0
    sink_frames = video_frames(str(work / "sink.mkv"))
    cli_frames = video_frames(str(work / "cli.mkv"))
    assert len(sink_frames) == FRAMES
    assert all(np.array_equal(a, b) for a, b in zip(sink_frames, cli_frames, strict=True))


def test_src_gives_the_frames_the_cli_decodes(gst_env, cli_archive, sink_archive, work):
    raw = work / "src.yuv"
    launch(gst_env, f"helixdnasrc location={cli_archive} ! videoconvert ! "
                    f"video/x-raw,format=I420 ! filesink location={raw}")  # fmt: skip
    layout, size = i420_layout(320, 240)
    data = raw.read_bytes()
    assert len(data) == FRAMES * size
    with helix_media.open(cli_archive) as dna:  # the reader helix-transcode decodes with
        for i, frame in enumerate(dna.decode(video=0)):
            assert data[i * size : (i + 1) * size] == buffer_from_frame(frame, "I420", size, layout)
    # helix-transcode's video (x264 at CRF 10 over the same frames) is within its own loss
    cli = video_frames(str(work / "cli.mkv"))
    ours = [
        frame_from_buffer(data[i * size : (i + 1) * size], "I420", 320, 240, layout)
        .to_ndarray(format="rgb24").astype(float)
        for i in range(FRAMES)
    ]  # fmt: skip
    mse = np.mean([np.mean((a - b) ** 2) for a, b in zip(ours, cli, strict=True)])
    assert 10 * np.log10(255**2 / mse) > 40
    # the README's playback pipeline, with fakesink for the display
    launch(gst_env, f"helixdnasrc location={sink_archive} ! videoconvert ! fakesink")


@pytest.fixture(scope="module")
def audio_archive(decoders, work):
    """Video and audio through the sink's two pads; no outer code (for the loss test)."""
    out = work / "audio.dnapkt"
    messages = launch(
        decoders,
        f"filesrc location={SAMPLE} ! decodebin name=d d. ! queue ! videoconvert ! s. "
        "d. ! queue ! audioconvert ! s.audio "
        f"helixdnasink name=s location={out} redundancy=0 codec-options=--effort=fast",
        "-m",
    )
    assert re.search(r"helix-dna-archive, location=\(string\)\S+, strands=\(int\)\d+", messages)
    return out


def test_sink_stores_audio_from_its_audio_pad(audio_archive):
    with helix_media.open(audio_archive) as dna:
        assert dna.streams.video[0].frames == FRAMES
        (audio,) = dna.streams.audio
        assert audio.rate == 48_000
        samples = sum(f.samples for f in dna.decode(audio=0))
        assert abs(samples / 48_000 - 2.0) < 0.1  # the sample's 2 s
        assert dna.report.complete


def test_src_plays_a_damaged_archive_to_the_end_and_reports_the_loss(gst_env, audio_archive, work):
    header, strands = read_strands(str(audio_archive))
    rng = np.random.default_rng(7)
    gone = set(rng.choice(len(strands), round(0.05 * len(strands)), replace=False).tolist())
    damaged = work / "damaged.dnapkt"
    kept = [s for i, s in enumerate(strands) if i not in gone]
    write_strands(str(damaged), np.stack(kept), header)
    raw = work / "damaged.yuv"
    out = launch(gst_env, f"helixdnasrc location={damaged} ! videoconvert ! "
                          f"video/x-raw,format=I420 ! filesink location={raw}", "-m")  # fmt: skip
    assert raw.stat().st_size == FRAMES * i420_layout(320, 240)[1]  # every frame, concealed
    loss = re.search(r"\(element\): helix-dna-loss, .*", out)
    assert loss, out
    missing = re.search(r"data-strands-missing=\(int\)(\d+)", loss[0])
    assert missing and int(missing[1]) > 0
    assert re.search(r"frames-concealed=\(int\)[1-9]", loss[0])
    assert re.search(r"WARNING: from element .*helixdnasrc0: .*data lost: ", out)


def test_gst_inspect_describes_the_elements(gst_env):
    r = _run([GST_INSPECT, "helixdnasink"], gst_env)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stdout + r.stderr
    out = r.stdout
    assert "Helix DNA archive sink" in out and "Sink/Video/Audio/File" in out
    described = {
        "location": "The archive to write",
        "codec": "Codec plugin that codes the frames",
        "quality": "-1: the codec's default",
        "redundancy": "Outer erasure code",
        "stream-redundancy": "Outer codes of single streams",
        "coder": "Constraint coder plugin",
        "framer": "Strand framer plugin",
        "strand-length": "Strands of N nt",
        "gop": "Frames per GOP",
        "seed": "whitening keystream",
        "metadata-copies": "Copies of the metadata strands",
        "codec-options": "Further codec options",
    }
    for name, blurb in described.items():
        assert re.search(rf"^\s+{re.escape(name)}\s+: .*{re.escape(blurb)}", out, re.M), name
    r = _run([GST_INSPECT, "helixdnasrc"], gst_env)
    assert r.returncode == 0 and "Helix DNA archive source" in r.stdout
    assert "helix-dna-loss" in r.stdout and "Paired-end reads" in r.stdout


def test_errors_are_one_line_on_the_bus(gst_env, work):
    cases = [
        (f"videotestsrc num-buffers=2 ! helixdnasink location={work / 'x.mkv'}",
         "DNA is written to .dnapkt, .fasta or .fa"),
        (f"videotestsrc num-buffers=2 ! helixdnasink location={work / 'x.dnapkt'} codec=nope",
         "unknown codec 'nope'"),
        (f"helixdnasrc location={work / 'none.dnapkt'} ! fakesink", "none.dnapkt: no such file"),
    ]  # fmt: skip
    for pipeline, text in cases:
        r = _run([GST_LAUNCH, *pipeline.split()], gst_env)
        out = r.stdout + r.stderr
        assert r.returncode != 0 and "Traceback" not in out, out
        assert re.search(rf"^ERROR: from element \S+: .*{re.escape(text)}", out, re.M), out
        assert "failed to post a proper error message" not in out, out
    assert not (work / "x.dnapkt").exists()
