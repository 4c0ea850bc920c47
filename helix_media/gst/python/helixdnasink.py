"""Registers ``helixdnasink`` (helix_media.gst.sink) with gst-python's plugin loader."""

import helixdna

try:
    import gi

    for namespace in ("Gst", "GstBase", "GstVideo"):
        gi.require_version(namespace, "1.0")
    from gi.repository import GObject, Gst

    from helix_media.gst.sink import HelixDnaSink
except Exception as exc:  # noqa: BLE001 - one line, not the loader's traceback
    helixdna.not_registered("helixdnasink", exc)
else:
    GObject.type_register(HelixDnaSink)
    __gstelementfactory__ = ("helixdnasink", Gst.Rank.NONE, HelixDnaSink)
