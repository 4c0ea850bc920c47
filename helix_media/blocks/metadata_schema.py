"""Checks on metadata read back from DNA, before anything trusts its fields.

The metadata's CRC catches random damage, not a buggy or hostile writer: a blob with a valid
CRC may still lack fields or give them the wrong type. Everything a decoder reads is checked
here once, so a bad archive is a one-line :class:`HelixError`, never a KeyError deep inside.
"""

from __future__ import annotations

import math
from typing import Any

from helix_media.errors import HelixError

POOL_FORMAT = "helix-pool"  # a pool's catalogue; archives are "helix-media"
#: the metadata key of an archive's identity (short: metadata strands are paid for)
ARCHIVE_ID = "id"


def _fail(source: str, what: str) -> HelixError:
    return HelixError(f"{source}: damaged metadata ({what})")


def _int(d: dict, key: str, source: str, low: int = 0) -> int:
    v = d.get(key)
    if not isinstance(v, int) or isinstance(v, bool) or v < low:
        raise _fail(source, f"{key} must be an integer >= {low}")
    return v


def _dict(d: dict, key: str, source: str) -> dict:
    v = d.get(key)
    if not isinstance(v, dict):
        raise _fail(source, f"{key} missing")
    return v


def check_units(units: Any, source: str, name: str) -> None:
    """A stream's unit rows: [index, pts, duration, offset, nbytes, crc32], all integers."""
    if not isinstance(units, list) or not all(
        isinstance(u, list)
        and len(u) == 6
        and all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in u)
        for u in units
    ):
        raise _fail(source, f"stream {name}: bad unit table")


def check_metadata(meta: Any, source: str) -> dict[str, Any]:
    """``meta`` if a decoder can use it; HelixError naming what is wrong otherwise."""
    if not isinstance(meta, dict):
        raise _fail(source, "not an object")
    if meta.get("format") == POOL_FORMAT:
        return check_catalogue(meta, source)
    for key in ("coder", "codec"):
        if not isinstance(meta.get(key), str):
            raise _fail(source, f"{key} missing")
    if not isinstance(_dict(meta, "framer", source).get("name"), str):
        raise _fail(source, "framer name missing")
    if not isinstance(meta.get("codec_params"), dict):
        raise _fail(source, "codec_params missing")
    check_plain(meta["codec_params"], source, "codec_params")
    _int(meta, "seed", source)
    _int(meta, "payload_bits", source, 1)
    if "address_offset" in meta:
        _int(meta, "address_offset", source)
    if ARCHIVE_ID in meta:
        _int(meta, ARCHIVE_ID, source)
    for name, s in _dict(meta, "streams", source).items():
        if not isinstance(s, dict):
            raise _fail(source, f"stream {name} is not an object")
        _int(s, "first_strand", source)
        _int(s, "strands", source)
        if "slice_bytes" in s:
            _int(s, "slice_bytes", source)
        if not isinstance(s.get("params", {}), dict):
            raise _fail(source, f"stream {name}: bad params")
        check_plain(s.get("params", {}), source, f"stream {name} params")
        if name == "audio":
            check_audio(s.get("params", {}), source)
        check_units(s.get("units"), source, name)
        if set(s) - {"first_strand", "strands", "units", "params", "slice_bytes"}:
            raise _fail(source, f"stream {name}: unknown fields")
    if meta.get("kind") == "file":
        f = _dict(meta, "file", source)
        if not isinstance(f.get("name"), str) or not isinstance(f.get("sha256"), str):
            raise _fail(source, "file name or sha256 missing")
        _int(f, "size", source)
    else:
        v = _dict(meta, "video", source)
        _int(v, "width", source, 1)
        _int(v, "height", source, 1)
        fps = v.get("fps")
        if not (
            isinstance(fps, list)
            and len(fps) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) and 0 < x < 2**31 for x in fps)
        ):  # (a rational FFmpeg can hold: 32-bit numerator and denominator)
            raise _fail(source, "video fps must be two positive 32-bit integers")
        if "video" not in meta["streams"]:
            raise _fail(source, "a video archive without a video stream")
        if v.get("frames") is not None:
            _int(v, "frames", source)
        if v.get("timing") is not None:
            check_timing(v["timing"], v.get("frames"), source)
    if "outer_code" in meta:
        from helix_media.blocks.outer_code import OuterCode

        try:
            OuterCode.from_json(_dict(meta, "outer_code", source)).segments()
        except (KeyError, TypeError, ValueError, ZeroDivisionError, OverflowError) as exc:
            raise _fail(source, f"bad outer code ({exc})") from None
    check_claims(meta, source)
    return meta


def check_plain(v: Any, source: str, where: str, depth: int = 0) -> None:
    """Parameters handed to a codec plugin as they are: only numbers a writer of ours makes
    (finite, integers within 2**53) and shallow nesting, so a plugin's ``int(params[...])``
    cannot meet Infinity, NaN or a 70-digit integer (OverflowError, or a huge allocation)."""
    if isinstance(v, float) and not math.isfinite(v):
        raise _fail(source, f"{where}: {v} is not a number a writer makes")
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 1 << 53:
        raise _fail(source, f"{where}: integer {v} out of range")
    if isinstance(v, (dict, list)):
        if depth >= 8:
            raise _fail(source, f"{where}: nested too deeply")
        for x in v.values() if isinstance(v, dict) else v:
            check_plain(x, source, where, depth + 1)


def check_audio(p: dict[str, Any], source: str) -> None:
    """The audio stream's parameters that the container reads before any decoder does."""
    if not isinstance(p.get("codec"), str) or p.get("layout") not in ("mono", "stereo"):
        raise _fail(source, "audio codec or layout missing")
    _int(p, "sample_rate", source, 1)
    for key in ("frame_size", "packets_per_unit"):
        if key in p:
            _int(p, key, source, 1)


#: The largest picture a decoder is asked to make (both sides; 8K UHD is 7680x4320: an
#: RGB frame of 8192x8192 is 200 MB, and FFmpeg refuses pictures near 16384x16384), and the
#: most frames one video unit (GOP) may claim: every codec's GOPs are at most 1000 frames.
MAX_SIDE = 8192
MAX_UNIT_FRAMES = 1024


def check_claims(meta: dict[str, Any], source: str) -> None:
    """The metadata's claims checked against one another: each stream's strands against the
    bytes its packet table holds, the streams' strand ranges against each other and the outer
    code, the video's frame count against its packets' frames, a file's size against its
    chunks, each video unit's frames against its bytes (a coded frame takes a byte or more:
    frames to conceal are bounded by the bytes claimed). A crafted blob that passes these
    still cannot make a decoder do more work than its packet table (its own size) allows."""
    bits = meta["payload_bits"]
    first = 0
    for name, s in meta["streams"].items():
        units, n, sb = s["units"], s["strands"], s.get("slice_bytes", 0)
        if s["first_strand"] != first:
            raise _fail(source, f"stream {name} starts at strand {s['first_strand']}, not {first}")
        first += n
        if sb and sb * 8 > bits:
            raise _fail(source, f"stream {name}: slices of {sb} bytes do not fit a strand")
        end = max((u[3] + u[4] for u in units), default=0)
        if sb and any(u[3] % sb or u[4] % sb for u in units):
            raise _fail(source, f"stream {name}: packets not aligned to its slices")
        need = -(-end // sb) if sb else -(-end * 8 // bits)
        if n != need:
            raise _fail(source, f"stream {name} claims {n} strands, its packets fill {need}")
        video = name == "video" or name.startswith("video.")
        if video and any(u[2] > MAX_UNIT_FRAMES for u in units):
            raise _fail(source, f"stream {name}: a unit of more than {MAX_UNIT_FRAMES} frames")
        if name == "video" and any(u[2] > u[4] for u in units):  # every frame costs a byte
            u = next(u for u in units if u[2] > u[4])
            raise _fail(source, f"stream video: unit {u[0]} claims {u[2]} frames in {u[4]} bytes")
    if "outer_code" in meta and meta["outer_code"].get("data_strands") != first:
        raise _fail(source, f"outer code over {meta['outer_code'].get('data_strands')} strands, "
                            f"the streams have {first}")  # fmt: skip
    if meta.get("kind") == "file":
        units = meta["streams"].get("file", {}).get("units", [])
        size = max((u[1] + u[2] for u in units), default=0)
        if meta["file"]["size"] != size:
            raise _fail(source, f"claims {meta['file']['size']} bytes, its chunks hold {size}")
        return
    v = meta["video"]
    if v["width"] > MAX_SIDE or v["height"] > MAX_SIDE:
        raise _fail(source, f"{v['width']}x{v['height']} is larger than {MAX_SIDE}x{MAX_SIDE}")
    for key in ("width", "height", "coded_width", "coded_height"):  # the codecs' own sizes
        if key in meta["codec_params"] and _int(meta["codec_params"], key, source, 1) > MAX_SIDE:
            raise _fail(source, f"codec_params {key} is larger than {MAX_SIDE}")
    video = meta["streams"].get("video")
    if v.get("frames") is not None and video is not None:
        frames = max((u[1] + u[2] for u in video["units"]), default=0)
        if v["frames"] != frames:
            raise _fail(source, f"claims {v['frames']} frames, its packets hold {frames}")


def check_timing(t: Any, frames: Any, source: str) -> None:
    """A variable-rate video's timestamps: time base, start, run-length steps, one per frame."""
    if not isinstance(t, dict):
        raise _fail(source, "timing is not an object")
    tb, deltas = t.get("time_base"), t.get("deltas")
    positive = lambda x: isinstance(x, int) and not isinstance(x, bool) and x > 0  # noqa: E731
    if not (isinstance(tb, list) and len(tb) == 2 and all(map(positive, tb))):
        raise _fail(source, "timing time_base must be two positive integers")
    _int(t, "start", source)
    if not isinstance(deltas, list) or not all(
        isinstance(d, list) and len(d) == 2 and all(map(positive, d)) for d in deltas
    ):
        raise _fail(source, "timing steps must be pairs of positive integers")
    if not isinstance(frames, int) or sum(count for _, count in deltas) != frames - 1:
        raise _fail(source, "timing does not give one timestamp per frame")


def check_catalogue(blob: Any, source: str) -> dict[str, Any]:
    """A pool catalogue: a generation and items with the fields :class:`pool.Item` takes."""
    if not isinstance(blob, dict):
        raise _fail(source, "catalogue is not an object")
    _int(blob, "generation", source)
    items = blob.get("items")
    if not isinstance(items, list):
        raise _fail(source, "catalogue items missing")
    for it in items:
        if not isinstance(it, dict):
            raise _fail(source, "catalogue item is not an object")
        for key in ("name", "kind", "codec"):
            if not isinstance(it.get(key), str):
                raise _fail(source, f"catalogue item {key} missing")
        _int(it, "size", source)
        for key, n in (("data", 2), ("metadata", 3)):
            v = it.get(key)
            if not (isinstance(v, list) and len(v) == n and all(isinstance(x, int) for x in v)):
                raise _fail(source, f"catalogue item {key} must be {n} integers")
            if min(v) < 0:
                raise _fail(source, f"catalogue item {key} must not be negative")
        if set(it) - {"name", "kind", "codec", "data", "metadata", "size", "primers", "frames",
                      "fps"}:  # fmt: skip
            raise _fail(source, "catalogue item: unknown fields")
        primers = it.get("primers")
        if primers is not None and not (
            isinstance(primers, list)
            and len(primers) == 2
            and all(isinstance(p, str) for p in primers)
        ):
            raise _fail(source, "catalogue item primers must be two strings")
        fps = it.get("fps")
        if fps is not None and not (
            isinstance(fps, list)
            and len(fps) == 2
            and all(isinstance(x, int) and x > 0 for x in fps)
        ):
            raise _fail(source, "catalogue item fps must be two positive integers")
        if it.get("frames") is not None:
            _int(it, "frames", source)
    return blob
