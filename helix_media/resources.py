"""Files that ship inside the package, found through :mod:`importlib.resources`.

They are package data, so they are where the package is: in a checkout (editable install),
in ``site-packages`` after ``pip install .`` or a wheel. Nothing walks up from a source file
to a repository root. The HELIX model sets are the helix codec plugin's own data
(``helix_media_builtins.codecs.helix.models.models_root``).
"""

from __future__ import annotations

import atexit
from contextlib import ExitStack
from functools import cache
from importlib import resources
from pathlib import Path


def package_path(package: str, *parts: str) -> Path:
    """A file or folder shipped in ``package``, as a real path on disk (packages installed as
    zip files are extracted once, for the life of the process)."""
    item = _traversable(package, parts)
    if isinstance(item, Path):
        return item
    return _extracted(package, parts)


def _traversable(package: str, parts: tuple[str, ...]):
    item = resources.files(package)
    for part in parts:  # one part at a time: Traversable.joinpath takes one before 3.11
        item = item / part
    return item


@cache
def _extracted(package: str, parts: tuple[str, ...]) -> Path:
    stack = ExitStack()
    atexit.register(stack.close)
    return stack.enter_context(resources.as_file(_traversable(package, parts)))


def sample_clip() -> Path:
    """The bundled sample clip (320x240, 48 frames, 2 s, with audio; public domain, see
    ``SAMPLE_LICENSE.md`` beside it): what ``helix demo`` and the benchmarks run on."""
    return package_path("helix_media", "data", "sample.mp4")
