"""``python -m helix_media_builtins.codecs.helix.train``: the HELIX training recipe; its commands
and options are in :mod:`helix_media_builtins.cli.helix_train`."""

import sys

from helix_media_builtins.cli.helix_train import main

if __name__ == "__main__":
    sys.exit(main())
