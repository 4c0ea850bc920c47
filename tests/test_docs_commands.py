"""Every command of the tutorial and the how-to pages runs: each ```sh block of
docs/tutorial.md and docs/howto/*.md, in page order, as one bash script per page in an empty
temporary folder (``set -e``, the venv's bin first on PATH).

What a page may declare for its test, in HTML comments (invisible on the rendered page):

* ``<!-- test: requires NAME -->``: skip unless NAME is an importable module or a command on
  PATH (e.g. ``distributed``, ``gst-launch-1.0``);
* ``<!-- test: setup SHELL -->``: run SHELL first (e.g. ``export VAR=...``);
* ``<!-- test: slow -->``: the page is marked ``slow``;
* ``<!-- file: PATH -->`` right before a fenced block of any language: the test writes the
  block to PATH at that point of the page (the reader writes the file by hand).

A command line ending in ``# exits N`` must exit with status N (a page that shows a failure);
any other command must exit 0.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [DOCS / "tutorial.md", *sorted((DOCS / "howto").glob("*.md"))]
TIMEOUT = 900  # seconds per page (a loaded 2-core machine takes minutes for some)

# a directive comment, a file comment with its block, or a fenced block
TOKEN = re.compile(
    r"<!--\s*test:(?P<directive>.*?)-->"
    r"|<!--\s*file:\s*(?P<file>\S+)\s*-->\s*\n```[^\n]*\n(?P<content>.*?)^```[ \t]*$"
    r"|^```(?P<lang>[^\n]*)\n(?P<body>.*?)^```[ \t]*$",
    re.S | re.M,
)
EXITS = re.compile(r"\s+#\s*exits\s+(\d+)\s*$")


def parse(page: Path) -> dict:
    """A page's directives, and its script: sh blocks and file blocks, in order."""
    page_info: dict = {"requires": [], "slow": False, "setup": [], "script": [], "files": {}}
    page_info["sh_blocks"] = 0
    for m in TOKEN.finditer(page.read_text()):
        if m["directive"] is not None:
            for line in m["directive"].strip().splitlines():
                word, _, rest = line.strip().partition(" ")
                if word == "requires":
                    page_info["requires"] += rest.split()
                elif word == "setup":
                    page_info["setup"].append(rest)
                elif word == "slow":
                    page_info["slow"] = True
                else:
                    raise ValueError(f"{page.name}: unknown test directive {line!r}")
        elif m["file"] is not None:
            page_info["files"][m["file"]] = m["content"]
            page_info["script"].append(
                f"mkdir -p \"$(dirname '{m['file']}')\"\n"
                f"cat > '{m['file']}' <<'HELIX_DOCS_EOF'\n{m['content']}HELIX_DOCS_EOF"
            )
        elif m["lang"].strip() == "sh":
            page_info["sh_blocks"] += 1
            page_info["script"] += commands(m["body"])
    return page_info


def commands(block: str) -> list[str]:
    """An sh block's logical lines; one ending in ``# exits N`` becomes a check of N."""
    out = []
    for line in block.replace("\\\n", " ").splitlines():
        exits = EXITS.search(line)
        if exits:
            cmd, want = line[: exits.start()], exits[1]
            out.append(
                f"if {cmd}; then rc=0; else rc=$?; fi\n"
                f'[ "$rc" = {want} ] || {{ echo "expected exit {want}, got $rc: '
                f'{cmd.replace(chr(34), chr(39))}" >&2; exit 1; }}'
            )
        else:
            out.append(line)
    return out


def _available(name: str) -> bool:
    return shutil.which(name) is not None or importlib.util.find_spec(name) is not None


def _params():
    for page in PAGES:
        info = parse(page)
        marks = [pytest.mark.slow] if info["slow"] else []
        yield pytest.param(page, marks=marks, id=page.relative_to(DOCS).as_posix())


@pytest.mark.parametrize("page", list(_params()))
@pytest.mark.slow
def test_page_commands_run(page: Path, tmp_path: Path):
    info = parse(page)
    missing = [n for n in info["requires"] if not _available(n)]
    if missing:
        pytest.skip(f"{page.name} needs {', '.join(missing)}")
    assert info["sh_blocks"], f"{page.name} has no ```sh block"
    script = "\n".join(
        [
            "set -eEo pipefail",
            "trap 'echo \"FAILED: $BASH_COMMAND\" >&2' ERR",
            *info["setup"],
            *info["script"],
        ]
    )
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    log = tmp_path / "output.log"
    # output to a file, not a pipe: background processes (a Dask scheduler) may hold it open
    with open(log, "w") as out:
        proc = subprocess.Popen(
            ["bash", "-c", script],
            cwd=work,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            rc = proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            rc = None
        finally:  # whatever the page left running
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
    tail = log.read_text(errors="replace")[-4000:]
    assert rc == 0, f"{page.relative_to(ROOT)}: exit {rc}\n{tail}"


def test_file_blocks_match_the_examples():
    """A page that shows a file of examples/ shows it as it is."""
    for page in PAGES:
        for name, content in parse(page)["files"].items():
            example = ROOT / "examples" / name
            if example.exists():
                assert content == example.read_text(), f"{page.name}: {name} differs from {example}"


def test_exits_marker_checks_the_status(tmp_path):
    """``# exits N`` passes on N and fails on anything else."""
    for cmd, want in (("false  # exits 1", 0), ("true  # exits 3", 1), ("(exit 3)  # exits 3", 0)):
        script = "set -eEo pipefail\n" + "\n".join(commands(cmd))
        assert subprocess.run(["bash", "-c", script], cwd=tmp_path).returncode == want, cmd
