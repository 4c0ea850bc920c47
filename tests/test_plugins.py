"""Plugin discovery: built-ins come through entry points; third-party packages too."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helix_media import plugins
from helix_media.errors import HelixError
from helix_media.hookspecs import hookimpl

ROOT = Path(__file__).resolve().parents[1]


def test_builtins_are_registered_through_entry_points():
    assert "enumerative" in plugins.registrations("coders")
    assert "helix" in plugins.registrations("framers")
    assert "bitstream" in plugins.registrations("codecs")
    # the core never imported the built-ins itself: the registration names the entry point
    assert plugins.registrations("coders")["enumerative"].plugin == "enumerative"


def test_unknown_plugin_name_is_a_clear_error():
    with pytest.raises(HelixError, match="unknown coder 'nope'"):
        plugins.get_coder("nope")


def test_misspelled_hook_is_caught():
    class Misspelled:
        @hookimpl
        def register_coder(self, register):  # the spec is register_coders
            pass

    with pytest.raises(Exception, match="unknown hook"):
        plugins.register_plugin(Misspelled(), name="misspelled")
    plugins.reset()


def test_in_process_plugin_registers_and_unregisters():
    class Extra:
        @hookimpl
        def register_framers(self, register):
            register("extra-test", lambda **kw: "framer object")

    plugins.register_plugin(Extra(), name="extra")
    try:
        assert plugins.get_framer("extra-test") == "framer object"
    finally:
        plugins.unregister_plugin("extra")
    assert "extra-test" not in plugins.registrations("framers")


@pytest.mark.slow
def test_third_party_package_is_discovered(tmp_path):
    """pip-install the example plugin into a scratch dir and list plugins from a subprocess."""
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(ROOT / "examples" / "helix-plugin-example"),
        ],
        check=True,
    )
    env = dict(os.environ, PYTHONPATH=str(target))
    out = subprocess.run(
        [sys.executable, "-m", "helix_media.cli", "plugins"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    assert "twobit-example" in out and "enumerative" in out
    # HELIX_MEDIA_PLUGINS picks third-party distributions; the built-ins always load
    for allowed, listed in (("helix-plugin-example", True), ("", False)):
        out = subprocess.run(
            [sys.executable, "-m", "helix_media.cli", "plugins"],
            check=True,
            capture_output=True,
            text=True,
            env=dict(env, HELIX_MEDIA_PLUGINS=allowed),
        ).stdout
        assert ("twobit-example" in out) == listed, (allowed, out)
        assert all(name in out for name in ("enumerative", "helix-framer", "bitstream", "helix"))
    # and it works as a coder in the framer
    code = (
        "import numpy as np; from helix_media import plugins;"
        "fr = plugins.get_framer(); c = plugins.get_coder('twobit-example');"
        "bits = np.random.default_rng(0).integers(0, 2, (3, fr.payload_bits(c))).astype('u1');"
        "p = fr.parse(fr.frame(np.arange(3), bits, c), c);"
        "assert p.ok.all() and (p.payload == bits).all(); print('roundtrip ok')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env
    ).stdout
    assert "roundtrip ok" in out


def test_codec_plugins_add_their_own_transcode_options(tmp_path, capsys):
    """--mask/--device/--fill come from the helix plugin, --gop/--video-codec from bitstream
    (helix reads --gop too); each reaches only its codec (others refuse it with a one-line
    error)."""
    from helix_media.cli import transcode_main
    from helix_media.cli.transcode import transcode_parser

    group = {a.dest for g in transcode_parser()._action_groups for a in g._group_actions}
    assert {"mask", "device", "fill", "gop", "video_codec"} <= group
    roles = transcode_parser().parse_args(["a", "b"]).codec_option_roles
    assert roles["fill"] == "decode" and roles["mask"] == "encode" and roles["device"] == "both"
    from clips import write_clip

    clip = write_clip(tmp_path / "c.mp4", frames=6, size=(64, 48))
    dna = tmp_path / "c.dnapkt"
    args = [str(clip), str(dna), "--codec", "helix", "--video-codec", "libx264", "-q"]
    assert transcode_main(args) == 1
    assert "helix codec: unknown option(s) video_codec" in capsys.readouterr().err
    assert transcode_main([str(clip), str(dna), "--codec", "helix", "--mask", "0.4", "-q"]) == 0
    out = tmp_path / "c.mkv"
    assert transcode_main([str(dna), str(out), "--fill", "naive", "-q"]) == 0
