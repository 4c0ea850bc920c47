"""Golden vectors of the bytes on disk (issue 37): the helix framer's strands, the outer code,
the metadata the encoder writes and a whole ``bitstream`` archive. Archives must decode
forever, so any change to these bytes has to be visible and deliberate: these tests fail on
one, and say how to regenerate the vectors (scripts/make_golden.py --formats) when it is meant.

The metadata records the writer's version, which goes into the archive id and so into every
data strand's key: the tests encode under the version the vectors were written with, so a
release does not churn them while a change to the format still shows. Deflate output belongs
to the zlib build, not to us: where this zlib compresses the golden metadata differently and
is not the zlib that wrote it, the byte comparisons of the metadata are skipped (they still
decode). The SVT-AV1 archive was encoded twice when written, and the same strands came out at
every SIMD level (c to avx512) and thread count measured; a different FFmpeg/SVT-AV1 build
may code differently, which the failure message points out.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import zlib
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from helix_media import plugins
from helix_media.archive.decode import decode_file, decode_media
from helix_media.archive.encode import encode_file, encode_video
from helix_media.archive.parse import parse_dna
from helix_media.blocks import layout
from helix_media.blocks.outer_code import OuterCode, auto_redundancy
from helix_media.dna.nucleotides import from_strings, to_strings
from helix_media.strandio.container_reader import read_dnapkt

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
REGENERATE = "python scripts/make_golden.py --formats"


def _script() -> ModuleType:
    """scripts/make_golden.py: the one definition of the clip and options the vectors use."""
    spec = importlib.util.spec_from_file_location("make_golden", ROOT / "scripts/make_golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKE = _script()


def _load(name: str) -> dict[str, Any]:
    return json.loads((GOLDEN / f"formats-{name}.json").read_text())


def _changed(what: str, detail: str = "") -> str:
    return (
        f"{what} changed: the bytes on disk differ from tests/golden/formats-*.json"
        f"{f' ({detail})' if detail else ''}. Archives already written must still decode. "
        f"If the change is deliberate, regenerate with `{REGENERATE}`, review the diff and "
        "say so in the commit."
    )


def _first_difference(got: list[str], want: list[str]) -> str:
    """Where two lists of strands first differ, for a failure message that points at it."""
    if len(got) != len(want) or {len(s) for s in got} != {len(s) for s in want}:
        return f"{len(got)} strands instead of {len(want)}, or of other lengths"
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        if g != w:
            at = next(k for k, (a, b) in enumerate(zip(g, w, strict=True)) if a != b)
            return f"strand {i} differs from base {at}: {g[at : at + 12]} != {w[at : at + 12]}"
    return "equal"


def _json(obj: Any) -> Any:
    """As the golden file holds it (tuples become lists)."""
    return json.loads(json.dumps(obj))


@pytest.fixture
def golden_writer(monkeypatch: pytest.MonkeyPatch):
    """Encode under the version the vectors were written with (see the module docstring)."""

    def use(version: str) -> None:
        monkeypatch.setattr("helix_media.archive.strands.__version__", version)

    return use


def _same_deflate_or_skip(blob: bytes, recorded_zlib: str) -> None:
    """Fail if our compressor settings changed; skip if only the zlib build differs."""
    body = blob[12:]
    if layout.compress_metadata(layout.decompress_metadata(body)) == body:
        return
    if recorded_zlib != zlib.ZLIB_RUNTIME_VERSION:
        pytest.skip(
            f"zlib {zlib.ZLIB_RUNTIME_VERSION} deflates the golden metadata differently from "
            f"zlib {recorded_zlib}, which wrote it: its bytes cannot be compared here"
        )
    pytest.fail(_changed("the metadata compression (layout.compress_metadata)"))


# -- (a) the helix framer -------------------------------------------------------------------

FRAMER = _load("framer")


@pytest.mark.parametrize(
    "case", FRAMER["cases"], ids=lambda c: f"{c['strand_length']}nt-key{c['key']:x}"
)
def test_helix_framer_strands(case: dict[str, Any]) -> None:
    fr = plugins.get_framer(FRAMER["framer"], strand_length=case["strand_length"])
    coder = plugins.get_coder(FRAMER["coder"], constraints=fr.constraints)
    n = case["payload_bits"]
    assert fr.payload_bits(coder) == n, _changed("the helix framer's payload size")
    addresses = np.array(case["addresses"], dtype=np.int64)
    payload = np.stack([MAKE.hex_bits(p, n) for p in case["payloads"]])
    got = to_strings(fr.frame(addresses, payload, coder, key=case["key"]))
    assert got == case["strands"], _changed(
        "the helix framer's strands", _first_difference(got, case["strands"])
    )
    # the golden strands read back as the rows they were made of
    strands = from_strings(case["strands"])
    parsed = fr.parse(strands, coder, fr.metadata_coder, key=case["key"])
    assert parsed.ok.all() and (parsed.corrected == 0).all()
    np.testing.assert_array_equal(parsed.addresses, addresses)
    np.testing.assert_array_equal(parsed.payload[:, :n], payload)
    if case["key"]:  # the key is in the data strands (only): another archive cannot read them
        other = fr.parse(strands, coder, fr.metadata_coder, key=0)
        np.testing.assert_array_equal(other.ok, fr.is_metadata(addresses))


# -- (b) the outer code ---------------------------------------------------------------------

OUTER = _load("outer-code")


@pytest.mark.parametrize(
    "case", OUTER["cases"], ids=lambda c: f"{c['block_bits']}bits-r{c['redundancy']}"
)
@pytest.mark.slow
def test_outer_code_parity_and_recovery(case: dict[str, Any]) -> None:
    bits = case["block_bits"]
    data = np.stack([MAKE.hex_bits(b, bits) for b in case["data"]])
    code = OuterCode.create(case["redundancy"], bits, len(data))
    assert code.to_json() == case["code"], _changed("the outer code's layout (OuterCode.to_json)")
    parity = [MAKE.bits_hex(b) for b in code.parity(data)]
    assert parity == case["parity"], _changed("the outer code's parity blocks")
    # the golden parity fills exactly as many lost data blocks as it has
    kept = {i: b for i, b in enumerate(data) if i not in case["erased"]}
    stored = [MAKE.hex_bits(b, bits) for b in case["parity"]]
    pool = kept | {len(data) + j: b for j, b in enumerate(stored)}
    assert code.recover(pool) == (len(case["erased"]), 0, 0)
    np.testing.assert_array_equal(np.stack([pool[i] for i in range(len(data))]), data)


def test_auto_redundancy() -> None:
    got = [[n, bits, auto_redundancy(n, bits)] for n, bits, _ in OUTER["auto_redundancy"]]
    assert got == OUTER["auto_redundancy"], _changed("auto_redundancy (the default outer code)")


# -- (c) the metadata -----------------------------------------------------------------------

METADATA = _load("metadata")


@pytest.mark.parametrize(
    "case", METADATA["cases"], ids=lambda c: f"{c['options']['strand_length'] or 240}nt"
)
def test_metadata_the_encoder_writes(case: dict[str, Any], tmp_path: Path, golden_writer) -> None:
    golden_writer(METADATA["writer_version"])
    source = tmp_path / METADATA["file"]["name"]
    source.write_bytes(METADATA["file"]["content"].encode())
    r = encode_file(str(source), None, **case["options"])
    assert _json(r.metadata) == case["metadata"], _changed("the metadata's fields")
    m = r.metadata_strands
    data = to_strings(r.strands[m:])  # the data strands owe nothing to zlib
    assert data == case["data_strands"], _changed(
        "the data strands of a file archive", _first_difference(data, case["data_strands"])
    )
    # the blob (magic, length, CRC32, deflate) and the metadata strands
    blob = bytes.fromhex(case["blob"])
    _same_deflate_or_skip(blob, METADATA["zlib"])
    assert MAKE.metadata_blob(r.metadata, layout) == blob, _changed("the metadata blob")
    meta = to_strings(r.strands[:m])
    assert meta == case["metadata_strands"], _changed(
        "the metadata strands", _first_difference(meta, case["metadata_strands"])
    )


@pytest.mark.parametrize(
    "case", METADATA["cases"], ids=lambda c: f"{c['options']['strand_length'] or 240}nt"
)
def test_the_golden_file_archive_decodes(case: dict[str, Any], tmp_path: Path) -> None:
    """The golden strands give back their metadata and the file, whatever zlib this is."""
    length = case["options"]["strand_length"] or 240
    seqs = list(from_strings(case["metadata_strands"] + case["data_strands"]))
    parsed = parse_dna({"framer": "helix", "strand_length": length}, seqs, "golden")
    assert _json(parsed[1]) == case["metadata"]
    decode_file("golden", str(tmp_path / "out.txt"), parsed=parsed)
    assert (tmp_path / "out.txt").read_bytes() == METADATA["file"]["content"].encode()


# -- (d) a whole bitstream archive ----------------------------------------------------------

BITSTREAM = _load("bitstream")


def test_the_golden_bitstream_archive_decodes() -> None:
    """The committed archive is the one pinned, and decodes to the frames it gave when written
    (AV1 decoding is exact: this holds on any machine)."""
    header, strands = read_dnapkt(MAKE.BITSTREAM_ARCHIVE)
    assert header["codec"] == "bitstream" and header["strand_length"] == 240
    assert hashlib.sha256(strands.tobytes()).hexdigest() == BITSTREAM["strands_sha256"]
    media = decode_media(str(MAKE.BITSTREAM_ARCHIVE))
    assert _json(media.result.metadata) == BITSTREAM["metadata"]
    assert len(media.frames) == BITSTREAM["metadata"]["video"]["frames"]
    assert MAKE.frames_sha256(media.frames) == BITSTREAM["frames_sha256"], _changed(
        "the frames the golden bitstream archive decodes to"
    )


def test_the_bitstream_archive_is_written_again_byte_for_byte(
    tmp_path: Path, golden_writer
) -> None:
    """The same clip and options give the same strands (SVT-AV1 is deterministic here).
    Another build of the encoder may code the same clip otherwise: the archive written then
    still decodes (above), and this check needs the PyAV and libavcodec that wrote it."""
    import av

    libavcodec = ".".join(map(str, av.library_versions["libavcodec"]))
    if (av.__version__, libavcodec) != (BITSTREAM["pyav"], BITSTREAM["libavcodec"]):
        pytest.skip(
            f"the golden archive was encoded with PyAV {BITSTREAM['pyav']} / libavcodec "
            f"{BITSTREAM['libavcodec']}, this is {av.__version__} / {libavcodec}"
        )

    clip = MAKE.bitstream_clip(tmp_path / "clip.mkv")
    with av.open(str(clip)) as c:
        source = MAKE.frames_sha256(list(c.decode(video=0)))
    assert source == BITSTREAM["source_sha256"], "scripts/make_golden.py's clip changed"
    golden_writer(BITSTREAM["writer_version"])
    r = encode_video(str(clip), None, **BITSTREAM["options"])
    builds = (
        f"written with PyAV {BITSTREAM['pyav']}, libavcodec {BITSTREAM['libavcodec']}; "
        f"this is PyAV {av.__version__}, "
        f"libavcodec {'.'.join(map(str, av.library_versions['libavcodec']))}"
    )
    assert _json(r.metadata) == BITSTREAM["metadata"], _changed(
        "the bitstream archive's metadata", builds
    )
    m = r.metadata_strands
    assert m == BITSTREAM["metadata_strands"]
    got = hashlib.sha256(r.strands[m:].tobytes()).hexdigest()
    assert got == BITSTREAM["data_strands_sha256"], _changed(
        "the bitstream archive's data strands", builds
    )
    blob = bytes.fromhex(BITSTREAM["blob"])
    _same_deflate_or_skip(blob, BITSTREAM["zlib"])
    assert MAKE.metadata_blob(r.metadata, layout) == blob, _changed("the metadata blob")
    _, committed = read_dnapkt(MAKE.BITSTREAM_ARCHIVE)
    assert np.array_equal(r.strands, committed), _changed("the bitstream archive's strands")
