"""Write docs/api.md, the Python API reference, from the docstrings (stdlib only).

What it covers: every name of ``helix_media.__all__``, the containers ``helix_media.open``
returns, and the plugin hooks of ``helix_media.hookspecs``. Classes list their public
attributes (with their ``#:`` or trailing comments) and methods, abstract ones marked.

    python scripts/make_api_docs.py          # rewrites docs/api.md
    python scripts/make_api_docs.py --check  # exit 1 if docs/api.md is out of date
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "api.md"
#: what ``helix_media.open`` returns, documented after the public names
CONTAINERS = ("OutputContainer", "OutputVideoStream", "InputContainer")

HEADER = """\
# Python API reference

Generated from the docstrings by `python scripts/make_api_docs.py`; do not edit by hand
(`tests/test_api_docs.py` fails when this page is out of date). Every name below except the
containers and the hooks is importable from `helix_media` (`from helix_media import
encode_video`); the names load on first use, so `import helix_media` stays cheap. How the
pieces fit: the [README](../README.md); the command line: [cli.md](cli.md); writing a plugin:
[howto/write-a-plugin.md](howto/write-a-plugin.md).
"""


class _Annotation(str):
    """A string annotation shown as written (``inspect`` would quote it)."""

    def __repr__(self) -> str:
        return str(self)


def markdown(doc: str | None) -> str:
    """A docstring as Markdown: reST roles and ``literals`` become `code`."""
    if not doc:
        return ""
    doc = inspect.cleandoc(doc)
    doc = re.sub(r":(?:func|class|meth|mod|data|attr|exc):`~?([^`]+)`", r"`\1`", doc)
    return re.sub(r"``([^`]+)``", r"`\1`", doc)


def signature(obj, method: bool = False) -> str:
    """``obj``'s signature as written (string annotations unquoted); a ``method`` loses its
    ``self`` or ``cls``, a class its ``-> None``."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return "(...)"
    if method and sig.parameters:
        sig = sig.replace(parameters=list(sig.parameters.values())[1:])
    if inspect.isclass(obj):
        sig = sig.replace(return_annotation=inspect.Signature.empty)
    params = [
        p.replace(annotation=_Annotation(p.annotation)) if isinstance(p.annotation, str) else p
        for p in sig.parameters.values()
    ]
    ret = sig.return_annotation
    sig = sig.replace(
        parameters=params, return_annotation=_Annotation(ret) if isinstance(ret, str) else ret
    )
    return re.sub(r" at 0x[0-9a-f]+", "", str(sig))


def source_path(obj) -> str:
    path = Path(inspect.getsourcefile(obj)).resolve()
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name


def class_doc(cls) -> str:
    doc = cls.__dict__.get("__doc__")
    if doc and doc.startswith(f"{cls.__name__}("):  # a dataclass's generated docstring
        return ""
    return markdown(doc)


def attributes(cls) -> list[tuple[str, str]]:
    """Public class-level attributes from the source: (``name: type = value``, comment)."""
    lines, _ = inspect.getsourcelines(cls)
    tree = ast.parse(textwrap.dedent("".join(lines)))
    out = []
    for node in tree.body[0].body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, ann, value = node.target.id, ast.unparse(node.annotation), node.value
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name, ann, value = node.targets[0].id, None, node.value
        else:
            continue
        if name.startswith("_"):
            continue
        text = name + (f": {ann}" if ann else "") + (f" = {ast.unparse(value)}" if value else "")
        comments, i = [], node.lineno - 2  # the lines above the assignment
        while i >= 0 and lines[i].strip().startswith("#:"):
            comments.insert(0, lines[i].strip()[2:].strip())
            i -= 1
        trailing = lines[node.lineno - 1].partition("  # ")[2].strip()
        out.append((text, markdown(" ".join(comments) or trailing)))
    return out


def methods(cls) -> list[str]:
    out = []
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        kind = ""
        if isinstance(member, property):
            func, kind = member.fget, "property"
        elif isinstance(member, (classmethod, staticmethod)):
            func, kind = member.__func__, type(member).__name__
        elif inspect.isfunction(member):
            func = member
        else:
            continue
        if getattr(func, "__isabstractmethod__", False):
            kind = ", ".join(filter(None, ["abstract", kind]))
        sig = "" if isinstance(member, property) else signature(func, method=kind != "staticmethod")
        head = f"#### `{name}{sig}`" + (f" *({kind})*" if kind else "")
        out.append("\n\n".join(filter(None, [head, markdown(func.__doc__)])))
    return out


def document_class(cls, qualname: str) -> str:
    parts = [
        f"### `{cls.__name__}`",
        f"`class {qualname}{signature(cls)}`, in `{source_path(cls)}`",
        class_doc(cls),
    ]
    attrs = attributes(cls)
    if attrs:
        parts.append(
            "Attributes:\n\n"
            + "\n".join(f"- `{text}`" + (f": {doc}" if doc else "") for text, doc in attrs)
        )
    parts += methods(cls)
    return "\n\n".join(filter(None, parts))


def document_function(func, qualname: str) -> str:
    head = f"### `{func.__name__}`\n\n`{qualname}{signature(func)}`, in `{source_path(func)}`"
    return "\n\n".join(filter(None, [head, markdown(func.__doc__)]))


def render() -> str:
    import helix_media
    from helix_media import hookspecs
    from helix_media.archive import dna_av

    functions, classes = [], []
    for name in helix_media.__all__:
        obj = getattr(helix_media, name)
        if inspect.isclass(obj):
            classes.append(document_class(obj, f"helix_media.{name}"))
        elif callable(obj):
            functions.append(document_function(obj, f"helix_media.{name}"))
    containers = [
        document_class(getattr(dna_av, name), f"helix_media.archive.dna_av.{name}")
        for name in CONTAINERS
    ]
    hooks = [
        document_function(f, f"helix_media.hookspecs.{name}")
        for name, f in vars(hookspecs).items()
        if inspect.isfunction(f) and hasattr(f, "helix_media_spec")
    ]
    sections = [
        HEADER,
        f"`helix_media.__version__`: `{helix_media.__version__}`",
        "## Functions",
        *functions,
        "## Classes",
        *classes,
        "## Containers\n\n"
        '`helix_media.open(path, "w")` returns an `OutputContainer`, '
        '`helix_media.open(path, "r")` an `InputContainer` (module '
        "`helix_media.archive.dna_av`).",
        *containers,
        "## Hooks\n\n" + markdown(hookspecs.__doc__),
        *hooks,
    ]
    return "\n\n".join(s.strip() for s in sections) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if OUT.read_text() != text:
            print(f"{OUT} is out of date: run python scripts/make_api_docs.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
