"""``python -m helix_media.cli``: the ``helix`` command."""

import sys

from helix_media.cli.helix import main

sys.exit(main())
