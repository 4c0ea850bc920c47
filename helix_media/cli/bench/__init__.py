"""``helix bench NAME [options]``: the benchmarks' command lines.

Each module here is one benchmark's: ``parser()`` holds its options (help text, names and
defaults are part of the command's contract) and ``main(argv)`` parses them and calls the
benchmark in :mod:`helix_media.benchmarks`, which measures and prints. Names use dashes on the
command line and underscores as modules.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
from pathlib import Path


def available() -> list[str]:
    """Benchmark names, as typed after ``helix bench``."""
    return sorted(
        m.name.replace("_", "-") for m in pkgutil.iter_modules(__path__) if m.name[0] != "_"
    )


def describe(name: str) -> str:
    """What benchmark ``name`` measures, in one line: the first line of its module's text,
    read without importing the module (some load codecs and networks)."""
    spec = importlib.util.find_spec(f"helix_media.benchmarks.{name.replace('-', '_')}")
    if spec is None or spec.origin is None:
        return ""
    doc = ast.get_docstring(ast.parse(Path(spec.origin).read_text(encoding="utf-8"))) or ""
    line = doc.splitlines()[0] if doc else ""
    line = line.removeprefix(f"``helix bench {name}``: ").replace("``", "").removesuffix(".")
    return line[:1].upper() + line[1:]


def listing() -> str:
    """``helix bench --help``: every benchmark with what it measures."""
    names = available()
    width = max(map(len, names))
    lines = [
        "usage: helix bench NAME [options]",
        "",
        "Run a benchmark and print its table; helix bench NAME --help lists its options.",
        "",
        "benchmarks:",
        *(f"  {name:<{width}}  {describe(name)}" for name in names),
    ]
    return "\n".join(lines)


def run(name: str, argv: list[str]) -> int:
    """``helix bench NAME argv...``: the exit code of benchmark ``name``."""
    module = importlib.import_module(f"{__name__}.{name.replace('-', '_')}")
    return int(module.main(argv) or 0)
