"""Issue 37: the library does the work the commands print (encode_any, run_demo), the help
comes from the plugins' own metadata, and every hook is documented per parameter."""

from __future__ import annotations

import inspect

import pytest

import helix_media
from helix_media import hookspecs, plugins
from helix_media.archive.encode import encode_any, encodes_as_file
from helix_media.cli.transcode import transcode_parser
from helix_media.errors import HelixError


def test_encode_any_is_public_and_stores_a_file_as_a_file(tmp_path):
    assert helix_media.encode_any is encode_any
    src = tmp_path / "notes.txt"
    src.write_bytes(b"hello DNA\n")
    assert encodes_as_file(str(src)) and not encodes_as_file(str(tmp_path / "a.mp4"))
    assert encodes_as_file(str(tmp_path / "a.mp4"), codec="raw")
    r = encode_any(str(src), str(tmp_path / "notes.dnapkt"))
    assert r.metadata["file"]["name"] == "notes.txt" and r.metadata["codec"] == "raw"
    with pytest.raises(HelixError, match="a file is one stream"):
        encode_any(str(src), None, stream_redundancy={"video": 0.1})


def test_quality_help_is_each_codecs_own():
    helps = {a.dest: a.help for a in transcode_parser()._actions}
    text = helps["quality"] % {}  # argparse's formatting: a stray % would fail here
    helix = plugins.get_codec("helix")
    assert f"helix: level {helix.qualities[0]}-{helix.qualities[1]}" in text
    assert f"higher is better ({helix.default_quality})" in text
    assert "helix: level 1-7, higher is better (6)" in text  # the x265 ladder's levels
    assert "raw: zlib level 0-9 (0)" in text
    assert "bitstream: CRF, lower is better" in text and "libsvtav1 1-63 (48)" in text


def test_a_codec_without_quality_metadata_says_nothing():
    assert helix_media.Codec.quality_help(plugins.get_codec("bitstream")) is None  # base: none
    assert plugins.quality_help().count(";") == len(plugins.registrations("codecs")) - 1


def test_plugins_prints_the_framers_constraints(capsys):
    from helix_media.cli import main

    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    c = plugins.get_framer().constraints
    assert f"guarantees {c.describe()} in every strand" in out
    assert "read_processors" not in out


@pytest.mark.parametrize("name", [n for n in dir(hookspecs) if n.startswith(("register_", "add_"))])
def test_every_hook_documents_each_parameter(name):
    hook = getattr(hookspecs, name)
    doc = inspect.getdoc(hook) or ""
    assert "Called " in doc, f"{name}: say when it is called"
    for param in inspect.signature(hook).parameters:
        assert f":param {param}:" in doc, f"{name}: document {param}"
    if name.startswith("register_"):
        assert "register(name, factory)" in doc and "factory(" in doc


def test_every_hook_fills_a_kind_or_is_called():
    """No hook with nothing behind it: each register_<kind> has its registry."""
    kinds = {n.removeprefix("register_") for n in dir(hookspecs) if n.startswith("register_")}
    assert kinds == set(plugins.KINDS)


@pytest.mark.parametrize("command", [["helix"], ["helix-transcode"]])
def test_both_commands_say_their_version(command):
    import subprocess
    import sys
    from pathlib import Path

    from helix_media import __version__

    exe = Path(sys.executable).parent / command[0]
    done = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.strip() == f"helix-media {__version__}"
