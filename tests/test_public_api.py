"""The public API: what a user composes is importable from ``helix_media`` itself."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources

import helix_media


def test_the_names_a_user_composes_are_exported_and_are_the_real_objects():
    from helix_media.archive.decode import decode_any
    from helix_media.dna.coder import ConstraintCoder
    from helix_media.dna.framer import Framer
    from helix_media.errors import HelixError
    from helix_media.media.codec import Codec

    assert helix_media.Codec is Codec and helix_media.ConstraintCoder is ConstraintCoder
    assert helix_media.Framer is Framer and helix_media.HelixError is HelixError
    assert helix_media.decode_any is decode_any
    assert callable(helix_media.open)
    # __all__ (what star-imports and docs list) and the lazy table say the same
    assert set(helix_media.__all__) == {"open", "__version__", *helix_media._EXPORTS}
    for name in helix_media.__all__:
        assert getattr(helix_media, name) is not None


def test_an_unknown_name_is_an_attribute_error():
    try:
        helix_media.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("helix_media.no_such_thing did not raise")


def test_importing_the_package_loads_no_codec_or_video_library():
    """The names load on first use: ``import helix_media`` (every CLI call, every plugin)
    must not pay for PyAV, onnxruntime or the archive jobs."""
    code = "import sys, helix_media; print(sorted(m for m in ('av', 'onnxruntime', "
    code += "'helix_media.archive.encode') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_package_is_typed():
    assert resources.files("helix_media").joinpath("py.typed").is_file()
