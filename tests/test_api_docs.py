"""docs/api.md is what scripts/make_api_docs.py makes from today's docstrings."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_api_reference_is_up_to_date():
    spec = importlib.util.spec_from_file_location(
        "make_api_docs", ROOT / "scripts" / "make_api_docs.py"
    )
    make_api_docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_api_docs)
    want = make_api_docs.render()
    assert (ROOT / "docs" / "api.md").read_text() == want, (
        "docs/api.md is out of date (a public docstring or signature changed): "
        "run `python scripts/make_api_docs.py` and commit docs/api.md"
    )
