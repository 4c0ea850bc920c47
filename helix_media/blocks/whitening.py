"""Keystreams that whiten payload bits, so all-zero or repetitive data still gives diverse
strands. Counter-based (splitmix64 of seed, address and word index): vectorized, and each
strand's keystream depends only on its own address, so strands decode independently."""

from __future__ import annotations

import numpy as np

from helix_media.errors import HelixError

METADATA_SEED = 0  # metadata must be readable before the seed is known
#: the largest seed: the keystream takes a 64-bit unsigned one
SEED_MAX = (1 << 64) - 1
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def check_seed(seed: int) -> None:
    """A whitening seed (``--seed`` of any command), checked before any work: HelixError
    unless it is a whole number 0..:data:`SEED_MAX`."""
    if not 0 <= seed <= SEED_MAX:
        raise HelixError(f"--seed must be a whole number 0..{SEED_MAX} (default 0)")


def _splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def keystream(addresses: np.ndarray, n_bits: int, seed: int = 0) -> np.ndarray:
    """(n,) addresses -> (n, n_bits) uint8 pseudo-random bits."""
    addr = np.asarray(addresses, dtype=np.uint64)
    words = -(-n_bits // 64)
    with np.errstate(over="ignore"):
        key = _splitmix64(_splitmix64(addr ^ _splitmix64(np.uint64(seed))))
        ctr = key[:, None] + np.arange(1, words + 1, dtype=np.uint64) * _GOLDEN
    stream = _splitmix64(ctr).astype(">u8").view(np.uint8).reshape(len(addr), -1)
    return np.unpackbits(stream, axis=1)[:, :n_bits]


def whiten(addresses: np.ndarray, blocks: np.ndarray, seed: int, framer, coder=None) -> np.ndarray:
    """XOR payload blocks with their keystreams (its own inverse): data strands under
    ``seed``, unless ``coder`` carries bases as they are; metadata strands under seed 0."""
    meta = framer.is_metadata(addresses)
    out = blocks.copy()
    # a coder that carries bases as they are (``whiten = False``) keeps its data unwhitened
    data_seed = None if coder is not None and not coder.whiten else seed
    for which, s in ((~meta, data_seed), (meta, METADATA_SEED)):
        if s is None:
            continue
        if which.any():
            out[which] ^= keystream(addresses[which], blocks.shape[1], s)
    return out
