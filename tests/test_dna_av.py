"""helix_media.open(): DNA as a PyAV-shaped container, written and read back."""

from fractions import Fraction

import av
import numpy as np
import pytest
from clips import write_clip

import helix_media
import helix_media.cli
from helix_media.archive.decode import decode_media
from helix_media.errors import HelixError
from helix_media.strandio.strand_files import read_strands, write_strands


def _frames(n=20, w=64, h=48):
    for i in range(n):
        x = np.linspace(0, 255, w)[None, :, None] + 9 * i
        img = np.broadcast_to(x % 256, (h, w, 3)).astype(np.uint8)
        f = av.VideoFrame.from_ndarray(img, format="rgb24")
        f.pts, f.time_base = i, Fraction(1, 24)
        yield f


def test_write_then_read_gop_by_gop(tmp_path):
    path = tmp_path / "x.dnapkt"
    with helix_media.open(path, "w", redundancy=0.1) as dna:
        stream = dna.add_stream("bitstream", rate=24, width=64, height=48, quality=20)
        assert (stream.width, stream.height, stream.average_rate) == (64, 48, 24)
        for frame in _frames():
            dna.mux(stream.encode(frame))
        dna.mux(stream.encode(None))
    assert path.exists() and dna.result.metadata["video"]["frames"] == 20
    with helix_media.open(path) as dna:
        v = dna.streams.video[0]
        assert (v.width, v.height, v.frames, v.average_rate, v.codec_name) == (
            64, 48, 20, Fraction(24), "bitstream",
        )  # fmt: skip
        packets = list(dna.demux())
        assert [p.index for p in packets] == [0, 1]  # one packet per GOP of 16
        frames = dna.decode(video=0)
        first = next(frames)  # a generator: the first GOP decodes before the rest is read
        rest = list(frames)
    assert first.pts == 0 and [f.pts for f in rest] == list(range(1, 20))
    assert dna.report.complete
    # the same frames as the whole-file decoder
    whole = decode_media(str(path)).frames
    assert all(
        (a.to_ndarray() == b.to_ndarray()).all() for a, b in zip([first, *rest], whole, strict=True)
    )


def test_reads_with_a_lost_gop_are_concealed_and_reported(tmp_path):
    path = tmp_path / "y.fasta"
    with helix_media.open(path, "w", redundancy=0) as dna:  # no outer code (the default: auto)
        stream = dna.add_stream("bitstream", rate=24, width=64, height=48, quality=20)
        for frame in _frames(32):
            dna.mux(stream.encode(frame))
    _, seqs = read_strands(path)
    write_strands(tmp_path / "hurt.fasta", np.stack(seqs[:-3]), {})  # the last GOP's tail
    with helix_media.open(tmp_path / "hurt.fasta") as dna:
        frames = list(dna.decode(video=0))
    assert [f.pts for f in frames] == list(range(32))
    assert dna.report.concealed_frames == list(range(16, 32))
    assert not dna.report.complete and "video units lost" in dna.report.loss_report()


def test_template_streams_and_audio(tmp_path):
    src = write_clip(tmp_path / "t.mp4", frames=8)
    out = tmp_path / "t.dnapkt"
    with av.open(str(src)) as source, helix_media.open(out, "w") as dna:
        video = dna.add_stream_from_template(source.streams.video[0], codec="bitstream")
        audio = dna.add_stream("opus", 48_000, layout="mono")
        for frame in source.decode(video=0):
            dna.mux(video.encode(frame))
        tone = np.sin(np.arange(48_000, dtype=np.float32) / 20)[None, :] * 0.2
        af = av.AudioFrame.from_ndarray(tone, format="flt", layout="mono")
        af.sample_rate = 48_000
        dna.mux(audio.encode(af))
    with helix_media.open(out) as dna:
        assert dna.streams.audio[0].layout == "mono"
        samples = sum(f.samples for f in dna.decode(audio=0))
        assert abs(samples - 48_000) < 2_000
        assert len(list(dna.decode(video=0))) == 8


def test_bad_use_is_a_clear_error(tmp_path):
    with pytest.raises(HelixError, match="mode must be"):
        helix_media.open(tmp_path / "x.dnapkt", "a")
    with pytest.raises(HelixError, match="written to .dnapkt"):
        helix_media.open(tmp_path / "x.mp4", "w")
    empty = helix_media.open(tmp_path / "e.dnapkt", "w")
    empty.add_stream("bitstream", rate=24, width=64, height=48)
    with pytest.raises(HelixError, match="no frames were encoded"):
        empty.close()
    assert not (tmp_path / "e.dnapkt").exists()
    # an error inside the block: nothing is written
    with pytest.raises(RuntimeError), helix_media.open(tmp_path / "f.dnapkt", "w") as dna:
        s = dna.add_stream("bitstream", rate=24, width=64, height=48)
        dna.mux(s.encode(next(_frames())))
        raise RuntimeError("boom")
    assert not (tmp_path / "f.dnapkt").exists()


def _has_cuda() -> bool:
    import onnxruntime as ort

    return "CUDAExecutionProvider" in ort.get_available_providers()


@pytest.mark.skipif(not _has_cuda(), reason="no CUDA provider (pip install '.[gpu]' on a GPU)")
def test_strands_written_on_cpu_decode_on_cuda(tmp_path):
    from helix_media.media.metrics import psnr

    clip = write_clip(tmp_path / "g.mp4", frames=8, size=(64, 64))
    dna = tmp_path / "g.dnapkt"
    assert (
        helix_media.cli.transcode_main(
            [str(clip), str(dna), "--codec", "helix", "--quality", "1", "-q"]
        )
        == 0
    )
    with av.open(str(clip)) as c:
        source = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    scores = {}
    for device in ("cpu", "cuda"):
        with helix_media.open(dna, device=device) as d:
            got = [f.to_ndarray(format="rgb24") for f in d.decode(video=0)]
        scores[device] = np.mean([psnr(a, b) for a, b in zip(source, got, strict=True)])
    assert abs(scores["cpu"] - scores["cuda"]) <= 0.1


def _video_codecs() -> list[str]:
    from helix_media import plugins
    from helix_media.media.codec import Codec

    return sorted(
        n for n in plugins.registrations("codecs") if isinstance(plugins.get_codec(n), Codec)
    )


@pytest.mark.parametrize("codec", _video_codecs())
def test_a_pyav_loop_writes_and_reads_dna_with_every_video_codec(tmp_path, codec):
    src = write_clip(tmp_path / "c.mp4", frames=8, size=(64, 64))
    out = tmp_path / "c.dnapkt"
    with av.open(str(src)) as source, helix_media.open(out, "w") as dna:
        stream = dna.add_stream_from_template(source.streams.video[0], codec=codec)
        for frame in source.decode(video=0):
            dna.mux(stream.encode(frame))
        dna.mux(stream.encode(None))
    with helix_media.open(out) as dna:
        frames = list(dna.decode(video=0))
        assert dna.streams.video[0].codec_name == codec and dna.report.complete
    assert [f.pts for f in frames] == list(range(8))
    assert (frames[0].width, frames[0].height) == (64, 64)
