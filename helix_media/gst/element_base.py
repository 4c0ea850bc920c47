"""What helix-media's GStreamer elements share (gst-python; imported only by GStreamer's
Python, through ``python/helixdnasink.py`` and ``helixdnasrc.py``): their caps, one-line errors
and element messages on the bus, the floating reference GStreamer expects, and the import of
:mod:`helix_media.gst.bridge` (numpy, PyAV, the codecs) when an element starts."""

from __future__ import annotations

import os
import sys
import traceback

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstBase", "1.0")
gi.require_version("GstVideo", "1.0")
from gi.repository import GObject, Gst, GstVideo  # noqa: E402

Gst.init(None)

RW = GObject.ParamFlags.READWRITE
VIDEO_CAPS = Gst.Caps.from_string(
    "video/x-raw, format=(string){ I420, RGB }, width=(int)[ 1, 32767 ], "
    "height=(int)[ 1, 32767 ], framerate=(fraction)[ 0/1, 2147483647/1 ]"
)
AUDIO_CAPS = Gst.Caps.from_string(
    "audio/x-raw, format=(string)F32LE, layout=(string)interleaved, rate=(int)[ 1, 768000 ], "
    "channels=(int)[ 1, 8 ]"
)


class SetupError(Exception):
    """helix-media's dependencies cannot be imported by GStreamer's Python."""


_bridge = None


def bridge():
    """:mod:`helix_media.gst.bridge`, imported on first use; SetupError says why not."""
    global _bridge
    if _bridge is None:
        try:
            from helix_media.gst import bridge as module
        except Exception as exc:  # noqa: BLE001 - any import failure becomes one line
            from helix_media.gst import SITE_VARIABLE

            setup = sys.modules.get("helixdna")
            hint = getattr(setup, "PROBLEM", None) or (
                f'set {SITE_VARIABLE}: eval "$(helix gst-path --env)" in the environment '
                "helix-media is installed in"
            )
            raise SetupError(
                f"GStreamer's Python {sys.version.split()[0]} cannot import helix-media's "
                f"dependencies ({type(exc).__name__}: {exc}); {hint}"
            ) from exc
        _bridge = module
    return _bridge


def _one_line(exc: BaseException) -> str:
    """An exception as users see it from the CLI: a HelixError's or an FFmpeg/OS error's own
    text, anything else as an internal error with its type."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    names = {cls.__name__ for cls in type(exc).__mro__}
    text = str(exc).strip().replace("\n", " ")
    if names & {"HelixError", "SetupError", "FFmpegError", "OSError"}:
        return text or type(exc).__name__
    return f"internal error: {type(exc).__name__}: {text}"


def post_error(element: Gst.Element, exc: BaseException, domain=None, code=None) -> None:
    """``exc`` as a GStreamer error message: one line, once per run (a renegotiation may
    call the failing step again); the traceback as its debug text only with HELIX_DEBUG=1."""
    if getattr(element, "_error_posted", False):
        return
    element._error_posted = True
    debug = traceback.format_exc() if os.environ.get("HELIX_DEBUG") else None
    if domain is None:
        domain, code = Gst.stream_error_quark(), int(Gst.StreamError.FAILED)
    element.message_full(
        Gst.MessageType.ERROR, domain, code, _one_line(exc), debug, "helix-media",
        type(element).__name__, 0,
    )  # fmt: skip


def post_warning(element: Gst.Element, text: str, code: int | None = None) -> None:
    code = int(Gst.StreamError.DECODE) if code is None else code
    element.message_full(
        Gst.MessageType.WARNING, Gst.stream_error_quark(), code, text, None, "helix-media",
        type(element).__name__, 0,
    )  # fmt: skip


def post_structure(element: Gst.Element, name: str, fields: dict) -> None:
    """An element message (``gst-launch-1.0 -m`` prints it): a GstStructure ``name`` with
    ``fields`` (ints and strings)."""
    s = Gst.Structure.new_empty(name)
    for key, value in fields.items():
        s.set_value(key, value)
    element.post_message(Gst.Message.new_element(element, s))


def float_like_c(element: GObject.Object) -> None:
    """Give GStreamer the floating reference it expects from a new element. PyGObject (3.42,
    Debian 12's) hands an element defined in Python over already sunk, and GStreamer then
    prints "The created element should be floating" on every pipeline. Here the Python wrapper
    keeps its own reference and the caller gets a floating one, as from an element written in
    C (checked: the element is finalized once the pipeline and the wrapper are gone)."""
    if element.is_floating():  # a PyGObject that already does this
        return
    from gi.module import get_introspection_module

    gobject = get_introspection_module("GObject").Object
    gobject.ref(element)
    gobject.force_floating(element)


def caps_int(structure: Gst.Structure, name: str) -> int:
    ok, value = structure.get_int(name)
    if not ok:
        raise ValueError(f"caps without {name}")
    return value


def plane_layout(info: GstVideo.VideoInfo, buf: Gst.Buffer | None = None):
    """Where a buffer's planes are: its GstVideoMeta if it has one, else its caps' layout."""
    meta = GstVideo.buffer_get_video_meta(buf) if buf is not None else None
    src = meta if meta is not None else info
    n = info.finfo.n_planes
    return bridge().PlaneLayout(tuple(src.offset[:n]), tuple(src.stride[:n]))
