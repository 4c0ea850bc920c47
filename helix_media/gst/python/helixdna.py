"""The plugin folder's set-up: puts helix-media's Python environment on ``sys.path``.

gst-python's plugin loader imports every ``.py`` file here (this folder is the ``python/``
subfolder of the ``GST_PLUGIN_PATH`` entry that ``helix gst-path`` prints): ``helixdnasink.py``
and ``helixdnasrc.py`` register the elements (``helix_media.gst.sink`` and ``.src``); this file
registers none. The loader runs GStreamer's Python (the system's ``python3``), so helix-media
and its dependencies are found through ``HELIX_MEDIA_SITE`` (site-packages folders, set by
``eval "$(helix gst-path --env)"``) or, for a plain ``pip install``, the site-packages this file
is installed in. Only the standard library is used here, and nothing raises.
"""

import contextlib
import os
import re
import site
import sys
from pathlib import Path

SITE_VARIABLE = "HELIX_MEDIA_SITE"  # as helix_media.gst.SITE_VARIABLE
#: why helix-media's environment cannot work in this Python, or None
PROBLEM = None


def site_dirs():
    """``HELIX_MEDIA_SITE``, then the site-packages this file is installed in, if it is."""
    dirs = [d for d in os.environ.get(SITE_VARIABLE, "").split(os.pathsep) if d]
    here = Path(__file__).resolve().parents[3]  # .../site-packages/helix_media/gst/python
    if here.name in ("site-packages", "dist-packages"):
        dirs.append(str(here))
    return dirs


def use_site_dirs():
    """Put those folders first on ``sys.path``, their ``.pth`` files read (an editable
    install's finder is one), so helix-media's own numpy, av... come before the system's."""
    global PROBLEM
    before = list(sys.path)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for d in site_dirs():
        m = re.search(r"python(\d+\.\d+)", d)
        if m and m[1] != version:
            PROBLEM = (
                f"{d} is for Python {m[1]} but GStreamer's Python plugin loader runs Python "
                f"{version}: install helix-media in a Python {version} environment (e.g. "
                f'/usr/bin/python3 -m venv) and eval "$(helix gst-path --env)" there'
            )
        elif os.path.isdir(d) and d not in sys.path:
            site.addsitedir(d)
    added = [p for p in sys.path if p not in before]
    sys.path[:] = added + before
    if not hasattr(sys, "argv"):  # an embedded interpreter may have none; libraries read it
        sys.argv = ["gst-python"]


def leave_ctrl_c_to_the_program():
    """Where the loader started Python inside a C program (gst-launch-1.0, an application),
    Python took over SIGINT: Ctrl-C would raise KeyboardInterrupt in whatever element code
    runs instead of reaching the program. Give it back, as it was before Python started."""
    gst = sys.modules.get("gi.repository.Gst")
    if gst is None or not hasattr(gst, "__plugin__"):  # a Python program: its own Ctrl-C
        return
    import signal

    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, signal.SIG_DFL)


def not_registered(element, exc):
    """One line on stderr (never a traceback) when an element cannot be registered."""
    why = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ImportError):
        hint = PROBLEM or (
            f'set {SITE_VARIABLE}: eval "$(helix gst-path --env)" in the environment '
            "helix-media is installed in"
        )
        version = sys.version.split()[0]
        why = f"GStreamer's Python {version} cannot import helix-media ({why}); {hint}"
    sys.stderr.write(f"{element}: not registered: {why}\n")


with contextlib.suppress(Exception):  # not the main thread: leave it
    leave_ctrl_c_to_the_program()
try:
    use_site_dirs()
except Exception as exc:  # noqa: BLE001 - a loader prints tracebacks; say it in one line
    PROBLEM = f"setting up {SITE_VARIABLE} failed: {type(exc).__name__}: {exc}"
