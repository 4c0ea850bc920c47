"""The "bitstream" codec: closed-GOP x265/x264/SVT-AV1 packets that each decode alone."""

from __future__ import annotations

import json
from fractions import Fraction

import av
import numpy as np
import pytest
from helix_media_builtins.bitstream import BACKENDS

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


def test_registered_through_entry_point():
    reg = plugins.registrations("codecs")["bitstream"]
    assert reg.plugin == "bitstream"
    assert plugins.get_codec("bitstream").name == "bitstream"


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


def test_each_gop_decodes_alone(sample):
    _, info, codec, params, packets = sample
    everything = {f.pts: _rgb(f) for f in _decode(codec, info, params, packets)}
    for p in packets:
        alone = codec.decoder(info, params).decode(p)
        assert [f.pts for f in alone] == list(range(p.pts, p.pts + p.duration))
        for f in alone:
            assert np.array_equal(_rgb(f), everything[f.pts])


def test_decoder_survives_garbage(sample):
    _, info, codec, params, packets = sample
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


def test_encoder_waits_for_whole_gops():
    info = VideoInfo(64, 48, Fraction(25), 60)
    encoder = plugins.get_codec("bitstream").encoder(info, gop=8)
    outputs = [encoder.encode(f) for f in _synthetic(64, 48, 60)]
    emitted_after = [i + 1 for i, o in enumerate(outputs) for _ in o]
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


@pytest.mark.parametrize("video_codec", ["libx265", "libx264"])
def test_odd_tiny_size_is_padded_and_cropped_back(video_codec):
    info = VideoInfo(33, 17, Fraction(24), 10)
    src = _synthetic(33, 17, 10)
    codec, encoder, packets = _encode(src, info, quality=18, gop=5, video_codec=video_codec)
    assert (encoder.params["coded_width"], encoder.params["coded_height"]) == (64, 64)
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
        {"quality": 52},
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
    ("video_codec", "pinned"), [("libx265", "frame-threads=1"), ("libx264", "threads=4")]
)
def test_the_thread_settings_that_change_the_bytes_are_pinned(video_codec, pinned):
    """x265's frame threads and x264's threads default to the machine's core count and change
    the bitstream (measured: 1 vs 4 frame threads, 120766 vs 120769 bytes for 16 frames of
    720p; x264 at 2, 4 and 6 threads, three different streams), so both are pinned: every
    machine writes the same strands."""
    opts = BACKENDS[video_codec].options(16, 26, None)
    assert pinned in opts[BACKENDS[video_codec].private_option].split(":")
