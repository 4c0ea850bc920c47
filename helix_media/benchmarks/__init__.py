"""Benchmarks: ``helix bench NAME [options]`` runs ``helix_media.benchmarks.<name>.main(argv)``.

Each public module prints a table (figures measured on this machine, nothing cached) and returns an
exit code. Names use dashes on the command line and underscores as modules; modules whose
name starts with ``_`` are helpers of the benchmarks, not benchmarks.
"""

from __future__ import annotations

import importlib
import pkgutil


def available() -> list[str]:
    """Benchmark names, as typed after ``helix bench``."""
    return sorted(
        m.name.replace("_", "-") for m in pkgutil.iter_modules(__path__) if m.name[0] != "_"
    )


def run(name: str, argv: list[str]) -> int:
    module = importlib.import_module(f"{__name__}.{name.replace('-', '_')}")
    return int(module.main(argv) or 0)
