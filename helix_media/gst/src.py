"""``helixdnasrc``: a DNA archive or reads in, raw video buffers with timestamps out, GOP by
GOP, what was lost posted on the bus (the work: :class:`.bridge.ArchiveReader`)."""

from __future__ import annotations

from gi.repository import Gst, GstBase, GstVideo

from helix_media.gst.element_base import (
    RW,
    VIDEO_CAPS,
    bridge,
    float_like_c,
    plane_layout,
    post_error,
    post_structure,
    post_warning,
)

SRC_PROPERTIES = {
    "location": (
        str, "Location",
        "The archive or reads to play: .dnapkt, FASTA (.fasta, .fa) or FASTQ reads (.fastq, "
        ".fq, optionally .gz); read whole when the element starts (helix-transcode's IN)",
        None, RW,
    ),
    "reads2": (
        str, "Reads 2",
        "Paired-end reads: location is the R1 FASTQ, this the file of their mates "
        "(helix-transcode --reads2)",
        None, RW,
    ),
    "framer": (
        str, "Framer",
        "The strands' framer, only to override the one the archive names or its reads show "
        "(helix-transcode --framer)",
        None, RW,
    ),
    "layers": (
        int, "Layers",
        "A layered codec's first K layers only (helix: 1 is the base layer, a cheap preview); "
        "0: all (helix-transcode --layers)",
        0, 64, 0, RW,
    ),
}  # fmt: skip


class HelixDnaSrc(GstBase.BaseSrc):
    """A DNA archive or reads -> raw video buffers with timestamps, GOP by GOP."""

    __gtype_name__ = "HelixDnaSrc"
    __gstmetadata__ = (
        "Helix DNA archive source",
        "Source/Video/File",
        "Decodes a DNA archive (.dnapkt, FASTA) or sequencing reads (FASTQ, optionally .gz) "
        "into raw video (I420, or RGB for codecs that decode to RGB) with timestamps, GOP by "
        "GOP, as helix-transcode decodes. Lost GOPs are concealed by repeating the last good "
        "frame; what was lost is posted as a helix-dna-loss element message and a warning",
        "helix-media",
    )
    __gsttemplates__ = Gst.PadTemplate.new(
        "src", Gst.PadDirection.SRC, Gst.PadPresence.ALWAYS, VIDEO_CAPS
    )
    __gproperties__ = SRC_PROPERTIES

    def __init__(self) -> None:
        super().__init__()
        float_like_c(self)
        self._props = {name: spec[-2] for name, spec in SRC_PROPERTIES.items()}
        self.set_format(Gst.Format.TIME)
        self.set_live(False)
        self._reader = None
        self._caps = None
        self._video_info = None

    def do_get_property(self, prop):
        return self._props[prop.name]

    def do_set_property(self, prop, value) -> None:
        self._props[prop.name] = value

    # state: the archive is read (and the first GOP decoded, for the caps) when the element
    # goes to READY, so a missing or damaged one is one error line
    def do_change_state(self, transition: Gst.StateChange) -> Gst.StateChangeReturn:
        if transition == Gst.StateChange.NULL_TO_READY:
            self._error_posted = False
            if not self._open():
                return Gst.StateChangeReturn.FAILURE
        result = GstBase.BaseSrc.do_change_state(self, transition)
        if transition == Gst.StateChange.READY_TO_NULL:
            self._close()
        return result

    def _open(self) -> bool:
        p = self._props
        try:
            r = bridge().ArchiveReader(
                p["location"], reads2=p["reads2"], framer=p["framer"], layers=p["layers"] or None
            )
            caps = Gst.Caps.from_string(
                f"video/x-raw, format=(string){r.format}, width=(int){r.width}, "
                f"height=(int){r.height}, framerate=(fraction){r.fps.numerator}/"
                f"{r.fps.denominator}, pixel-aspect-ratio=(fraction)1/1, "
                "interlace-mode=(string)progressive"
            )
            self._video_info = GstVideo.VideoInfo.new_from_caps(caps)
        except BaseException as exc:  # noqa: BLE001 - one error line on the bus
            post_error(self, exc, Gst.resource_error_quark(), int(Gst.ResourceError.OPEN_READ))
            return False
        self._reader, self._caps = r, caps
        return True

    def _close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        self._reader = self._caps = None

    def do_start(self) -> bool:
        return self._reader is not None or self._open()  # played again after a stop

    def do_stop(self) -> bool:
        self._close()
        return True

    def do_get_caps(self, filt):
        caps = self._caps if self._caps is not None else self.get_pad_template("src").get_caps()
        return caps.intersect(filt) if filt is not None else caps

    def do_is_seekable(self) -> bool:
        return False

    def do_create(self, offset, size, buf=None):
        r = self._reader
        try:
            out = r.read(self._video_info.size, plane_layout(self._video_info))
            if out is None:
                self._report_loss()
                return Gst.FlowReturn.EOS, None
        except BaseException as exc:  # noqa: BLE001 - one error line on the bus
            post_error(self, exc, Gst.stream_error_quark(), int(Gst.StreamError.DECODE))
            return Gst.FlowReturn.ERROR, None
        data, pts, duration = out
        buffer = Gst.Buffer.new_wrapped(data)
        buffer.pts, buffer.duration = pts, duration
        buffer.offset, buffer.offset_end = r.index - 1, r.index
        return Gst.FlowReturn.OK, buffer

    def _report_loss(self) -> None:
        loss = self._reader.loss()
        if loss is None:
            return
        post_structure(self, "helix-dna-loss", {"location": self._reader.location, **loss})
        post_warning(self, f"{self._reader.location}: {loss['report']}")
