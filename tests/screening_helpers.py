"""Helpers shared by the tests of the screening framers (``fountain``, ``hidden-address``)."""

import numpy as np

from helix_media.dna.framer import Framer, ParsedStrands

#: Payloads a screening framer must handle alike: whitening makes all of them look random.
KINDS = ("zero", "repetitive", "random")


def make_payload(kind: str, n: int, bits: int, seed: int = 0) -> np.ndarray:
    """(n, bits) blocks: all zero, one random block repeated, or random."""
    rng = np.random.default_rng(seed)
    if kind == "zero":
        return np.zeros((n, bits), np.uint8)
    if kind == "repetitive":
        return np.tile(rng.integers(0, 2, (1, bits), dtype=np.uint8), (n, 1))
    return rng.integers(0, 2, (n, bits), dtype=np.uint8)


def encode_kinds(fr: Framer, n: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each kind of payload at addresses 0..n-1 -> (payload, strands)."""
    out = {}
    for kind in KINDS:
        p = make_payload(kind, n, fr.payload_bits(fr.metadata_coder))
        out[kind] = p, fr.frame(np.arange(n), p, fr.metadata_coder)
    return out


def blocks(parsed: ParsedStrands) -> dict[int, np.ndarray]:
    """The payload of each strand that parsed, by address (rows don't match strands)."""
    return {
        int(a): row
        for a, row in zip(parsed.addresses[parsed.ok], parsed.payload[parsed.ok], strict=True)
    }


def assert_all_blocks(parsed: ParsedStrands, expected: np.ndarray) -> None:
    """Every block at addresses 0..len(expected)-1 came back, and unchanged."""
    got = blocks(parsed)
    assert sorted(got) == list(range(len(expected)))
    assert all((got[i] == expected[i]).all() for i in range(len(expected)))
