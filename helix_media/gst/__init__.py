"""GStreamer elements ``helixdnasink`` and ``helixdnasrc`` (gst-python), and where they are.

The elements live in ``python/helixdna.py`` beside this file: gst-python's plugin loader
imports the ``python/`` folder of every ``GST_PLUGIN_PATH`` entry, so this folder is the entry
(``helix gst-path``). The loader runs GStreamer's own (system) Python, which finds helix-media
and its dependencies through ``HELIX_MEDIA_SITE`` (``helix gst-path --env`` prints both);
a plain ``pip install`` into that Python's site-packages needs no variable. What the elements do
without GStreamer (frames in, archive out; archive in, frames out) is in :mod:`.bridge`, which
imports nothing of GStreamer. See docs/gstreamer.md.
"""

from __future__ import annotations

import os
import shlex
import site
import sys
from pathlib import Path

#: the environment variable the elements read: site-packages folders (os.pathsep-separated)
#: of the Python that helix-media is installed in
SITE_VARIABLE = "HELIX_MEDIA_SITE"


def plugin_dir() -> Path:
    """The folder to put on ``GST_PLUGIN_PATH`` (it holds ``python/helixdna.py``)."""
    return Path(__file__).resolve().parent


def site_dirs() -> list[str]:
    """The site-packages folders of this Python (where helix-media's dependencies are; an
    editable install's ``.pth`` finder is there too)."""
    dirs = [d for d in site.getsitepackages() if Path(d).is_dir()]
    return dirs or [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]


def gst_path(env: bool = False) -> str:
    """``helix gst-path``: the plugin folder, or (``env``) shell lines setting
    ``GST_PLUGIN_PATH`` and ``HELIX_MEDIA_SITE`` for ``eval``."""
    if not env:
        return str(plugin_dir())
    sites = os.pathsep.join(site_dirs())
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return "\n".join(
        [
            f"# helix-media's Python is {version}: GStreamer's Python plugin loader must run "
            f"{version} too",
            f"export GST_PLUGIN_PATH={shlex.quote(str(plugin_dir()))}"
            '"${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"',
            f"export {SITE_VARIABLE}={shlex.quote(sites)}",
        ]
    )
