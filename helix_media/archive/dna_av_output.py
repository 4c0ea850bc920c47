"""The writer of :func:`helix_media.open` (mode ``"w"``), as PyAV's ``container/output``.

``add_stream`` (or ``add_stream_from_template``), ``stream.encode(frame)`` -> packets,
``container.mux(packets)``; closing lays the packets out in strands and writes them
(``.dnapkt``, ``.fasta``). Apart from the reader (:mod:`dna_av_input`): writing needs the
codecs' encoders and the strand layout, reading the parsers and decoders.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from helix_media import plugins
from helix_media.archive.dna_av_streams import Streams
from helix_media.archive.results import EncodeResult
from helix_media.archive.strands import (
    any_redundancy,
    check_layout_options,
    encode_packets,
    framer_params_for,
    slice_options,
    write_result,
)
from helix_media.blocks.outer_code import Redundancy
from helix_media.errors import HelixError
from helix_media.media.codec import Codec, Packet, VideoInfo, frame_timing


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
        redundancy: Redundancy = None,
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
        self._result: EncodeResult | None = None

    @property
    def result(self) -> EncodeResult:
        """What :meth:`close` made: the strands, their metadata and counts (HelixError
        before the container is closed)."""
        if self._result is None:
            raise HelixError("the archive is made when the container closes: no result yet")
        return self._result

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
        floor = o["redundancy"] if isinstance(o["redundancy"], int | float) else 0.0
        asked = {k: max(r, floor) for k, r in asked.items()}
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
        self._result = encode_packets(
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
