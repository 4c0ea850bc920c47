"""Write golden files, which the tests check forever after.

``python scripts/make_golden.py``: the golden archive of the default HELIX model set,
tests/golden/helix-<set>.dnapkt (8 frames, 64 x 64, cropped from the sample, at the set's top
quality level with its layers masked, so every layer network and the interleave are
exercised) and the frames it decodes to, which tests/test_model_sets.py checks. Run once when
a model set is added. With --x265: tests/golden/helix-x265-v<params version>.dnapkt instead,
the same clip at the top level of the x265 enhancement, with the frames of its base layer
alone too (--layers 1), for tests/test_helix_x265_enhancement.py: run it when the params
version changes, and keep the older ones.

With --formats: the golden vectors of the byte formats every codec shares, for
tests/test_golden_formats.py (issue 37): tests/golden/formats-framer.json (the helix framer's
strands), formats-outer-code.json (outer-code parity, recovery, auto redundancy),
formats-metadata.json (what the encoder writes for a small file) and bitstream-svtav1.dnapkt
with formats-bitstream.json (a whole bitstream archive of a synthetic clip). Run it only when
a change to bytes on disk is meant, and say so in the commit: older archives must still
decode. This module imports nothing heavy at the top, so the test loads its helpers (the
clip, bits <-> hex, frame and metadata hashing) from here rather than a second copy.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tempfile
import zlib
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from helix_media import __version__

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "golden"
REGENERATE = "python scripts/make_golden.py --formats"

#: the framer's rows: small and larger data addresses, and one metadata address
FRAMER_ADDRESSES = [0, 1, 1000, 70_000, (1 << 24) | 37]
FRAMER_CASES = [(240, 0), (240, 0x2F6A91C3), (200, 0), (200, 0x2F6A91C3)]  # (length, key)
#: (block bits, data blocks, redundancy): the helix payload at 240 nt (12-bit symbols), and
#: an odd size (244 bits: 9-bit symbols, one bit unused)
OUTER_CASES = [(300, 12, 0.25), (244, 5, 0.5)]
AUTO_SIZES = [(1, 300), (10, 300), (100, 300), (1000, 300), (3700, 300), (10000, 300), (500, 240)]
#: the file of the metadata vectors, and the options it is encoded with
METADATA_FILE = ("golden.txt", b"helix-media golden metadata vector 0123456789\n" * 3)
METADATA_CASES: list[dict[str, Any]] = [
    {"strand_length": None, "seed": 0, "redundancy": None},
    {"strand_length": 200, "seed": 7, "redundancy": 0.5},
]
#: the bitstream archive: SVT-AV1 (the default encoder), two closed GOPs, auto redundancy
BITSTREAM_OPTIONS: dict[str, Any] = {
    "codec": "bitstream",
    "quality": 40,
    "seed": 7,
    "audio": False,
    "codec_options": {"gop": 4},
}
BITSTREAM_ARCHIVE = GOLDEN / "bitstream-svtav1.dnapkt"


# -- HELIX model sets -----------------------------------------------------------------------


def main(x265: bool) -> None:
    from helix_media_builtins.codecs.helix.codec import PARAMS_VERSION, HelixCodec
    from helix_media_builtins.codecs.helix.models import load_models

    from helix_media.archive.encode import encode_video
    from helix_media.media.video_io import open_video
    from helix_media.resources import sample_clip

    models = load_models()
    frames = [
        f.to_ndarray(format="rgb24")[80:144, 120:184]
        for f in open_video(str(sample_clip())).frames()
    ][:8]
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mkv"
        with av.open(str(clip), "w") as c:
            s = c.add_stream("ffv1", rate=Fraction(12))
            s.width, s.height, s.pix_fmt = 64, 64, "bgr0"
            for a in frames:
                c.mux(s.encode(av.VideoFrame.from_ndarray(a, format="rgb24")))
            c.mux(s.encode(None))
        if x265:
            out = GOLDEN / f"helix-x265-v{PARAMS_VERSION}.dnapkt"
            options = {"enhancement": "x265"}
        else:
            out = GOLDEN / f"helix-{models.id}.dnapkt"
            options = {"enhancement": "learned"}
            if models.layers and models.layers.masked:
                options["layer_mask"] = 0.6
        quality = HelixCodec().rungs(enhancement=options["enhancement"])
        encode_video(
            str(clip), str(out), codec="helix", quality=quality, audio=False,
            codec_options=options,
        )  # fmt: skip
    decoded = {"frames": _frames(out)} | ({"base": _frames(out, layers=1)} if x265 else {})
    np.savez_compressed(out.with_suffix(".frames.npz"), **decoded)
    print(f"{out}: quality {quality}, {len(decoded['frames'])} frames")


def _frames(path: Path, layers: int | None = None) -> np.ndarray:
    from helix_media.archive.decode import decode_media

    return np.stack(
        [f.to_ndarray(format="rgb24") for f in decode_media(str(path), layers=layers).frames]
    )


# -- byte formats (--formats) ---------------------------------------------------------------


def bits_hex(bits: np.ndarray) -> str:
    """A row of bits -> hex (zero-padded to whole bytes; the bit count is stored beside)."""
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def hex_bits(text: str, n: int) -> np.ndarray:
    return np.unpackbits(np.frombuffer(bytes.fromhex(text), dtype=np.uint8))[:n]


def frames_sha256(frames: list[av.VideoFrame]) -> str:
    """SHA-256 of decoded frames as their yuv420p planes: no colour conversion (swscale may
    round differently on other CPUs), so the hash is the decoder's output alone."""
    h = hashlib.sha256()
    for f in frames:
        if f.format.name != "yuv420p":
            raise ValueError(f"expected yuv420p frames, not {f.format.name}")
        h.update(f.to_ndarray().tobytes())
    return h.hexdigest()


def framer_vectors() -> dict[str, Any]:
    from helix_media import plugins
    from helix_media.dna.nucleotides import to_strings

    rng = np.random.default_rng(37)
    cases = []
    for length, key in FRAMER_CASES:
        fr = plugins.get_framer("helix", strand_length=length)
        coder = plugins.get_coder("enumerative", constraints=fr.constraints)
        n = fr.payload_bits(coder)
        payload = np.stack(
            [
                np.zeros(n, np.uint8),  # all-zero and all-one payloads: the coder's extremes
                np.ones(n, np.uint8),
                np.arange(n, dtype=np.uint8) % 2,
                *rng.integers(0, 2, (len(FRAMER_ADDRESSES) - 3, n), dtype=np.uint8),
            ]
        )
        strands = fr.frame(np.array(FRAMER_ADDRESSES), payload, coder, key=key)
        cases.append(
            {
                "strand_length": length,
                "key": key,
                "payload_bits": n,
                "addresses": FRAMER_ADDRESSES,
                "payloads": [bits_hex(p) for p in payload],
                "strands": to_strings(strands),
            }
        )
    return {"framer": "helix", "coder": "enumerative", "cases": cases}


def outer_code_vectors() -> dict[str, Any]:
    from helix_media.blocks.outer_code import OuterCode, auto_redundancy

    rng = np.random.default_rng(38)
    cases = []
    for bits, n, redundancy in OUTER_CASES:
        code = OuterCode.create(redundancy, bits, n)
        data = rng.integers(0, 2, (n, bits), dtype=np.uint8)
        data[:, code.data_bits :] = 0  # the encoder pads blocks past the symbols
        parity = code.parity(data)
        # lose as many data blocks as there are parity blocks: the most the code repairs
        erased = sorted(rng.choice(n, len(parity), replace=False).tolist())
        cases.append(
            {
                "block_bits": bits,
                "redundancy": redundancy,
                "code": code.to_json(),
                "data": [bits_hex(b) for b in data],
                "parity": [bits_hex(b) for b in parity],
                "erased": erased,
            }
        )
    auto = [[n, bits, auto_redundancy(n, bits)] for n, bits in AUTO_SIZES]
    return {"cases": cases, "auto_redundancy": auto}


def metadata_vectors() -> dict[str, Any]:
    from helix_media.archive.encode import encode_file
    from helix_media.blocks import layout
    from helix_media.dna.nucleotides import to_strings

    name, content = METADATA_FILE
    cases = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(content)
        for options in METADATA_CASES:
            r = encode_file(str(path), None, **options)
            m = r.metadata_strands
            cases.append(
                {
                    "options": options,
                    "metadata": r.metadata,
                    "blob": metadata_blob(r.metadata, layout).hex(),
                    "metadata_strands": to_strings(r.strands[:m]),
                    "data_strands": to_strings(r.strands[m:]),
                }
            )
    return {
        "writer_version": __version__,
        "zlib": zlib.ZLIB_RUNTIME_VERSION,
        "file": {"name": name, "content": content.decode()},
        "cases": cases,
    }


def metadata_blob(meta: dict[str, Any], layout: Any) -> bytes:
    """The blob the helix framer's metadata strands carry (magic, length, CRC32, deflate)."""
    _, blocks = layout.metadata_blocks(meta, 300, 25, 1)
    blob = layout.blocks_to_bytes(blocks)
    return blob[: 12 + int.from_bytes(blob[4:8], "big")]


def bitstream_clip(path: Path) -> Path:
    """8 synthetic 64 x 64 frames at 12 fps, written losslessly in yuv420p (FFV1): what the
    encoder is fed needs no colour conversion, so the same planes on every machine."""
    y, x = np.mgrid[0:64, 0:64]
    cy, cx = np.mgrid[0:32, 0:32]
    with av.open(str(path), "w") as c:
        s = c.add_stream("ffv1", rate=Fraction(12))
        s.width, s.height, s.pix_fmt = 64, 64, "yuv420p"
        for i in range(8):
            luma = 40 + (x * 2 + y + 5 * i) % 160
            luma = np.where((abs(x - 12 - 4 * i) < 8) & (abs(y - 30) < 8), 230, luma)  # moving
            luma = luma + ((x * 7 + y * 13 + i) % 5) * 3  # a little texture
            u = 128 + (cx * 3 - 48 + i) % 40 - 20
            v = 128 + (cy * 3 - 48 - i) % 40 - 20
            planes = np.concatenate([luma, u.reshape(16, 64), v.reshape(16, 64)])
            frame = av.VideoFrame.from_ndarray(planes.astype(np.uint8), format="yuv420p")
            c.mux(s.encode(frame))
        c.mux(s.encode(None))
    return path


def bitstream_vectors() -> dict[str, Any]:
    from helix_media.archive.decode import decode_media
    from helix_media.archive.encode import encode_video
    from helix_media.blocks import layout

    with tempfile.TemporaryDirectory() as tmp:
        clip = bitstream_clip(Path(tmp) / "clip.mkv")
        with av.open(str(clip)) as c:
            source = frames_sha256(list(c.decode(video=0)))
        runs = [
            encode_video(str(clip), str(out), **BITSTREAM_OPTIONS)
            for out in (BITSTREAM_ARCHIVE, Path(tmp) / "again.dnapkt")
        ]
        if not np.array_equal(runs[0].strands, runs[1].strands):
            raise SystemExit("the bitstream encoder gave different strands twice: not golden")
    r = runs[0]
    m = r.metadata_strands
    return {
        "writer_version": __version__,
        "zlib": zlib.ZLIB_RUNTIME_VERSION,
        "pyav": av.__version__,
        "libavcodec": ".".join(map(str, av.library_versions["libavcodec"])),
        "options": BITSTREAM_OPTIONS,
        "source_sha256": source,
        "metadata": r.metadata,
        "metadata_strands": m,
        "blob": metadata_blob(r.metadata, layout).hex(),
        "strands_sha256": hashlib.sha256(r.strands.tobytes()).hexdigest(),
        "data_strands_sha256": hashlib.sha256(r.strands[m:].tobytes()).hexdigest(),
        "frames_sha256": frames_sha256(decode_media(str(BITSTREAM_ARCHIVE)).frames),
    }


def _dumps(obj: dict[str, Any]) -> str:
    """Indented JSON (one strand a line, for readable diffs), lists of numbers on one line."""
    text = json.dumps(obj, indent=1)
    return re.sub(r"\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]",
                  lambda m: "[" + ", ".join(re.split(r",\s*", m.group(1))) + "]", text)  # fmt: skip


def write_formats() -> None:
    for name, make in (
        ("framer", framer_vectors),
        ("outer-code", outer_code_vectors),
        ("metadata", metadata_vectors),
        ("bitstream", bitstream_vectors),
    ):
        out = GOLDEN / f"formats-{name}.json"
        body = {"about": f"golden vectors for tests/test_golden_formats.py: {REGENERATE}"}
        out.write_text(_dumps(body | make()) + "\n")
        print(f"{out}: {out.stat().st_size} bytes")
    print(f"{BITSTREAM_ARCHIVE}: {BITSTREAM_ARCHIVE.stat().st_size} bytes")


if __name__ == "__main__":
    if "--formats" in sys.argv[1:]:
        write_formats()
    else:
        main("--x265" in sys.argv[1:])
