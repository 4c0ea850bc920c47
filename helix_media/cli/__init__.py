"""Command-line interface: ``helix-transcode`` and ``helix`` (probe, verify, pool, bench...).

The CLI only parses, calls the library and reports. User errors (HelixError, unreadable media)
print one line and exit 1; set HELIX_DEBUG=1 to see tracebacks. A decode that wrote its
output but lost data exits 3 (see ``EXIT_*`` in :mod:`.common`).
"""

from helix_media.cli.helix import main
from helix_media.cli.transcode import transcode_main

__all__ = ["main", "transcode_main"]
