"""The "bitstream" codec: closed-GOP x265/x264/SVT-AV1 packets that each decode alone."""

from __future__ import annotations

import json
from fractions import Fraction

import av
import numpy as np
import pytest
from helix_media_builtins.codecs.bitstream import BACKENDS

from helix_media import plugins
from helix_media.errors import HelixError
from helix_media.media.codec import Packet, VideoInfo
from helix_media.media.metrics import psnr
from helix_media.resources import sample_clip

SAMPLE = sample_clip()


def _rgb(frame: av.VideoFrame) -> np.ndarray:
    return frame.to_ndarray(format="rgb24")


def _synthetic(width: int, height: int, n: int, seed: int = 0) -> list[av.VideoFrame]:
    """A moving gradient with a little noise, as rgb24 frames (exercises reformatting)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    frames = []
    for i in range(n):
        r = (x * 4 + i * 3) % 256
        g = (y * 4 + i * 2) % 256
        b = ((x + y) * 2) % 256
        img = np.stack([r, g, b], -1) + rng.integers(-4, 5, (height, width, 3))
        frames.append(av.VideoFrame.from_ndarray(np.clip(img, 0, 255).astype(np.uint8), "rgb24"))
    return frames


def _encode(frames, info, **options):
    codec = plugins.get_codec("bitstream")
    encoder = codec.encoder(info, **options)
    packets: list[Packet] = []
    for f in frames:
        packets += encoder.encode(f)
    packets += encoder.encode(None)
    return codec, encoder, packets


def _decode(codec, info, params, packets):
    decoder = codec.decoder(info, params)
    frames = []
    for p in [*packets, None]:
        frames += decoder.decode(p)
    return frames


@pytest.fixture(scope="module")
def sample():
    with av.open(str(SAMPLE)) as c:
        frames = list(c.decode(video=0))
    info = VideoInfo(320, 240, Fraction(24), len(frames))
    codec, encoder, packets = _encode(frames, info)
    return frames, info, codec, encoder.params, packets


@pytest.fixture(scope="module")
def small():
    """The sample's 48 frames scaled to 96x64, as :func:`sample` gives them: three GOPs, in a
    sixth of the time the whole picture takes to encode."""
    with av.open(str(SAMPLE)) as c:
        frames = [f.reformat(width=96, height=64) for f in c.decode(video=0)]
    info = VideoInfo(96, 64, Fraction(24), len(frames))
    codec, encoder, packets = _encode(frames, info)
    return frames, info, codec, encoder.params, packets


def test_registered_through_entry_point():
    reg = plugins.registrations("codecs")["bitstream"]
    assert reg.plugin == "bitstream"
    assert plugins.get_codec("bitstream").name == "bitstream"


@pytest.mark.slow
def test_sample_round_trip(sample):
    src, info, codec, params, packets = sample
    assert [p.index for p in packets] == [0, 1, 2]
    assert [(p.pts, p.duration) for p in packets] == [(0, 16), (16, 16), (32, 16)]
    assert all(p.stream == "video" and p.is_keyframe for p in packets)
    params = json.loads(json.dumps(params))  # what the DNA metadata stores
    out = _decode(codec, info, params, packets)
    assert [f.pts for f in out] == list(range(48))
    assert all((f.width, f.height) == (320, 240) for f in out)
    assert out[0].time_base == Fraction(1, 24)
    mean = np.mean([psnr(_rgb(a), _rgb(b)) for a, b in zip(src, out, strict=True)])
    assert mean >= 35.0, mean


def test_each_gop_decodes_alone(small):
    _, info, codec, params, packets = small
    everything = {f.pts: _rgb(f) for f in _decode(codec, info, params, packets)}
    for p in packets:
        alone = codec.decoder(info, params).decode(p)
        assert [f.pts for f in alone] == list(range(p.pts, p.pts + p.duration))
        for f in alone:
            assert np.array_equal(_rgb(f), everything[f.pts])


def test_decoder_survives_garbage(small):
    _, info, codec, params, packets = small
    decoder = codec.decoder(info, params)
    rng = np.random.default_rng(1)
    assert decoder.decode(Packet(rng.bytes(5000), index=1, pts=16, duration=16)) == []
    assert decoder.decode(Packet(b"", index=1, pts=16, duration=16)) == []
    damaged = bytearray(packets[1].data)
    damaged[len(damaged) // 3 : len(damaged) // 3 + 400] = rng.bytes(400)
    frames = decoder.decode(Packet(bytes(damaged), index=1, pts=16, duration=16))
    assert all(16 <= f.pts < 32 for f in frames)
    truncated = packets[1].data[: len(packets[1].data) // 2]
    assert len(decoder.decode(Packet(truncated, index=1, pts=16, duration=16))) < 16
    assert [f.pts for f in decoder.decode(packets[2])] == list(range(32, 48))


@pytest.mark.parametrize("video_codec", ["libx265", "libsvtav1"])
def test_encoder_waits_for_whole_gops(video_codec):
    """x265 hands GOPs out before the end; SVT-AV1 encodes asynchronously, so when its
    packets come out depends on its threads (the bytes do not): it is only held to whole
    GOPs."""
    info = VideoInfo(64, 48, Fraction(25), 60)
    encoder = plugins.get_codec("bitstream").encoder(info, gop=8, video_codec=video_codec)
    outputs = [encoder.encode(f) for f in _synthetic(64, 48, 60)]
    emitted_after = [i + 1 for i, o in enumerate(outputs) for _ in o]
    if video_codec == "libx265":
        assert emitted_after, "x265's look-ahead is shorter than 60 frames: some GOP is out early"
    assert all(n >= 8 * (k + 1) for k, n in enumerate(emitted_after))
    packets = [p for o in outputs for p in o] + encoder.encode(None)
    assert [(p.pts, p.duration) for p in packets] == [(8 * k, 8) for k in range(7)] + [(56, 4)]
    with pytest.raises(HelixError):
        encoder.encode(None)


@pytest.mark.parametrize("video_codec", ["libx264", "libsvtav1"])
def test_other_backends(video_codec):
    info = VideoInfo(64, 48, Fraction(30000, 1001), 20)
    src = _synthetic(64, 48, 20)
    codec, encoder, packets = _encode(src, info, gop=8, video_codec=video_codec)
    assert encoder.params["video_codec"] == video_codec
    assert [p.pts for p in packets] == [0, 8, 16]
    out = _decode(codec, info, encoder.params, packets)
    assert [f.pts for f in out] == list(range(20))
    assert np.mean([psnr(_rgb(a), _rgb(b)) for a, b in zip(src, out, strict=True)]) > 30
    alone = codec.decoder(info, encoder.params).decode(packets[1])
    assert [f.pts for f in alone] == list(range(8, 16))


@pytest.mark.parametrize("video_codec", ["libx265", "libx264", "libsvtav1"])
def test_odd_tiny_size_is_padded_and_cropped_back(video_codec):
    info = VideoInfo(33, 17, Fraction(24), 10)
    src = _synthetic(33, 17, 10)
    codec, encoder, packets = _encode(src, info, quality=18, gop=5, video_codec=video_codec)
    low = BACKENDS[video_codec].min_coded
    assert (encoder.params["coded_width"], encoder.params["coded_height"]) == (low, low)
    out = _decode(codec, info, encoder.params, packets)
    assert [(f.width, f.height, f.pts) for f in out] == [(33, 17, i) for i in range(10)]
    assert np.mean([psnr(_rgb(a), _rgb(b)) for a, b in zip(src, out, strict=True)]) > 30


def test_input_frames_are_not_modified():
    info = VideoInfo(64, 48, Fraction(24), 4)
    frame = _synthetic(64, 48, 1)[0].reformat(format="yuv420p")
    frame.pts = 1234
    encoder = plugins.get_codec("bitstream").encoder(info)
    encoder.encode(frame)
    assert frame.pts == 1234


@pytest.mark.parametrize(
    "options",
    [
        {"quality": 52, "video_codec": "libx265"},
        {"quality": 64},
        {"quality": -1},
        {"quality": 0, "video_codec": "libsvtav1"},
        {"gop": 0},
        {"video_codec": "mpeg2video"},
        {"bogus": 1},
    ],
)
def test_bad_options_are_user_errors(options):
    with pytest.raises(HelixError):
        plugins.get_codec("bitstream").encoder(VideoInfo(64, 48, Fraction(24)), **options)


def test_wrong_frame_size_and_bad_params_are_user_errors():
    info = VideoInfo(64, 48, Fraction(24))
    codec = plugins.get_codec("bitstream")
    with pytest.raises(HelixError, match="64x48"):
        codec.encoder(info).encode(av.VideoFrame(32, 32, "yuv420p"))
    with pytest.raises(HelixError):
        codec.decoder(info, {"video_codec": "libx265"})


@pytest.mark.parametrize(
    ("video_codec", "pinned"),
    [("libx265", "frame-threads=1"), ("libx265", "lookahead-threads=1"), ("libx264", "threads=4")],
)
def test_the_thread_settings_that_change_the_bytes_are_pinned(video_codec, pinned):
    """x265's frame threads and x264's threads default to the machine's core count and change
    the bitstream (measured: 1 vs 4 frame threads, 120766 vs 120769 bytes for 16 frames of
    720p; x264 at 2, 4 and 6 threads, three different streams), and so does x265's look-ahead
    with 4 or more pool threads (38979 vs 38982 bytes for the sample at CRF 26, pools=3 vs 4)
    unless its threads are pinned, so all are pinned: every machine writes the same strands.
    SVT-AV1 needs none: the same bytes at lp 1, 2, 4, 8 and with its c, sse4_1, avx2 and
    avx512 kernels (measured)."""
    opts = BACKENDS[video_codec].options(16, 26, None)
    assert pinned in opts[BACKENDS[video_codec].private_option].split(":")


# -- settings: effort, preset, 10 bits, target PSNR (issue 36) -----------------------------


def _small(n: int = 16, seed: int = 0) -> tuple[VideoInfo, list[av.VideoFrame]]:
    return VideoInfo(64, 48, Fraction(24), n), _synthetic(64, 48, n, seed)


def test_the_default_is_svt_av1_at_the_default_effort():
    info, src = _small(8)
    _, encoder, _ = _encode(src, info, gop=8)
    p = encoder.params
    assert (p["version"], p["video_codec"], p["preset"], p["pix_fmt"]) == (
        2, "libsvtav1", BACKENDS["libsvtav1"].preset("default"), "yuv420p"
    )  # fmt: skip
    assert p["crf"] == BACKENDS["libsvtav1"].default_crf


@pytest.mark.parametrize(
    ("options", "preset", "pix_fmt"),
    [
        ({"effort": "fast"}, "8", "yuv420p"),
        ({"preset": 6, "pix_fmt": "yuv420p10le"}, "6", "yuv420p10le"),
        ({"video_codec": "libx265", "effort": "archive"}, "slower", "yuv420p"),
        ({"video_codec": "libx264", "preset": "veryfast"}, "veryfast", "yuv420p"),
    ],
)
def test_settings_are_recorded_and_decoding_needs_no_hint(options, preset, pix_fmt):
    info, src = _small()
    codec, encoder, packets = _encode(src, info, gop=8, quality=24, **options)
    params = json.loads(json.dumps(encoder.params))  # what the DNA metadata stores
    assert (params["version"], params["preset"], params["pix_fmt"], params["crf"]) == (
        2, preset, pix_fmt, 24
    )  # fmt: skip
    out = _decode(codec, info, params, packets)  # the params alone: no option on decoding
    assert [(f.pts, f.format.name) for f in out] == [(i, "yuv420p") for i in range(16)]
    assert np.mean([psnr(_rgb(a), _rgb(b)) for a, b in zip(src, out, strict=True)]) > 30
    assert preset in codec.describe(params)


def test_presets_and_ten_bits_change_the_stream():
    """effort and pix_fmt reach the encoder (not only the metadata)."""
    info, src = _small()
    streams = {
        key: b"".join(p.data for p in _encode(src, info, gop=8, quality=30, **options)[2])
        for key, options in {
            "fast": {"effort": "fast"},
            "default": {},
            "10-bit": {"pix_fmt": "yuv420p10le"},
        }.items()
    }
    assert len(set(streams.values())) == 3


def test_version_1_archives_decode_and_newer_ones_are_refused(small):
    """An archive written before the settings were recorded (version 1: no preset, no
    pix_fmt) decodes as before; a newer version than this reader knows is a user error."""
    src, info, codec, params, packets = small
    old = {k: v for k, v in params.items() if k not in ("preset", "pix_fmt")} | {"version": 1}
    out = _decode(codec, info, old, packets[:1])
    assert [f.pts for f in out] == list(range(16))
    assert codec.describe(old) == f"{old['video_codec']} CRF {old['crf']}, closed GOPs of 16 frames"
    with pytest.raises(HelixError, match="newer"):
        codec.decoder(info, params | {"version": 99})


def test_x265_at_its_default_preset_writes_version_1_params_as_before():
    """x265 (or x264) medium, 8 bits, one CRF: the settings of version 1, written exactly as
    version 1 wrote them, so such archives and helix's x265 enhancement are unchanged."""
    info, src = _small(8)
    for options in ({"video_codec": "libx265"}, {"video_codec": "libx265", "effort": "default"}):
        params = _encode(src, info, gop=8, **options)[1].params
        assert list(params) == [
            "version", "video_codec", "extradata", "gop", "crf", "width", "height",
            "coded_width", "coded_height", "frames",
        ]  # fmt: skip
        assert params["version"] == 1
        assert plugins.get_codec("bitstream").describe(params).startswith("libx265 CRF 26,")
    slower = _encode(src, info, gop=8, video_codec="libx265", preset="slower")[1].params
    assert slower["version"] == 2 and slower["preset"] == "slower"


@pytest.mark.parametrize(
    "options",
    [{}, {"video_codec": "libx265", "effort": "archive"}, {"target_psnr": 34.0, "effort": "fast"}],
)
def test_same_input_and_options_give_the_same_bytes(options):
    info, src = _small(20, seed=3)
    runs = [_encode(src, info, gop=8, **options) for _ in range(2)]
    assert [p.data for p in runs[0][2]] == [p.data for p in runs[1][2]]
    assert runs[0][1].params == runs[1][1].params


@pytest.mark.slow
def test_target_psnr_lands_within_a_db_with_the_fewest_bytes(sample):
    """Each GOP at the highest CRF that reaches the target: the clip lands in [35, 36) dB,
    the PSNR measured here is the one the encoder reports, and one CRF higher misses."""
    src, info, codec, *_ = sample
    src = src[:32]
    info = VideoInfo(info.width, info.height, info.fps, 32)
    codec, encoder, packets = _encode(src, info, target_psnr=35.0)
    params = json.loads(json.dumps(encoder.params))
    out = _decode(codec, info, params, packets)
    reached = np.mean([psnr(_rgb(a), _rgb(b)) for a, b in zip(src, out, strict=True)])
    assert 35.0 <= reached < 36.0
    assert params["psnr"] == pytest.approx(reached, abs=0.006)
    assert params["target_psnr"] == 35.0 and sum(n for _, n in params["crf"]) == 2
    assert "35 dB: " in codec.describe(params) and "reached" in codec.describe(params)
    for k, (crf, _) in enumerate(params["crf"]):  # one CRF higher misses the target
        gop = src[16 * k : 16 * k + 16]
        one = VideoInfo(info.width, info.height, info.fps, 16)
        _, _, pk = _encode(gop, one, quality=crf + 1)
        worse = _decode(codec, one, _encode(gop, one, quality=crf + 1)[1].params, pk)
        assert np.mean([psnr(_rgb(a), _rgb(b)) for a, b in zip(gop, worse, strict=True)]) < 35


@pytest.mark.parametrize(
    "options",
    [
        {"effort": "best"},
        {"effort": "fast", "preset": "4"},
        {"preset": "nonsense"},
        {"video_codec": "libx265", "pix_fmt": "yuv420p10le"},
        {"pix_fmt": "rgb24"},
        {"target_psnr": 35.0, "quality": 30},
        {"target_psnr": 5.0},
        {"target_psnr": "35"},
    ],
)
def test_bad_settings_are_user_errors(options):
    with pytest.raises(HelixError):
        plugins.get_codec("bitstream").encoder(VideoInfo(64, 48, Fraction(24)), **options)


@pytest.mark.slow
def test_the_cli_takes_the_settings_and_says_what_a_target_reached(tmp_path, capsys):
    from helix_media.archive.probe import probe
    from helix_media.cli import transcode_main

    clip = tmp_path / "clip.mkv"
    with av.open(str(clip), "w") as c:
        s = c.add_stream("ffv1", rate=24)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        for f in _synthetic(64, 48, 16):
            c.mux(s.encode(f.reformat(format="yuv420p")))
        c.mux(s.encode(None))
    dna = tmp_path / "t.dnapkt"
    args = [str(clip), str(dna), "--effort", "fast", "--target-psnr", "34", "--no-audio"]
    assert transcode_main(args) == 0
    assert "for a target of 34 dB: " in capsys.readouterr().out
    settings = probe(str(dna))["codec_settings"]
    assert settings.startswith("libsvtav1 preset 8, CRF ") and "reached" in settings
    assert transcode_main([str(dna), str(tmp_path / "back.mkv"), "-q"]) == 0


@pytest.mark.parametrize(("start", "best"), [(48, 51), (30, 51), (63, 51), (20, 1), (5, 63)])
def test_the_crf_search_finds_the_highest_crf_that_reaches_the_target(start, best):
    from helix_media_builtins.codecs.bitstream_target import search_crf

    tried = []

    def reaches(crf):
        tried.append(crf)
        return crf <= best

    assert search_crf(reaches, start, 1, 63) == best
    assert len(tried) <= 2 * 6 + 1 and len(set(tried)) == len(tried)
    assert search_crf(lambda crf: False, start, 1, 63) == 1  # out of reach: the lowest CRF


@pytest.mark.slow
def test_the_python_api_takes_the_settings_as_stream_options(tmp_path):
    """helix_media.open(..., "w").add_stream("bitstream", ..., target_psnr=, effort=): the
    same settings as the command line, recorded in the archive and read back by its own."""
    import helix_media

    src = [f.reformat(format="yuv420p") for f in _synthetic(64, 48, 16)]  # 4:2:0 as coded
    path = tmp_path / "api.dnapkt"
    with helix_media.open(path, "w") as dna:
        stream = dna.add_stream(
            "bitstream", rate=24, width=64, height=48, target_psnr=34.0, effort="fast"
        )
        for frame in src:
            dna.mux(stream.encode(frame))
        dna.mux(stream.encode(None))
    assert stream.encoder.params["psnr"] >= 34.0
    with helix_media.open(path) as dna:
        out = list(dna.decode(video=0))
        assert dna.report.complete
    assert np.mean([psnr(_rgb(a), _rgb(b)) for a, b in zip(src, out, strict=True)]) >= 34.0
