"""DNA as a PyAV-shaped container: ``helix_media.open(path, "w" | "r")``.

Writing mirrors ``av.open(path, "w")``: ``add_stream`` (or ``add_stream_from_template``),
``stream.encode(frame)`` -> packets, ``container.mux(packets)``; closing lays the packets out
in strands and writes them (``.dnapkt``, ``.fasta``). Reading (``.dnapkt``, FASTA, FASTQ
reads) mirrors ``av.open(path)``: ``container.streams.video[0]``, ``container.demux()``,
``container.decode(video=0)`` yielding ``av.VideoFrame`` GOP by GOP (memory bounded by a
GOP), lost GOPs concealed; ``container.report`` says what was lost.

    with helix_media.open("out.dnapkt", "w", redundancy=0.1) as dna:
        stream = dna.add_stream("bitstream", rate=24, width=320, height=240)
        for frame in av_container.decode(video=0):
            dna.mux(stream.encode(frame))
        dna.mux(stream.encode(None))
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from helix_media import plugins
from helix_media.archive.strands import (
    any_redundancy,
    check_layout_options,
    encode_packets,
    framer_params_for,
    slice_options,
    write_result,
)
from helix_media.blocks import layout
from helix_media.errors import HelixError
from helix_media.media.codec import Codec, Packet, VideoInfo, frame_timing, layer_of, layer_stream
from helix_media.media.conceal import conceal_gaps


def open(path: str | Path, mode: str = "r", **options: Any):  # noqa: A001 - shaped like av.open
    """A DNA container at ``path``: mode ``"w"`` -> :class:`OutputContainer` (options: coder,
    framer, strand_length, redundancy (default: auto), stream_redundancy, seed,
    metadata_copies); ``"r"`` ->
    :class:`InputContainer` (options: reads2, framer, device)."""
    if mode == "w":
        return OutputContainer(path, **options)
    if mode == "r":
        return InputContainer(path, **options)
    raise HelixError(f"mode must be 'r' or 'w', not {mode!r}")


# -- writing -----------------------------------------------------------------------------------
class OutputVideoStream:
    """One video stream being written: ``encode(frame)`` -> packets, as PyAV's."""

    type = "video"

    def __init__(self, codec_name: str, info: VideoInfo, encoder) -> None:
        self.codec_name, self.info, self.encoder = codec_name, info, encoder
        self.frames = 0
        self.flushed = False
        self._pts: list[int | None] = []  # the frames' own timestamps: variable rate is kept
        self._time_base: Fraction | None = None

    @property
    def width(self) -> int:
        return self.info.width

    @property
    def height(self) -> int:
        return self.info.height

    @property
    def average_rate(self) -> Fraction:
        return self.info.fps

    def encode(self, frame: av.VideoFrame | None = None) -> list[Packet]:
        if self.flushed:
            return []
        if frame is None:
            self.flushed = True
            self.info.frames = self.frames
            self.info.timing = frame_timing(self._pts, self._time_base, self.info.fps)
        else:
            self.frames += 1
            self._pts.append(frame.pts)
            self._time_base = self._time_base or frame.time_base
        return self.encoder.encode(frame)


class OutputAudioStream:
    """The audio stream being written (Opus units of about a second)."""

    type = "audio"

    def __init__(self, rate: int, layout: str) -> None:
        from helix_media.media.audio import AudioEncoder

        self.rate, self.layout = rate, layout
        self.encoder = AudioEncoder(rate, layout)
        self.flushed = False

    def encode(self, frame: av.AudioFrame | None = None) -> list[Packet]:
        if self.flushed:
            return []
        self.flushed = frame is None
        return self.encoder.encode(frame)


@dataclass
class Streams:
    """``container.streams``, as PyAV's: ``.video``, ``.audio`` lists."""

    video: list = field(default_factory=list)
    audio: list = field(default_factory=list)

    def __iter__(self):
        return iter([*self.video, *self.audio])


class OutputContainer:
    """Packets in, strands out on :meth:`close` (nothing is written if the block fails).
    ``path`` None: nothing is written; :attr:`result` holds the strands, or :meth:`contents`
    the packets (pools lay out many items in one address space)."""

    def __init__(
        self,
        path: str | Path | None,
        *,
        coder: str | None = None,
        framer: str | None = None,
        framer_params: dict[str, Any] | None = None,
        strand_length: int | None = None,
        redundancy: float | None = None,
        stream_redundancy: dict[str, float] | None = None,
        seed: int = 0,
        metadata_copies: int = 3,
    ) -> None:
        from helix_media.strandio.atomic import check_target
        from helix_media.strandio.strand_files import is_strand_file

        self.path = None if path is None else str(path)
        if self.path is not None:
            if not is_strand_file(self.path) or self.path.lower().endswith((".fastq", ".fq")):
                raise HelixError(f"{path}: DNA is written to .dnapkt, .fasta or .fa")
            check_target(self.path)
        check_layout_options(redundancy, metadata_copies, stream_redundancy)
        if strand_length is not None:
            framer_params = {**(framer_params or {}), **framer_params_for(framer, strand_length)}
        self.options = {
            "coder": coder,
            "framer": framer,
            "framer_params": framer_params,
            "redundancy": redundancy,
            "stream_redundancy": stream_redundancy,
        }
        self.seed, self.metadata_copies = seed, metadata_copies
        self.streams = Streams()
        self.packets: list[Packet] = []
        #: the outer code the video codec asked for on its best-protected stream: the audio
        #: stream gets it too unless the user set audio's own
        self.audio_redundancy = 0.0
        self.closed = False
        self.result = None  # the EncodeResult, after close()

    def add_stream(
        self,
        codec_name: str,
        rate: int | Fraction | None = None,
        *,
        width: int | None = None,
        height: int | None = None,
        layout: str = "stereo",
        quality: int | None = None,
        **codec_options: Any,
    ):
        """A video stream of a registered codec (``helix``, ``bitstream``, ...), or the audio
        stream (``"opus"``: ``rate`` is the source's sample rate, ``layout`` its channels)."""
        if codec_name in ("opus", "audio"):
            if self.streams.audio:
                raise HelixError("a DNA archive holds one audio stream")
            stream = OutputAudioStream(int(rate or 48_000), layout)
            self.streams.audio.append(stream)
            return stream
        if self.streams.video:
            raise HelixError("a DNA archive holds one video stream")
        if not width or not height or not rate:
            raise HelixError("add_stream needs rate, width and height for a video stream")
        codec = plugins.get_codec(codec_name)
        if not isinstance(codec, Codec):
            raise HelixError(f"{codec_name} stores files, not video: use helix-transcode")
        # a codec whose packets are already DNA (jpeg-dna) names the coder that carries them
        self.options["coder"] = self.options["coder"] or codec.coder
        info = VideoInfo(int(width), int(height), Fraction(rate))
        o = self.options
        # the codec's protection per stream (never below the user's --redundancy), then the
        # user's own per stream
        asked = codec.stream_redundancy(quality, **codec_options)
        asked = {k: max(r, o["redundancy"] or 0.0) for k, r in asked.items()}
        self.audio_redundancy = max(asked.values(), default=0.0)
        o["stream_redundancy"] = {**asked, **(o["stream_redundancy"] or {})}
        redundancy = any_redundancy(o["redundancy"], o["stream_redundancy"])
        options = slice_options(
            codec, codec_options, o["framer"], o["framer_params"], o["coder"], redundancy
        )
        stream = OutputVideoStream(codec.name, info, codec.encoder(info, quality, **options))
        self.streams.video.append(stream)
        return stream

    def add_stream_from_template(self, template, codec: str | None = None, **options: Any):
        """A stream like PyAV stream ``template`` (size and rate, or sample rate and layout),
        coded by ``codec`` (video default: the default codec)."""
        if template.type == "audio":
            ctx = template.codec_context
            return self.add_stream("opus", ctx.sample_rate, layout=ctx.layout.name)
        if template.type != "video":
            raise HelixError(f"a DNA archive holds video and audio, not {template.type}")
        ctx = template.codec_context
        rate = template.guessed_rate or template.average_rate or template.base_rate
        name = codec or plugins.DEFAULTS["codecs"]
        return self.add_stream(name, rate, width=ctx.width, height=ctx.height, **options)

    def mux(self, packets: Packet | list[Packet]) -> None:
        if self.closed:
            raise HelixError("the container is closed")
        self.packets += [packets] if isinstance(packets, Packet) else list(packets)

    def contents(self) -> tuple[list[Packet], dict[str, Any], dict[str, dict[str, Any]]]:
        """Flush the streams -> (packets, metadata fields, per-stream parameters): what
        :meth:`close` lays out in strands."""
        for stream in self.streams:
            self.mux(stream.encode(None))
        where = self.path or "the archive"
        if not self.streams.video:
            raise HelixError(f"{where}: no video stream was added")
        video = self.streams.video[0]
        if video.frames == 0:
            raise HelixError(f"{where}: no frames were encoded")
        fields = {
            "kind": "video",
            "codec": video.codec_name,
            "codec_params": video.encoder.params,
            "video": video.info.to_json(),
        }
        stream_params = (
            {"audio": self.streams.audio[0].encoder.params} if self.streams.audio else {}
        )
        if self.streams.audio and self.audio_redundancy:
            # a lost audio strand costs about a second of sound: protect it like the video
            self.options["stream_redundancy"].setdefault("audio", self.audio_redundancy)
        return self.packets, fields, stream_params

    def close(self) -> None:
        """Flush the streams, lay the packets out in strands and write them."""
        if self.closed:
            return
        packets, fields, stream_params = self.contents()
        self.closed = True
        self.result = encode_packets(
            packets,
            fields,
            seed=self.seed,
            metadata_copies=self.metadata_copies,
            stream_params=stream_params,
            **self.options,
        )
        if self.path is not None:
            write_result(self.path, self.result)

    def __enter__(self) -> OutputContainer:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        self.closed = True  # an exception inside the block: nothing is written


# -- reading -----------------------------------------------------------------------------------
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
        decoded = (f for p in [*self._layered_packets(), None] for f in decoder.decode(p))
        self.report.concealed_frames.clear()  # a second decode reports afresh
        yield from conceal_gaps(decoded, *self._window, self.info, self.report.concealed_frames)

    def close(self) -> None:
        self._blocks = {}

    def __enter__(self) -> InputContainer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
