"""Opus audio units: exact sample timeline, faithful tone, independent units."""

from __future__ import annotations

import json
from fractions import Fraction

import av
import numpy as np
import pytest

from helix_media.errors import HelixError
from helix_media.media.audio import AudioDecoder, AudioEncoder, join_unit, split_unit
from helix_media.media.codec import Packet


def _tone(rate: int, n: int, channels: int) -> np.ndarray:
    """(channels, n) float: 440 Hz left, 660 Hz right, with a 0.1 s fade-in."""
    t = np.arange(n) / rate
    fade = np.minimum(1.0, t * 10)
    return np.stack([0.3 * np.sin(2 * np.pi * f * t) * fade for f in (440, 660)][:channels])


def _frames(pcm: np.ndarray, rate: int, fmt: str, step: int = 1000):
    layout = "mono" if pcm.shape[0] == 1 else "stereo"
    for start in range(0, pcm.shape[1], step):
        block = pcm[:, start : start + step]
        if fmt == "s16":  # packed integers
            arr = (block.T.reshape(1, -1) * 32767).astype(np.int16)
        else:
            arr = np.ascontiguousarray(block, dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(arr, format=fmt, layout=layout)
        frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
        yield frame


def _encode(rate: int, seconds: float, channels: int, fmt: str):
    pcm = _tone(rate, int(rate * seconds), channels)
    enc = AudioEncoder(rate, "mono" if channels == 1 else "stereo")
    units = []
    for frame in _frames(pcm, rate, fmt):
        units += enc.encode(frame)
    units += enc.encode(None)
    return enc.params, units


def _pcm(frames) -> np.ndarray:
    return np.concatenate([f.to_ndarray() for f in frames], axis=1)


@pytest.mark.parametrize(("rate", "channels", "fmt"), [(44100, 2, "s16"), (48000, 1, "fltp")])
def test_round_trip(rate, channels, fmt):
    params, units = _encode(rate, 2.5, channels, fmt)
    params = json.loads(json.dumps(params))
    assert params["samples"] == 120_000  # 2.5 s at 48 kHz
    assert all(u.stream == "audio" for u in units)
    assert [u.index for u in units] == [0, 1, 2]
    ends = [u.pts + u.duration for u in units]
    assert [u.pts for u in units] == [0, *ends[:-1]] and ends[-1] == 120_000

    dec = AudioDecoder(params)
    frames = [f for u in [*units, None] for f in dec.decode(u)]
    assert frames[0].pts == 0 and frames[0].sample_rate == 48_000
    assert all(a.pts + a.samples == b.pts for a, b in zip(frames[:-1], frames[1:], strict=True))
    out = _pcm(frames)
    ref = _tone(48_000, 120_000, channels)
    assert out.shape == ref.shape
    for ch in range(channels):  # aligned to the sample, and faithful
        assert np.corrcoef(out[ch, 4800:], ref[ch, 4800:])[0, 1] > 0.99
        noise = np.mean((out[ch, 4800:] - ref[ch, 4800:]) ** 2)
        assert 10 * np.log10(np.mean(ref[ch, 4800:] ** 2) / noise) > 15


def test_units_decode_alone_and_after_a_loss():
    params, units = _encode(48000, 3.2, 2, "fltp")
    ref = _tone(48_000, params["samples"], 2)
    alone = AudioDecoder(params).decode(units[2])
    assert [(f.pts, f.samples) for f in alone] == [(units[2].pts, units[2].duration)]
    start = units[2].pts + 480  # skip the cold decoder's first 10 ms
    got = alone[0].to_ndarray()[0, 480:]
    assert np.corrcoef(got, ref[0, start : start + got.size])[0, 1] > 0.98

    dec = AudioDecoder(params)  # unit 1 lost: the others keep their place on the timeline
    frames = [f for u in (units[0], units[2], units[3]) for f in dec.decode(u)]
    assert frames[0].pts == 0
    assert units[2].pts in [f.pts for f in frames]


def test_units_split_and_survive_garbage():
    params, units = _encode(48000, 1.5, 2, "fltp")
    packets = split_unit(units[0].data)
    assert len(packets) == 50 and join_unit(packets) == units[0].data
    assert split_unit(units[0].data[:-3]) == packets[:-1]
    junk = np.random.default_rng(0).bytes(3000)
    dec = AudioDecoder(params)
    dec.decode(Packet(junk, "audio", 1, units[1].pts, units[1].duration))
    assert dec.decode(units[0])[0].pts == 0


def test_bad_input_is_a_user_error():
    with pytest.raises(HelixError):
        AudioEncoder(48000, "no-such-layout")
    with pytest.raises(HelixError):
        AudioDecoder({"layout": "stereo"})
