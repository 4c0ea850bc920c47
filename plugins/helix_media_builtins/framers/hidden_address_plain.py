"""Plain strands of the ``hidden-address`` framer, and the hash that hides addresses.

A strand's hidden address is a 12-bit hash of its eight fragments in order (:func:`fingerprint`);
the value :data:`PLAIN_FP` marks *plain* strands (metadata, descriptors, scattered blocks):
address + payload + a 16-bit check over eight 46-bit fragments, each a 6-bit nonce + 40 bits
whitened by it, the nonces chosen so every fragment and the strand pass and the hash is
:data:`PLAIN_FP`. Kept apart from :mod:`.hidden_address` (the framer and its fountain groups).
"""

from __future__ import annotations

import zlib

import numpy as np

from helix_media_builtins.framers import lt_code
from helix_media_builtins.framers.helix_framer import parity_mask
from helix_media_builtins.framers.strand_tools import (
    bits_to_bases,
    bits_to_int,
    int_to_bits,
    whiten,
)

N_FRAG, FRAG_NT = 8, 23
NONCE_BITS, PLAIN_BITS = 6, 40  # plain fragment: nonce + data
FP_BITS = 12
PLAIN_FP = (1 << FP_BITS) - 1
FP_SALT, PLAIN_SALT = 0x46505254, 0x504C4E32
DESCRIPTOR_COPIES = 8
DESCRIPTOR = (1 << 32) - DESCRIPTOR_COPIES  # reserved plain addresses, one per copy
PLAIN_PAYLOAD = N_FRAG * PLAIN_BITS - 32 - 16  # bits: all but address and check


def _position_hash(frags: np.ndarray) -> np.ndarray:
    """(..., 8) fragment values -> (..., 8 values, 8 positions) hashes; a strand's hash is
    the XOR of its fragments' hashes at their positions."""
    pos = lt_code.mix64(np.arange(N_FRAG, dtype=np.uint64) + np.uint64(FP_SALT))
    return lt_code.mix64(np.asarray(frags, dtype=np.uint64)[..., :, None] ^ pos)


def fingerprint(frags: np.ndarray) -> np.ndarray:
    """(n, 8) fragment values in strand order -> (n,) 12-bit hash (the hidden address)."""
    h = _position_hash(frags)
    diag = h[:, np.arange(N_FRAG), np.arange(N_FRAG)]
    return (np.bitwise_xor.reduce(diag, axis=1) & np.uint64(PLAIN_FP)).astype(np.int64)


_M32 = (1 << 32) - 1
_MUL1, _MUL2 = 0x9E3779B1, 0x85EBCA6B


def mix32(x: np.ndarray) -> np.ndarray:
    """Bijection of 32-bit addresses that spreads low bits into high ones: plain strands'
    first bases (the read path's cluster key) differ even for neighbouring addresses."""
    x = np.asarray(x, dtype=np.uint64) & np.uint64(_M32)
    x = (x * np.uint64(_MUL1)) & np.uint64(_M32)
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(_MUL2)) & np.uint64(_M32)
    return x ^ (x >> np.uint64(13))


def unmix32(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.uint64) & np.uint64(_M32)
    x ^= (x >> np.uint64(13)) ^ (x >> np.uint64(26))
    x = (x * np.uint64(pow(_MUL2, -1, 1 << 32))) & np.uint64(_M32)
    x ^= x >> np.uint64(16)
    return (x * np.uint64(pow(_MUL1, -1, 1 << 32))) & np.uint64(_M32)


class PlainStrands:
    """The plain-strand half of :class:`.hidden_address.HiddenAddressFramer` (a mixin: it uses
    the framer's ``strand_length``, ``n_parity``, ``is_metadata``, ``_fragment_ok`` and
    ``_assemble``)."""

    def _keyed(self, addresses: np.ndarray) -> np.ndarray:
        """Plain addresses whose strands carry the key: all but metadata (descriptors too)."""
        a = np.asarray(addresses, dtype=np.int64)
        return (a >= DESCRIPTOR) | ~self.is_metadata(a)

    def _plain_keyed(self, addresses: np.ndarray, payload: np.ndarray, key: int) -> np.ndarray:
        """Plain strands, the key's mask on all but metadata strands."""
        keyed = self._keyed(addresses)
        masks = np.where(keyed[:, None], parity_mask(key, self.n_parity)[None, :], 0)
        return self._plain(addresses, payload, masks.astype(np.uint8))

    def _metadata_plain(self, frags: np.ndarray) -> np.ndarray:
        """Which fragment rows are plain metadata strands (whose parity carries no key)."""
        out = fingerprint(frags) == PLAIN_FP if len(frags) else np.zeros(0, dtype=bool)
        p = np.flatnonzero(out)
        address, _, good = self._unplain(frags[p])
        out[p] = good & ~self._keyed(address)
        return out

    def _plain_fragments(self, chunks: np.ndarray, address: int):
        """(8,) 40-bit chunks -> (8, 64) fragment values and (8, 64) ok for every nonce."""
        nonces = np.arange(1 << NONCE_BITS, dtype=np.uint64)
        pos = np.arange(N_FRAG, dtype=np.uint64)[:, None]
        keys = (np.uint64(1) << np.uint64(62)) | (pos << np.uint64(NONCE_BITS)) | nonces
        keys = np.where(pos > 0, keys ^ (np.uint64(address) << np.uint64(16)), keys)
        mask = bits_to_int(whiten(keys.reshape(-1), PLAIN_BITS, PLAIN_SALT)).reshape(N_FRAG, -1)
        frags = (nonces << np.uint64(PLAIN_BITS)) | (chunks[:, None] ^ mask)
        nt = bits_to_bases(int_to_bits(frags.reshape(-1), NONCE_BITS + PLAIN_BITS))
        return frags, nt.reshape(N_FRAG, -1, FRAG_NT), self._fragment_ok(nt).reshape(N_FRAG, -1)

    def _plain(
        self, addresses: np.ndarray, payload: np.ndarray, masks: np.ndarray | None = None
    ) -> np.ndarray:
        """One strand per block; ``masks``: (n, parity) added to each one's RS parity."""
        out = np.empty((len(addresses), self.strand_length), dtype=np.uint8)
        if masks is None:
            masks = np.zeros((len(addresses), self.n_parity), dtype=np.uint8)
        for r, (a, bits) in enumerate(zip(addresses.tolist(), payload, strict=True)):
            head = int_to_bits(mix32(np.array([a])), 32)[0]
            body = np.concatenate([head, bits])
            check16 = zlib.crc32(np.packbits(body).tobytes()) & 0xFFFF
            full = np.concatenate([body, int_to_bits(np.array([check16]), 16)[0]])
            chunks = bits_to_int(full.reshape(N_FRAG, PLAIN_BITS))
            out[r] = self._plain_strand(chunks, a, masks[r])
        return out

    def _plain_strand(self, chunks: np.ndarray, address: int, mask: np.ndarray) -> np.ndarray:
        """Pick nonces: every fragment passes, the hash is PLAIN_FP, the strand passes."""
        frags, nt, ok = self._plain_fragments(chunks, address)
        choice = [np.flatnonzero(o) for o in ok]
        if any(len(c) == 0 for c in choice):
            raise RuntimeError("a plain fragment failed screening for every nonce")
        h = _position_hash(frags.T)  # (64 nonces, 8 values, 8 positions)
        free = [c[:16] for c in choice[4:]]
        parts = [h[free[i], 4 + i, 4 + i] for i in range(4)]
        rest = (
            parts[0][:, None, None, None]
            ^ parts[1][None, :, None, None]
            ^ parts[2][None, None, :, None]
            ^ parts[3][None, None, None, :]
        )
        for attempt in range(64):  # vary the first four nonces too: their junctions are fixed
            fixed = np.array([c[(attempt * (i + 1)) % len(c)] for i, c in enumerate(choice[:4])])
            base = np.bitwise_xor.reduce(h[fixed, np.arange(4), np.arange(4)])
            hits = np.argwhere(((base ^ rest) & np.uint64(PLAIN_FP)) == np.uint64(PLAIN_FP))
            if len(hits) == 0:
                continue
            pick = hits[:64]
            nonce = np.concatenate(
                [
                    np.broadcast_to(fixed, (len(pick), 4)),
                    np.stack([free[j][pick[:, j]] for j in range(4)], axis=1),
                ],
                axis=1,
            )
            built, good = self._assemble(nt[np.arange(N_FRAG), nonce], mask)
            if good.any():
                return built[np.argmax(good)]
        raise RuntimeError("no nonce choice gives a plain strand that passes")

    def _unplain(self, frags: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(m, 8) plain fragment values -> (address, payload bits, check ok)."""
        m = len(frags)
        if m == 0:
            return np.zeros(0, np.int64), np.zeros((0, PLAIN_PAYLOAD), np.uint8), np.zeros(0, bool)
        nonce = frags >> np.uint64(PLAIN_BITS)
        pos = np.arange(N_FRAG, dtype=np.uint64)[None, :]
        keys = (np.uint64(1) << np.uint64(62)) | (pos << np.uint64(NONCE_BITS)) | nonce
        first = bits_to_int(whiten(keys[:, 0], PLAIN_BITS, PLAIN_SALT))
        chunk0 = (frags[:, 0] & np.uint64((1 << PLAIN_BITS) - 1)) ^ first
        address = unmix32(chunk0 >> np.uint64(PLAIN_BITS - 32))
        keys = np.where(pos > 0, keys ^ (address[:, None] << np.uint64(16)), keys)
        mask = bits_to_int(whiten(keys.reshape(-1), PLAIN_BITS, PLAIN_SALT)).reshape(m, N_FRAG)
        chunks = (frags & np.uint64((1 << PLAIN_BITS) - 1)) ^ mask
        full = int_to_bits(chunks.reshape(-1), PLAIN_BITS).reshape(m, -1)
        body, check16 = full[:, :-16], bits_to_int(full[:, -16:])
        crc = np.array([zlib.crc32(np.packbits(b).tobytes()) & 0xFFFF for b in body])
        ok = crc == check16 if m else np.zeros(0, bool)
        return address.astype(np.int64), body[:, 32:], ok
