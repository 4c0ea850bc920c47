"""Audio as Opus (libopus via PyAV) in its own packets, ``Packet.stream == "audio"``.

Opus is the best lossy audio codec at low bit rates, and DNA is paid per byte. Input of any
rate and sample format is resampled to 48 kHz, Opus's native rate; mono stays mono, everything
else is mixed to stereo. Opus packets (20 ms) are grouped into units of 50 (about 1 s); a
unit's ``data`` is its Opus packets, each prefixed by its length as a varint, so a unit can be
split again (:func:`split_unit`).

Timeline: sample 0 is the first input sample at 48 kHz. The encoder's look-ahead (the OpusHead
pre-skip, 312 samples) shifts Opus packet ``j`` to samples ``[j*960 - delay, (j+1)*960 -
delay)``, so unit ``k`` covers ``[k*48000 - delay, (k+1)*48000 - delay)`` clipped to the input.
The decoder trims by these numbers itself (the pre-skip in its OpusHead copy is zeroed), so
output ``pts`` are exact whichever units arrive. Consecutive units share decoder state; after
a gap a fresh decoder starts, which costs a few milliseconds of warm-up, not a unit.
"""

from __future__ import annotations

import base64
from fractions import Fraction
from typing import Any

import av
import numpy as np

from helix_media.blocks.varint import get_varint, put_varint
from helix_media.errors import HelixError
from helix_media.media.codec import Packet

SAMPLE_RATE = 48_000
FRAME_SIZE = 960  # 20 ms, libopus's default and best-tested frame
PACKETS_PER_UNIT = 50  # 1 s
DEFAULT_BITRATE = 24_000  # bits/s per channel (48 kbit/s stereo): good music; DNA costs per byte
_TIME_BASE = Fraction(1, SAMPLE_RATE)


def join_unit(packets: list[bytes]) -> bytes:
    """Opus packets -> unit ``data`` (each packet prefixed by its varint length)."""
    out = bytearray()
    for p in packets:
        put_varint(out, len(p))
        out += p
    return bytes(out)


def split_unit(data: bytes) -> list[bytes]:
    """Unit ``data`` -> its Opus packets; a damaged tail is dropped, not raised."""
    packets, pos = [], 0
    while pos < len(data):
        try:
            size, pos = get_varint(data, pos)
        except ValueError:
            break
        if pos + size > len(data):
            break
        packets.append(data[pos : pos + size])
        pos += size
    return packets


def _coded_layout(layout: str | av.AudioLayout) -> str:
    try:
        channels = av.AudioLayout(layout).nb_channels
    except (ValueError, TypeError, av.FFmpegError) as exc:
        raise HelixError(f"unknown audio channel layout {layout!r}") from exc
    return "mono" if channels == 1 else "stereo"


class AudioEncoder:
    """Audio frames -> about-1-second Opus units (:class:`Packet` with ``stream="audio"``)."""

    def __init__(
        self, sample_rate: int, layout: str | av.AudioLayout, bitrate: int | None = None
    ) -> None:
        self.source_sample_rate = int(sample_rate)
        self.layout = _coded_layout(layout)
        channels = 1 if self.layout == "mono" else 2
        self.bitrate = int(bitrate or DEFAULT_BITRATE * channels)
        if not 6_000 <= self.bitrate <= 256_000 * channels:
            raise HelixError(f"opus bit rate must be 6000-{256_000 * channels}, not {bitrate}")
        ctx = av.CodecContext.create("libopus", "w")
        ctx.sample_rate, ctx.layout, ctx.format = SAMPLE_RATE, self.layout, "flt"
        ctx.bit_rate = self.bitrate
        ctx.time_base = _TIME_BASE
        ctx.open()
        self._ctx = ctx
        self.extradata = bytes(ctx.extradata or b"")
        # OpusHead bytes 10-11: pre-skip, the encoder delay in 48 kHz samples.
        self.delay = int.from_bytes(self.extradata[10:12], "little") if self.extradata else 0
        self._resampler = av.AudioResampler("flt", self.layout, SAMPLE_RATE, FRAME_SIZE)
        self._samples = 0  # 48 kHz samples fed to the encoder
        self._opus_index = 0  # Opus packets received
        self._unit: list[bytes] = []
        self._flushed = False

    @property
    def params(self) -> dict[str, Any]:
        """JSON-serializable; ``samples`` is final only after the flush."""
        return {
            "codec": "opus",
            "sample_rate": SAMPLE_RATE,
            "layout": self.layout,
            "source_sample_rate": self.source_sample_rate,
            "bitrate": self.bitrate,
            "frame_size": FRAME_SIZE,
            "packets_per_unit": PACKETS_PER_UNIT,
            "delay": self.delay,
            "extradata": base64.b64encode(self.extradata).decode("ascii"),
            "samples": self._samples,
        }

    def encode(self, frame: av.AudioFrame | None) -> list[Packet]:
        """Feed one frame (``None`` flushes); return the units that became complete."""
        if self._flushed:
            raise HelixError("the audio encoder was already flushed")
        out: list[Packet] = []
        for chunk in self._resampler.resample(frame):
            chunk.pts, chunk.time_base = self._samples, _TIME_BASE
            self._samples += chunk.samples
            out += self._collect(self._ctx.encode(chunk))
        if frame is None:
            self._flushed = True
            out += self._collect(self._ctx.encode(None))
            if self._unit:
                out.append(self._emit())
        return out

    def _collect(self, packets: list[av.Packet]) -> list[Packet]:
        out = []
        for pkt in packets:
            if self._unit and self._opus_index % PACKETS_PER_UNIT == 0:
                out.append(self._emit())
            self._unit.append(bytes(pkt))
            self._opus_index += 1
        return out

    def _emit(self) -> Packet:
        first = self._opus_index - len(self._unit)
        index = first // PACKETS_PER_UNIT
        start = max(0, first * FRAME_SIZE - self.delay)
        end = min(self._samples, self._opus_index * FRAME_SIZE - self.delay)
        data = join_unit(self._unit)
        self._unit = []
        return Packet(data, "audio", index, start, max(0, end - start), True)


def _planar(frame: av.AudioFrame) -> np.ndarray:
    """(channels, samples) float32 of any decoded frame."""
    a = frame.to_ndarray().astype(np.float32, copy=False)
    channels = frame.layout.nb_channels
    return a.reshape(channels, -1) if frame.format.is_planar else a.reshape(-1, channels).T


class AudioDecoder:
    """Opus units -> 48 kHz ``av.AudioFrame`` (fltp) with ``pts`` in samples."""

    def __init__(self, params: dict[str, Any]) -> None:
        try:
            self.layout = str(params["layout"])
            self.delay = int(params["delay"])
            self.frame_size = int(params.get("frame_size", FRAME_SIZE))
            self.per_unit = int(params.get("packets_per_unit", PACKETS_PER_UNIT))
            head = bytearray(base64.b64decode(params.get("extradata", "")))
        except (KeyError, TypeError, ValueError) as exc:
            raise HelixError(f"audio parameters are damaged: {exc!r}") from exc
        if self.layout not in ("mono", "stereo"):
            raise HelixError(f"audio parameters: unsupported layout {self.layout!r}")
        if len(head) >= 12:
            head[10:12] = b"\0\0"  # we trim the pre-skip ourselves, per unit
        self._head = bytes(head)
        self._ctx: av.CodecContext | None = None
        self._next_index: int | None = None

    def _context(self, index: int) -> av.CodecContext:
        """The running decoder if ``index`` continues the last unit, else a fresh one."""
        if self._ctx is None or index != self._next_index:
            ctx = av.CodecContext.create("opus", "r")
            ctx.sample_rate, ctx.layout = SAMPLE_RATE, self.layout
            if self._head:
                ctx.extradata = self._head
            self._ctx = ctx
        self._next_index = index + 1
        return self._ctx

    def decode(self, packet: Packet | None) -> list[av.AudioFrame]:
        """Feed one unit (``None`` flushes); return its samples, trimmed to the unit's span."""
        if packet is None:
            self._ctx, self._next_index = None, None
            return []
        ctx = self._context(packet.index)
        first = packet.index * self.per_unit
        runs: list[tuple[int, list[np.ndarray]]] = []  # contiguous (start, blocks)
        run_end = None
        for i, payload in enumerate(split_unit(packet.data)):
            pos = (first + i) * self.frame_size - self.delay
            try:
                frames = ctx.decode(av.Packet(payload))
            except (av.FFmpegError, ValueError):
                continue  # a damaged Opus packet costs its 20 ms
            for f in frames:
                block = _planar(f)
                if pos == run_end:
                    runs[-1][1].append(block)
                else:
                    runs.append((pos, [block]))
                pos += f.samples
                run_end = pos
        end = packet.pts + packet.duration
        return [
            f
            for start, blocks in runs
            if (f := self._frame(start, np.concatenate(blocks, axis=1), packet.pts, end))
        ]

    def _frame(self, start: int, pcm: np.ndarray, lo: int, hi: int) -> av.AudioFrame | None:
        """The part of ``pcm`` (starting at sample ``start``) inside ``[lo, hi)``."""
        a, b = max(start, lo), min(start + pcm.shape[1], hi)
        if b <= a:
            return None
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(pcm[:, a - start : b - start], dtype=np.float32),
            format="fltp",
            layout=self.layout,
        )
        frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, a, _TIME_BASE
        return frame
