"""The reader of :func:`helix_media.open` (mode ``"r"``), as PyAV's ``container/input``.

Strands or reads (``.dnapkt``, FASTA, FASTQ) of one archive: ``container.streams.video[0]``,
``container.demux()``, ``container.decode(video=0)`` yielding ``av.VideoFrame`` GOP by GOP
(memory bounded by a GOP), lost GOPs concealed; ``container.report`` says what was lost. Apart
from the writer (:mod:`dna_av_output`).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from helix_media import plugins
from helix_media.archive.dna_av_streams import Streams
from helix_media.blocks import layout
from helix_media.errors import HelixError
from helix_media.media.codec import Packet, VideoInfo, layer_of, layer_stream
from helix_media.media.conceal import (
    MAX_UNCONFIRMED_PIXELS,
    MAX_UNCONFIRMED_TOTAL,
    NothingDecoded,
    black_frames,
    conceal_gaps,
)


@dataclass
class InputVideoStream:
    codec_name: str
    width: int
    height: int
    frames: int
    average_rate: Fraction
    type: str = "video"


@dataclass
class InputAudioStream:
    codec_name: str
    rate: int
    layout: str
    type: str = "audio"


def covering(units: list[Packet], pts: int) -> Packet | None:
    """The unit (of units in pts order) whose frames include frame ``pts``, or None."""
    i = bisect.bisect_right(units, pts, key=lambda u: u.pts) - 1
    return units[i] if i >= 0 and pts < units[i].pts + units[i].duration else None


class InputContainer:
    """Strands or reads of one archive, decoded GOP by GOP."""

    def __init__(
        self,
        path: str | Path,
        *,
        reads2: str | None = None,
        framer: str | None = None,
        device: str | None = None,
        parsed: tuple | None = None,
        decoder_options: dict[str, Any] | None = None,
        frames: tuple[int, int] | None = None,
        layers: int | None = None,
    ) -> None:
        """``frames=(start, stop)``: decode only those frames, from the GOPs that overlap
        them; the blocks of other GOPs need not be there, so the outer code is not run (a
        pool's time range: the caller fetched what it needs). ``layers=K``: a layered codec's
        first K layers only (the base is layer 1); the other layers' strands need not be there
        and do not count as lost."""
        from helix_media.archive.parse import read_dna, recover_lost
        from helix_media.archive.results import DecodeResult

        self.path = str(path)
        _, meta, blocks, stats = parsed or read_dna(self.path, framer, reads2)
        if meta.get("kind") == "file" or "video" not in meta:
            raise HelixError(f"{path}: holds a file, not a video (use helix-transcode)")
        if frames is None:
            recover_lost(meta, blocks, stats)
        self.metadata, self._blocks = meta, blocks
        self.info = VideoInfo.from_json(meta["video"])
        self._layouts = {k: layout.StreamLayout(**v) for k, v in meta["streams"].items()}
        #: the video layers in the archive (1 unless the codec is layered)
        self.layers = 1 + max((layer_of(k) or 0) for k in self._layouts)
        if layers is not None:
            if layers < 1:
                raise HelixError(f"--layers must be 1 or more, got {layers}")
            self._keep_layers(min(layers, self.layers), stats)
        self._window = frames or (0, self.info.frames or 0)
        if frames is not None:
            for name, stream in self._layouts.items():
                if layer_of(name) is not None:
                    units = stream.overlapping(*frames)
                    self._layouts[name] = layout.StreamLayout(**{**vars(stream), "units": units})
        self._decoder_options = dict(decoder_options or {})
        if device is not None:  # codecs that run networks take it (helix)
            self._decoder_options["device"] = device
        self.streams = Streams(
            video=[
                InputVideoStream(
                    meta["codec"],
                    self.info.width,
                    self.info.height,
                    self.info.frames or 0,
                    self.info.fps,
                )
            ]
        )
        if "audio" in self._layouts:
            p = self._layouts["audio"].params
            self.streams.audio.append(InputAudioStream("opus", p["sample_rate"], p["layout"]))
        self.report = DecodeResult(
            meta, self.info.frames or 0, stats["strands_read"], stats["strands_ok"],
            stats["symbols_corrected"], {}, [], stats,
        )  # fmt: skip

    def _keep_layers(self, k: int, stats: dict[str, Any]) -> None:
        """Drop video layers k and above; strands are then missing only if those of the
        streams kept are."""
        self.layers = k
        self._layouts = {name: s for name, s in self._layouts.items() if (layer_of(name) or 0) < k}
        kept = [(s.first_strand, s.strands) for s in self._layouts.values()]
        stats["data_strands"] = sum(n for _, n in kept)
        stats["data_strands_found"] = sum(
            first <= a < first + n for a in self._blocks for first, n in kept
        )
        stats.pop("strands_unrecoverable", None)

    @property
    def audio_params(self) -> dict[str, Any] | None:
        """The audio stream's parameters (for writing it to a file), None without audio."""
        return self._layouts["audio"].params if "audio" in self._layouts else None

    def _packets(self, name: str) -> list[Packet]:
        if name not in self._layouts:
            return []
        packets, lost = layout.unpack_stream(
            self._layouts[name], name, self._blocks, int(self.metadata["payload_bits"])
        )
        self.report.lost_units[name] = lost
        return packets

    def _layered_packets(self) -> list[Packet]:
        """The base layer's packets, each with the enhancement layers' packets read that
        cover its first frame (one per layer, or None; a layer's units may span several of
        the base's)."""
        base = self._packets("video")
        layers = [self._packets(layer_stream(k)) for k in range(1, self.layers)]  # in pts order
        for p in base:
            p.layers = [covering(units, p.pts) for units in layers]
        return base

    def demux(self, *streams) -> Iterator[Packet]:
        """The archive's packets: video (one per GOP), then audio units; lost ones are not
        there (see :attr:`report`)."""
        kinds = {s.type for s in streams} or {"video", "audio"}
        for name in ("video", "audio"):
            if name in kinds:
                yield from self._packets(name)

    def decode(self, video: int | None = None, audio: int | None = None):
        """Frames of the chosen stream (default: video) in display order, GOP by GOP. A lost
        GOP's frames repeat the last good frame (or the next good one, at the start): they are
        listed in ``report.concealed_frames``."""
        if audio is not None and video is None:
            return self._decode_audio()
        return self._decode_video()

    def _decode_audio(self) -> Iterator[av.AudioFrame]:
        from helix_media.media.audio import AudioDecoder

        if "audio" not in self._layouts:
            return
        decoder = AudioDecoder(self._layouts["audio"].params)
        for p in [*self._packets("audio"), None]:
            yield from decoder.decode(p)

    def _decode_video(self) -> Iterator[av.VideoFrame]:
        codec = plugins.get_codec(self.metadata["codec"])
        try:
            decoder = codec.decoder(
                self.info, self.metadata["codec_params"], **self._decoder_options
            )
        except TypeError as exc:  # an option this codec's decoder does not take
            options = ", ".join(self._decoder_options)
            raise HelixError(f"the {codec.name} codec's decoder takes no {options}") from exc
        packets = self._layered_packets()
        decoded = (f for p in [*packets, None] for f in decoder.decode(p))
        self.report.concealed_frames.clear()  # a second decode reports afresh
        seen: list[tuple[int, int]] = []  # the picture sizes frames decoded at, claimed or not
        frames = self._of_claimed_size(decoded, seen)
        try:
            yield from conceal_gaps(frames, *self._window, self.report.concealed_frames)
        except NothingDecoded:
            self._check_unconfirmed(seen, len(packets))
            yield from black_frames(self.info.width, self.info.height, *self._window)

    def _of_claimed_size(
        self, decoded: Iterator[av.VideoFrame], seen: list[tuple[int, int]]
    ) -> Iterator[av.VideoFrame]:
        """The decoded frames of the metadata's picture size; a frame of another size is
        damage (dropped: concealed like a lost one), its size noted in ``seen``. Frames of
        the claimed size are what confirm it: concealment repeats them."""
        claimed = (self.info.width, self.info.height)
        for f in decoded:
            if (f.width, f.height) == claimed:
                yield f
            elif (f.width, f.height) not in seen:
                seen.append((f.width, f.height))

    def _check_unconfirmed(self, seen: list[tuple[int, int]], intact: int) -> None:
        """No frame of the window decoded at the claimed size: black frames of that size
        only if every unit was lost (nothing to confirm or refute it) and the picture is
        ordinary; else HelixError, before any frame is given."""
        w, h = self.info.width, self.info.height
        start, stop = self._window
        if seen:  # frames decoded, at another size than the metadata claims
            sizes = ", ".join(f"{a}x{b}" for a, b in seen)
            raise HelixError(
                f"{self.path}: damaged metadata (claims a {w}x{h} picture, its frames decode "
                f"at {sizes}); nothing written"
            )
        if intact:  # CRC-checked units that decode to nothing: not what the metadata says
            raise HelixError(
                f"{self.path}: damaged metadata ({intact} intact video units decode to no "
                f"{w}x{h} frame of {start}-{stop - 1}: the codec parameters do not describe "
                "them); nothing written"
            )
        if w * h > MAX_UNCONFIRMED_PIXELS or w * h * (stop - start) > MAX_UNCONFIRMED_TOTAL:
            raise HelixError(
                f"{self.path}: the video is lost: every unit of frames {start}-{stop - 1} is "
                f"lost or damaged, and {stop - start} black {w}x{h} frames in their place are "
                "more than a picture no frame confirms may be (at most 1920x1080, 2^27 pixels "
                "in all); nothing written"
            )

    def close(self) -> None:
        self._blocks = {}

    def __enter__(self) -> InputContainer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
