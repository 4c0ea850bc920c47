"""Codec options given as text (``"--video-codec libx265 --effort fast"``), parsed as
``helix-transcode`` parses them: with the argparse options each plugin adds in its
``add_codec_options(group)`` hook. The GStreamer elements' ``codec-options`` property goes
through here (:mod:`helix_media.gst.bridge`)."""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from helix_media.errors import HelixError


class _OptionParser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage text, no exit
        raise HelixError(f"codec-options: {message}")


def parse_codec_options(text: str | None, gop: int = 0) -> dict[str, Any]:
    """``"--video-codec libx265 --effort fast"`` (the codec options of helix-transcode, as its
    plugins add them) -> the encoder options the CLI would pass; ``gop`` > 0 adds ``--gop``."""
    from helix_media.plugins import add_codec_options

    parser = _OptionParser(prog="codec-options", add_help=False, allow_abbrev=False)
    roles = add_codec_options(parser.add_argument_group())
    args = parser.parse_args(shlex.split(text or ""))
    options = {
        dest: getattr(args, dest)
        for dest, role in roles.items()
        if role in ("encode", "both") and getattr(args, dest, None) is not None
    }
    if gop:
        if "gop" not in roles:
            raise HelixError("gop: no codec plugin takes --gop")
        if options.setdefault("gop", gop) != gop:
            raise HelixError(f"gop={gop} and codec-options --gop {options['gop']} disagree")
    return options
