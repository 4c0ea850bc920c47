"""Issue 37's layout rules, read from the source (nothing imported): every module of
``helix_media/`` and ``plugins/`` has at most 450 lines, no two modules import each other
(directly or round a longer loop), and only modules in a ``cli/`` folder parse command lines."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: (folder on sys.path, top-level package) of every package the project ships
PACKAGES = ((ROOT, "helix_media"), (ROOT / "plugins", "helix_media_builtins"))
MAX_LINES = 450


@cache
def modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of the shipped packages (a package is its
    ``__init__``)."""
    out = {}
    for base, package in PACKAGES:
        for path in sorted((base / package).rglob("*.py")):
            parts = path.relative_to(base).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


@cache
def import_statements(name: str) -> list[tuple[int, str, list[str]]]:
    """Every import statement of module ``name``, at the top, under ``if TYPE_CHECKING:`` and
    inside functions alike: (line, the module imported from, absolute; the names imported)."""
    path = modules()[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], *filter(None, [base])])
            found.append((node.lineno, base, [alias.name for alias in node.names]))
    return found


@cache
def graph() -> dict[str, set[str]]:
    """Module -> the project's modules it imports. ``from pkg import x`` is an import of module
    ``pkg.x`` where there is one, else of ``pkg``."""
    known = modules()
    edges = {}
    for name in known:
        found = set()
        for _, module, names in import_statements(name):
            found.update(f"{module}.{n}" if f"{module}.{n}" in known else module for n in names)
            found.update([] if names else [module])
        edges[name] = set()
        for target in found:
            while target and target not in known:  # helix_media.x.function -> helix_media.x
                target = target.rpartition(".")[0]
            if target and target != name:
                edges[name].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_scan_sees_every_kind_of_import():
    edges = graph()
    assert "helix_media.errors" in edges["helix_media.channel.sequencing"]  # at the top
    assert "helix_media.archive.encode" in edges["helix_media"]  # under TYPE_CHECKING
    assert "helix_media.gst" in edges["helix_media.cli.helix"]  # inside a function
    assert "helix_media.benchmarks.traces" in edges["helix_media.cli.bench.traces"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle():
    edges = graph()
    loops = cycles(edges)
    detail = [
        " ; ".join(f"{m} -> {', '.join(sorted(edges[m] & set(loop)))}" for m in loop)
        for loop in loops
    ]
    assert not loops, "modules importing each other:\n" + "\n".join(detail)


def test_no_module_over_the_size_limit():
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()
    }
    assert not {name: n for name, n in sizes.items() if n > MAX_LINES}


def test_only_cli_folders_parse_command_lines():
    """argparse belongs to the commands (``helix_media/cli/``, ``helix_media_builtins/cli/``):
    the library takes typed arguments, whatever calls it."""
    offenders = [
        f"{name} (line {line})"
        for name, path in modules().items()
        if "cli" not in path.relative_to(ROOT).parts[:-1]
        for line, module, _ in import_statements(name)
        if module == "argparse" or module.startswith("argparse.")
    ]
    assert not offenders, "argparse outside a cli/ folder: " + ", ".join(offenders)
