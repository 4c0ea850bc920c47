"""The examples type-check against the package's annotations, as a user's program would
(``mypy`` from the checkout: its settings are ``[tool.mypy]`` in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_mypy_passes_on_the_examples(tmp_path):  # a cold run: about 8 s
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), "examples"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    # every example was checked (pip's build/ copy of the plugin example is left out)
    examples = [p for p in (ROOT / "examples").rglob("*.py") if "build" not in p.parts]
    assert f"no issues found in {len(examples)} source files" in out.stdout
