"""``fountain`` framer: DNA Fountain (Erlich & Zielinski 2017) with whole-strand screening.

    primer5 (20) | header (16) | payload (168) | RS parity (4 x 4) | primer3 (20) = 240 nt

* Data blocks are the source blocks of an LT code (robust soliton). A droplet XORs the blocks
  its 31-bit seed picks; the seed is the header (DNA Fountain's seed-as-address). Seeds come
  from a bijective mix of a counter, so neighbouring headers don't look alike.
* Droplet bits are whitened by a keystream of the seed and mapped 2 bits per base. Droplets
  whose *whole strand* (primers included) breaks a constraint are thrown away and the next
  seed is tried, so all-zero or repetitive data screen like random data (~8 % pass).
* RS(50, 46) over the nucleotides of header + payload (4 nt per GF(256) symbol) corrects two
  substitutions per strand; strands it cannot fix are simply lost droplets. One wrong droplet
  (an RS miscorrection) would spoil every block peeled from it, so after decoding every
  droplet is checked against the solution; on a mismatch, the droplets RS had to correct are
  left out and decoding runs again.
* ``key`` (an archive's identity) is added to the RS parity of every strand but metadata
  strands (which must be read before the key is known), as the ``helix`` framer does: another
  archive's droplet differs from ours in all four parity symbols, beyond what RS corrects, so
  it fails to parse instead of spoiling our blocks (the few that RS miscorrects are doubtful
  droplets, which the LT decoder leaves out where droplets disagree). Archives written before
  keys (no ``keyed`` in ``describe``) are read unkeyed, as they were written.
* Strands that must be found one by one (metadata, and anything not a contiguous run of data
  addresses) are *plain*: header = 1 | nonce (8 bits) | address (23 bits, whitened by the
  nonce); the nonce is tried until the strand passes. The segment's first address and
  block count go into 8 distinct descriptor copies (plain strands at a reserved address):
  the decoder needs k.
* The encoder keeps adding droplets until the full set decodes (peeling, then Gaussian
  elimination), so ``overhead`` is spent on dropout only. One data segment per pool (the
  pipeline frames all data blocks in one call).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from helix_media.dna import rs
from helix_media.dna.coder import ConstraintCoder
from helix_media.dna.constraints import Constraints
from helix_media.dna.framer import ParsedStrands
from helix_media.hookspecs import hookimpl
from helix_media_builtins.framers import lt_code
from helix_media_builtins.framers.helix_framer import PRIMER_3, PRIMER_5, parity_mask
from helix_media_builtins.framers.strand_tools import (
    ScreeningFramer,
    bases_to_bits,
    bits_to_bases,
    bits_to_int,
    descriptor_bits,
    int_to_bits,
    pack_words,
    read_descriptors,
    symbols,
    symbols_to_nt,
    unpack_words,
    whiten,
)

HEADER_BITS = 32
ADDRESS_BITS = 23
NONCE_BITS = 8
ADDRESS_MASK = (1 << ADDRESS_BITS) - 1
DESCRIPTOR_COPIES = 8
DESCRIPTOR = ADDRESS_MASK + 1 - DESCRIPTOR_COPIES  # reserved plain addresses, one per copy
DESCRIPTOR_MAGIC = b"HXFT"
DROPLET_SALT = 0x44524F50  # keystream salts ("DROP", "PLAN")
PLAIN_SALT = 0x504C414E
_MASK31 = (1 << 31) - 1


def seed_of(counter: np.ndarray) -> np.ndarray:
    """Bijective mix of 31-bit counters: distinct seeds that look random as headers."""
    x = np.asarray(counter, dtype=np.uint64) & np.uint64(_MASK31)
    m = np.uint64(_MASK31)
    with np.errstate(over="ignore"):
        for mul, shift in ((0x2C1B3C6D, 15), (0x297A2D39, 12), (0x6B3E5A91, 15)):
            x ^= x >> np.uint64(shift)
            x = (x * np.uint64(mul)) & m
        x ^= x >> np.uint64(16)
    return x


def _address_mask(nonce: np.ndarray | int) -> np.ndarray:
    """Whitens a plain header's address (metadata addresses are mostly zeros: long runs)."""
    n = np.asarray(nonce, dtype=np.uint64) | np.uint64(1 << 20)
    return (lt_code.mix64(n) & np.uint64(ADDRESS_MASK)).astype(np.int64)


def _headers(msg: np.ndarray) -> np.ndarray:
    """RS message symbols -> header words (the first four bytes, big-endian)."""
    return (msg[:, :4].astype(np.int64) << np.array([24, 16, 8, 0])).sum(axis=1)


class FountainFramer(ScreeningFramer):
    name = "fountain"
    address_bits = ADDRESS_BITS
    keyed = True
    cluster_span = 36  # primer + header: a droplet's seed identifies its reads

    def __init__(
        self,
        overhead: float = 0.35,
        nsym: int = 4,
        body_nt: int = 200,
        primer5: str = PRIMER_5,
        primer3: str = PRIMER_3,
        constraints: Constraints | None = None,
    ) -> None:
        if body_nt % 4 or body_nt // 4 - 4 - nsym < 2:
            raise ValueError("body_nt must be a multiple of 4 with room for header and parity")
        if overhead < 0:
            raise ValueError("overhead must be >= 0")
        self.overhead, self.nsym = float(overhead), int(nsym)
        self._set_primers(primer5, primer3, constraints)
        self.payload_bytes = body_nt // 4 - HEADER_BITS // 8 - nsym
        self.o_header = len(self.primer5)
        self.o_payload = self.o_header + HEADER_BITS // 2
        self.payload_nt = 4 * self.payload_bytes
        self.o_parity = self.o_payload + self.payload_nt
        self.o_primer3 = self.o_parity + 4 * nsym
        self.strand_length = self.o_primer3 + len(self.primer3)

    # -- sizes ------------------------------------------------------------------------------
    @property
    def block_bits(self) -> int:
        return 8 * self.payload_bytes

    def payload_bits(self, coder: ConstraintCoder) -> int:
        """Fixed: the framer maps bits 2 per base and screens; ``coder`` is not used."""
        return self.block_bits

    def describe(self) -> dict:
        """``keyed``: data strands carry the archive's key (absent: an archive written before
        keys, read unkeyed)."""
        return self._describe(
            overhead=self.overhead, nsym=self.nsym, strand_length=self.strand_length, keyed=True
        )

    def _keyed(self, addresses: np.ndarray) -> np.ndarray:
        """Plain addresses whose strands carry the key: all but metadata (descriptors too)."""
        a = np.asarray(addresses, dtype=np.int64)
        return (a >= DESCRIPTOR) | ~self.is_metadata(a)

    def _masks(self, keyed: np.ndarray, key: int) -> np.ndarray:
        """(n, nsym) parity masks: the key's where ``keyed``, none elsewhere."""
        mask = parity_mask(key, self.nsym)
        return np.where(np.asarray(keyed, bool)[:, None], mask[None, :], 0).astype(np.uint8)

    # -- encoding ---------------------------------------------------------------------------
    def _build(
        self, headers: np.ndarray, payload_bits: np.ndarray, masks: np.ndarray | None = None
    ) -> np.ndarray:
        """Header words and (whitened) payload bits -> whole strands with RS parity (plus
        ``masks``, (n, nsym) or (nsym,), where given)."""
        n = len(headers)
        msg_nt = bits_to_bases(np.concatenate([int_to_bits(headers, HEADER_BITS), payload_bits], 1))
        par = rs.parity(symbols(msg_nt), self.nsym)
        if masks is not None:
            par ^= masks
        out = np.empty((n, self.strand_length), dtype=np.uint8)
        out[:, : self.o_header] = self.primer5
        out[:, self.o_header : self.o_parity] = msg_nt
        out[:, self.o_parity : self.o_primer3] = symbols_to_nt(par)
        out[:, self.o_primer3 :] = self.primer3
        return out

    def _plain_keys(self, addresses: np.ndarray, nonces: np.ndarray) -> np.ndarray:
        return (np.uint64(1) << np.uint64(40)) | (
            (addresses.astype(np.uint64) << np.uint64(NONCE_BITS)) | nonces.astype(np.uint64)
        )

    def _plain(self, addresses: np.ndarray, payload: np.ndarray, key: int = 0) -> np.ndarray:
        """One strand per block, header = address; the nonce is tried until it passes."""
        addresses = np.asarray(addresses, dtype=np.int64)
        masks = self._masks(self._keyed(addresses), key)
        out = np.empty((len(addresses), self.strand_length), dtype=np.uint8)
        pending = np.arange(len(addresses))
        for nonce in range(1 << NONCE_BITS):
            if len(pending) == 0:
                return out
            a = addresses[pending]
            nonces = np.full(len(a), nonce, dtype=np.int64)
            keys = self._plain_keys(a, nonces)
            bits = payload[pending] ^ whiten(keys, self.block_bits, PLAIN_SALT)
            headers = (1 << 31) | (nonce << ADDRESS_BITS) | (a ^ _address_mask(nonce))
            strands = self._build(headers, bits, masks[pending])
            ok = self.screen.ok(strands)
            out[pending[ok]] = strands[ok]
            pending = pending[~ok]
        if len(pending):
            raise RuntimeError(f"{len(pending)} plain strands failed screening for every nonce")
        return out

    def _droplets(self, sources: np.ndarray, seeds: np.ndarray, key: int = 0):
        """Droplet values (packed words) and their whole strands."""
        values = lt_code.encode(sources, seeds)
        bits = unpack_words(values, self.block_bits) ^ whiten(seeds, self.block_bits, DROPLET_SALT)
        return values, self._build(seeds.astype(np.int64), bits, parity_mask(key, self.nsym))

    def _fountain(self, blocks: np.ndarray, key: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Source blocks -> (seeds, strands) of screened droplets that decode them all."""
        k = len(blocks)
        sources = pack_words(blocks)
        target = lt_code.droplets_needed(k, self.overhead)
        seeds_kept, values_kept, strands_kept = [], [], []
        have, counter, passed = 0, 0, 0
        for _ in range(10_000):
            if have >= target:
                seeds = np.concatenate(seeds_kept)
                result = lt_code.decode(seeds, np.concatenate(values_kept), k)
                if result.known.all():
                    return seeds, np.concatenate(strands_kept)
                target = have + max(4, k // 100)  # not decodable yet: a few more droplets
            rate = max(0.01, (passed + 8) / (counter + 100))  # pass rate so far (~8 %)
            batch = int(min(1 << 16, max(256, (target - have) / rate * 1.2)))
            seeds = seed_of(np.arange(counter, counter + batch))
            counter += batch
            values, strands = self._droplets(sources, seeds, key)
            ok = np.flatnonzero(self.screen.ok(strands))
            passed += ok.size
            ok = ok[: target - have]
            seeds_kept.append(seeds[ok])
            values_kept.append(values[ok])
            strands_kept.append(strands[ok])
            have += ok.size
        raise RuntimeError("the fountain could not produce a decodable set of droplets")

    def _descriptors(self, first: int, k: int, key: int = 0) -> np.ndarray:
        bits = descriptor_bits(
            DESCRIPTOR_MAGIC, DESCRIPTOR_COPIES, self.block_bits, first, k, self.block_bits
        )
        # distinct addresses: distinct headers, so reads of the copies don't cluster together
        return self._plain(DESCRIPTOR + np.arange(DESCRIPTOR_COPIES), bits, key)

    def frame(
        self, addresses: np.ndarray, payload: np.ndarray, coder: ConstraintCoder, key: int = 0
    ) -> np.ndarray:
        """Metadata blocks become plain strands; a contiguous run of data addresses becomes
        one fountain segment (droplets + descriptors); more strands than blocks come out.
        ``key``: the archive's, on all but metadata strands (0: none, the old layout)."""
        addresses = np.asarray(addresses, dtype=np.int64)
        payload = np.asarray(payload, dtype=np.uint8)
        if payload.shape != (len(addresses), self.block_bits):
            raise ValueError(f"payload must be (n, {self.block_bits}) bits")
        if len(addresses) and (
            addresses.min() < 0
            or addresses.max() >= DESCRIPTOR
            or len(set(addresses.tolist())) < len(addresses)
        ):
            raise ValueError(f"addresses must be distinct and below {DESCRIPTOR}")
        meta = self.is_metadata(addresses)
        data = np.flatnonzero(~meta)
        order = data[np.argsort(addresses[data])]
        contiguous = len(order) > 0 and bool((np.diff(addresses[order]) == 1).all())
        if not contiguous:
            return self._plain(addresses, payload, key)
        plain = np.flatnonzero(meta)
        _, droplets = self._fountain(payload[order], key)
        parts = [
            self._plain(addresses[plain], payload[plain]),
            self._descriptors(int(addresses[order[0]]), len(order), key),
            droplets,
        ]
        return np.concatenate(parts)

    # -- decoding ---------------------------------------------------------------------------
    def _read(self, s: np.ndarray, erasures: np.ndarray | None, key: int = 0):
        """RS-correct each strand -> (ok, corrected, headers, payload bits). With a key, a
        strand must parse under the mask its own header calls for (none: metadata)."""
        n = len(s)
        erased_nt = s > 3 if erasures is None else (np.asarray(erasures, bool) | (s > 3))
        s = np.minimum(s, 3)
        msg = symbols(s[:, self.o_header : self.o_parity])
        par = symbols(s[:, self.o_parity : self.o_primer3])
        er = erased_nt[:, self.o_header : self.o_primer3].reshape(n, -1, 4).any(axis=2)
        out, ok, corrected = rs.decode(msg, par ^ parity_mask(key, self.nsym), er)
        if key:  # a strand must parse under the mask its own header calls for
            ok &= self._keyed(self._plain_address(_headers(out)))
            # metadata strands carry none: failed or corrected ones again without it
            retry = np.flatnonzero(~ok | (corrected > 0))
            plain, p_ok, p_corr = rs.decode(msg[retry], par[retry], er[retry])
            p_ok &= ~self._keyed(self._plain_address(_headers(plain)))
            take = p_ok & (~ok[retry] | (p_corr < corrected[retry]))
            out[retry[take]], corrected[retry[take]], ok[retry[take]] = (
                plain[take],
                p_corr[take],
                True,
            )
        ok &= er.sum(axis=1) < self.nsym  # all redundancy spent on erasures: anything "decodes"
        bits = bases_to_bits(symbols_to_nt(out))
        headers = bits_to_int(bits[:, :HEADER_BITS]).astype(np.int64)
        return ok, corrected, headers, bits[:, HEADER_BITS:]

    @staticmethod
    def _plain_address(headers: np.ndarray) -> np.ndarray:
        """Plain headers -> their addresses (droplets: 0, a data address: keyed)."""
        nonce = (headers >> ADDRESS_BITS) & ((1 << NONCE_BITS) - 1)
        addr = (headers & ADDRESS_MASK) ^ _address_mask(nonce)
        return np.where(headers >> 31 == 1, addr, 0)

    def _parse(self, s: np.ndarray, erasures: np.ndarray | None, key: int = 0) -> ParsedStrands:
        if len(s) == 0:
            z = np.zeros(0, dtype=np.int64)
            return ParsedStrands(z, np.zeros((0, self.block_bits), np.uint8), z > 0, z)
        ok, corrected, headers, raw = self._read(s, erasures, key)
        is_plain = ok & (headers >> 31 == 1)
        is_drop = ok & (headers >> 31 == 0)
        p = np.flatnonzero(is_plain)
        nonce = (headers[p] >> ADDRESS_BITS) & ((1 << NONCE_BITS) - 1)
        addr = self._plain_address(headers[p])
        plain_bits = raw[p] ^ whiten(self._plain_keys(addr, nonce), self.block_bits, PLAIN_SALT)
        desc = self._read_descriptor(plain_bits[addr >= DESCRIPTOR])
        blocks = addr < DESCRIPTOR
        rows_addr = [addr[blocks]]
        rows_bits = [plain_bits[blocks]]
        rows_corr = [corrected[p][blocks]]
        d = np.flatnonzero(is_drop)
        if desc is not None and len(d):
            first, k = desc
            d = d[np.argsort(corrected[d], kind="stable")]  # per seed, the surest copy
            seeds, idx = np.unique(headers[d].astype(np.uint64), return_index=True)
            d = d[idx]
            bits = raw[d] ^ whiten(seeds, self.block_bits, DROPLET_SALT)
            res = lt_code.decode_checked(seeds, pack_words(bits), k, corrected[d])
            got = np.flatnonzero(res.known)
            rows_addr.append(first + got)
            rows_bits.append(unpack_words(res.blocks[got], self.block_bits))
            rows_corr.append(np.zeros(len(got), dtype=np.int64))
        bad = int((~ok).sum())
        rows_addr.append(np.full(bad, -1, dtype=np.int64))
        rows_bits.append(np.zeros((bad, self.block_bits), dtype=np.uint8))
        rows_corr.append(np.full(bad, -1, dtype=np.int64))
        addresses = np.concatenate(rows_addr).astype(np.int64)
        return ParsedStrands(
            addresses,
            np.concatenate(rows_bits).astype(np.uint8),
            addresses >= 0,
            np.concatenate(rows_corr).astype(np.int64),
        )

    def _read_descriptor(self, bits: np.ndarray) -> tuple[int, int] | None:
        """Majority of the descriptor copies whose CRC holds -> (first address, k)."""
        votes = Counter(
            (first, k)
            for first, k, block_bits in read_descriptors(bits, DESCRIPTOR_MAGIC)
            if block_bits == self.block_bits and k > 0
        )
        return votes.most_common(1)[0][0] if votes else None


@hookimpl
def register_framers(register):
    register("fountain", FountainFramer)
