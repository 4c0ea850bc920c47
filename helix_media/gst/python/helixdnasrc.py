"""Registers ``helixdnasrc`` (helix_media.gst.src) with gst-python's plugin loader."""

import helixdna

try:
    import gi

    for namespace in ("Gst", "GstBase", "GstVideo"):
        gi.require_version(namespace, "1.0")
    from gi.repository import GObject, Gst

    from helix_media.gst.src import HelixDnaSrc
except Exception as exc:  # noqa: BLE001 - one line, not the loader's traceback
    helixdna.not_registered("helixdnasrc", exc)
else:
    GObject.type_register(HelixDnaSrc)
    __gstelementfactory__ = ("helixdnasrc", Gst.Rank.NONE, HelixDnaSrc)
