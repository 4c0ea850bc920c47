"""``helixdnasink``: raw video (and audio) in, a DNA archive out on end of stream, as
``helix-transcode IN OUT.dnapkt`` writes it (the work: :class:`.bridge.ArchiveWriter`)."""

from __future__ import annotations

import threading
from fractions import Fraction

from gi.repository import GObject, Gst, GstBase, GstVideo

from helix_media.gst.element_base import (
    AUDIO_CAPS,
    RW,
    VIDEO_CAPS,
    bridge,
    caps_int,
    float_like_c,
    plane_layout,
    post_error,
    post_structure,
    post_warning,
)

SINK_PROPERTIES = {
    "location": (
        str, "Location",
        "The archive to write, on end of stream: .dnapkt, or FASTA (.fasta, .fa); nothing is "
        "written before, or if the pipeline stops early (helix-transcode's OUT)",
        None, RW,
    ),
    "codec": (
        str, "Codec",
        "Codec plugin that codes the frames: bitstream (the default), helix, mjpeg, "
        "jpeg-dna... (helix plugins lists them; helix-transcode --codec)",
        None, RW,
    ),
    "quality": (
        int, "Quality",
        "The codec's quality: bitstream's CRF (lower is better), helix's level 1-7 (higher is "
        "better); -1: the codec's default (helix-transcode --quality)",
        -1, 1000, -1, RW,
    ),
    "redundancy": (
        float, "Redundancy",
        "Outer erasure code: parity strands per data strand (0.1 = 10 % more strands, up to "
        "10 % of strands lost decode bit-exactly); -1: auto, sized for 2 % strand loss; "
        "0: none (helix-transcode --redundancy)",
        -1.0, 4.0, -1.0, RW,
    ),
    "stream-redundancy": (
        str, "Stream redundancy",
        "Outer codes of single streams, STREAM=R,...: e.g. video=0.2,audio=0 "
        "(helix-transcode --stream-redundancy)",
        None, RW,
    ),
    "coder": (
        str, "Coder",
        "Constraint coder plugin: enumerative (default), tk-scone, verbatim, goldman... "
        "(helix-transcode --coder)",
        None, RW,
    ),
    "framer": (
        str, "Framer",
        "Strand framer plugin: helix (default)... (helix-transcode --framer)",
        None, RW,
    ),
    "strand-length": (
        int, "Strand length",
        "Strands of N nt, primers included (helix: 200-300); 0: the framer's default, 240 "
        "(helix-transcode --strand-length)",
        0, 100000, 0, RW,
    ),
    "gop": (
        int, "GOP",
        "Frames per GOP, each decoding alone (bitstream; helix's x265 layer: a multiple of "
        "8); 0: the codec's default, 16 (helix-transcode --gop)",
        0, 100000, 0, RW,
    ),
    "seed": (
        int, "Seed",
        "Seed of the whitening keystream (helix-transcode --seed)",
        0, GObject.G_MAXINT, 0, RW,
    ),
    "metadata-copies": (
        int, "Metadata copies",
        "Copies of the metadata strands (helix-transcode --metadata-copies)",
        1, 32, 3, RW,
    ),
    "codec-options": (
        str, "Codec options",
        "Further codec options, as on helix-transcode's command line: e.g. "
        "\"--video-codec libx265 --effort fast\" (helix-transcode --help lists them)",
        None, RW,
    ),
}  # fmt: skip


class HelixDnaSink(GstBase.BaseSink):
    """Raw video (pad ``sink``) and audio (request pad ``audio``) -> a DNA archive on EOS."""

    __gtype_name__ = "HelixDnaSink"
    __gstmetadata__ = (
        "Helix DNA archive sink",
        "Sink/Video/Audio/File",
        "Encodes raw video, and audio on its request pad 'audio', into synthetic DNA strands "
        "and writes them on end of stream as a .dnapkt or FASTA archive: the same archive, "
        "byte for byte, as helix-transcode makes of the same frames with the same options. "
        "Posts a helix-dna-archive element message saying what was written",
        "helix-media",
    )
    __gsttemplates__ = (
        Gst.PadTemplate.new("sink", Gst.PadDirection.SINK, Gst.PadPresence.ALWAYS, VIDEO_CAPS),
        Gst.PadTemplate.new("audio", Gst.PadDirection.SINK, Gst.PadPresence.REQUEST, AUDIO_CAPS),
    )
    __gproperties__ = SINK_PROPERTIES

    def __init__(self) -> None:
        super().__init__()
        float_like_c(self)
        self._props = {name: spec[-2] for name, spec in SINK_PROPERTIES.items()}
        self.set_sync(False)  # encode as fast as frames come, not at playback speed
        self.set_last_sample_enabled(False)
        self.set_qos_enabled(False)
        self._writer = None
        self._video_info = None
        self._audio_pad = None
        self._cond = threading.Condition()
        self._lock = threading.Lock()  # the writer is shared by the video and audio threads
        self._reset()

    def _reset(self) -> None:
        self._audio_active = self._audio_eos = self._unlocked = False

    def do_get_property(self, prop):
        return self._props[prop.name]

    def do_set_property(self, prop, value) -> None:
        self._props[prop.name] = value

    # state: the options are checked and the target too when the element goes to READY, so
    # a wrong one is one error line before any frame is decoded
    def do_change_state(self, transition: Gst.StateChange) -> Gst.StateChangeReturn:
        if transition == Gst.StateChange.NULL_TO_READY:
            self._error_posted = False
            if not self._open():
                return Gst.StateChangeReturn.FAILURE
        result = GstBase.BaseSink.do_change_state(self, transition)
        if transition == Gst.StateChange.READY_TO_NULL:
            self._writer = None
        return result

    def _open(self) -> bool:
        p = self._props
        self._reset()
        try:
            self._writer = bridge().ArchiveWriter(
                p["location"],
                codec=p["codec"],
                coder=p["coder"],
                framer=p["framer"],
                quality=None if p["quality"] < 0 else p["quality"],
                strand_length=p["strand-length"] or None,
                redundancy=None if p["redundancy"] < 0 else p["redundancy"],
                stream_redundancy=p["stream-redundancy"],
                seed=p["seed"],
                metadata_copies=p["metadata-copies"],
                gop=p["gop"],
                codec_options=p["codec-options"],
            )
        except BaseException as exc:  # noqa: BLE001 - one error line on the bus (Ctrl-C too)
            post_error(self, exc, Gst.resource_error_quark(), int(Gst.ResourceError.OPEN_WRITE))
            return False
        return True

    def do_start(self) -> bool:
        return self._writer is not None or self._open()  # played again after a stop

    def do_stop(self) -> bool:
        self._writer = None  # nothing written unless end of stream came
        return True

    def do_unlock(self) -> bool:
        with self._cond:
            self._unlocked = True
            self._cond.notify_all()
        return True

    def do_unlock_stop(self) -> bool:
        with self._cond:
            self._unlocked = False
        return True

    # video
    def do_set_caps(self, caps: Gst.Caps) -> bool:
        try:
            s = caps.get_structure(0)
            ok, num, den = s.get_fraction("framerate")
            if ok and num == 0:  # a variable rate: its maximum, if upstream says it
                ok, num, den = s.get_fraction("max-framerate")
            fps = Fraction(num, den) if ok and den and num > 0 else None
            info = GstVideo.VideoInfo.new_from_caps(caps)
            with self._lock:
                self._writer.add_video(
                    s.get_string("format"), caps_int(s, "width"), caps_int(s, "height"), fps
                )
            self._video_info = info
        except BaseException as exc:  # noqa: BLE001 - one error line on the bus
            post_error(self, exc, Gst.stream_error_quark(), int(Gst.StreamError.FORMAT))
            return False
        return True

    def do_render(self, buf: Gst.Buffer) -> Gst.FlowReturn:
        try:
            layout = plane_layout(self._video_info, buf)
            pts = None if buf.pts == Gst.CLOCK_TIME_NONE else buf.pts
            ok, mapped = buf.map(Gst.MapFlags.READ)
            if not ok:
                raise OSError("cannot map a video buffer")
            try:
                with self._lock:
                    self._writer.write_video(mapped.data, layout, pts)
            finally:
                buf.unmap(mapped)
        except BaseException as exc:  # noqa: BLE001 - one error line on the bus
            post_error(self, exc, Gst.stream_error_quark(), int(Gst.StreamError.ENCODE))
            return Gst.FlowReturn.ERROR
        return Gst.FlowReturn.OK

    def do_event(self, event: Gst.Event) -> bool:
        if event.type == Gst.EventType.EOS and not self._finish():
            return False
        return GstBase.BaseSink.do_event(self, event)

    def _finish(self) -> bool:
        """End of the video: wait for the audio's end, then write the archive."""
        with self._cond:
            while self._audio_active and not self._audio_eos and not self._unlocked:
                self._cond.wait(0.1)
            if self._unlocked:
                return False  # flushing or shutting down: nothing is written
        try:
            with self._lock:
                r = self._writer.finish()
        except BaseException as exc:  # noqa: BLE001 - one error line on the bus
            post_error(self, exc, Gst.resource_error_quark(), int(Gst.ResourceError.WRITE))
            return False
        m = r.metadata
        post_structure(
            self,
            "helix-dna-archive",
            {
                "location": self._writer.location,
                "strands": int(len(r.strands)),
                "data-strands": int(r.data_strands),
                "metadata-strands": int(r.metadata_strands),
                "frames": int(m["video"]["frames"]),
                "codec": str(m["codec"]),
                "audio": "audio" in m["streams"],
            },
        )
        if r.violations:
            post_warning(
                self,
                f"the {m['coder']} coder does not guarantee the synthesis constraints: "
                f"{r.violations} of {len(r.strands)} strands are outside them (GC window, "
                "homopolymer runs or forbidden motifs); check with helix probe",
                int(Gst.StreamError.ENCODE),
            )
        return True

    # audio
    def do_request_new_pad(self, templ, name=None, caps=None):
        if self._audio_pad is not None:
            return None  # an archive holds one audio stream
        pad = Gst.Pad.new_from_template(templ, "audio")
        pad.set_chain_function_full(self._audio_chain, None)
        pad.set_event_function_full(self._audio_event, None)
        if self.get_state(0)[1] > Gst.State.READY:
            pad.set_active(True)
        self.add_pad(pad)
        self._audio_pad = pad
        return pad

    def do_release_pad(self, pad) -> None:
        if pad is self._audio_pad:
            self._audio_pad = None
            pad.set_active(False)
            self.remove_pad(pad)

    def _audio_event(self, pad, parent, event) -> bool:
        try:
            if event.type == Gst.EventType.STREAM_START:
                with self._cond:
                    self._audio_active = True
            elif event.type == Gst.EventType.CAPS:
                s = event.parse_caps().get_structure(0)
                if self._writer is None:
                    return False
                with self._lock:
                    self._writer.add_audio(caps_int(s, "rate"), caps_int(s, "channels"))
            elif event.type == Gst.EventType.EOS:
                with self._cond:
                    self._audio_eos = True
                    self._cond.notify_all()
        except BaseException as exc:  # noqa: BLE001 - one error line on the bus
            post_error(self, exc, Gst.stream_error_quark(), int(Gst.StreamError.FORMAT))
            return False
        return True

    def _audio_chain(self, pad, parent, buf) -> Gst.FlowReturn:
        if self._writer is None:
            return Gst.FlowReturn.FLUSHING
        try:
            ok, mapped = buf.map(Gst.MapFlags.READ)
            if not ok:
                raise OSError("cannot map an audio buffer")
            try:
                with self._lock:
                    self._writer.write_audio(mapped.data)
            finally:
                buf.unmap(mapped)
        except BaseException as exc:  # noqa: BLE001 - one error line on the bus
            post_error(self, exc, Gst.stream_error_quark(), int(Gst.StreamError.ENCODE))
            return Gst.FlowReturn.ERROR
        return Gst.FlowReturn.OK
