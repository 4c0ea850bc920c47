"""``hidden-address`` framer: hidden addressing on DNA Fountain (Wang et al., Frontiers 2022).

    primer5 (20) | 8 fragments x 23 nt (184) | f | 4 RS parity words (20) | f | primer3 (20)

As the paper describes: data blocks are grouped, each group is fountain-coded (LT, robust
soliton) on its own, every droplet is a short *fragment* (6-nt seed + 17-nt data = 23 nt)
screened on its own for GC (11-12 of 23, i.e. 45-55 %), runs and motifs, eight fragments make
a strand, and Reed-Solomon parity comes at the end. There is no index field.

``key`` (an archive's identity) is added to the RS parity of every strand but metadata
strands, as the ``helix`` framer does: another archive's strand differs from ours in all four
parity words, beyond what RS corrects, so it fails to parse instead of entering one of our
groups (the few RS miscorrects are doubtful droplets, which the LT decoder leaves out where
droplets disagree). Archives written before keys (no ``keyed`` in ``describe``) are read
unkeyed, as they were written.

The paper recovers a strand's group from its index fragment through a reference table kept
outside the DNA. Here the DNA is self-describing: a strand's group is a 12-bit hash of its
fragments in order, and the encoder *selects* the order of the eight droplets (8! choices) so
that the hash names the group: the index is replaced by (the arrangement of) data. Within a
group, droplets need no order at all. The hash value 4095 marks *plain* strands (metadata and
descriptor: address + payload + check, 6-bit nonces per fragment chosen for screening and
for the hash). Groups are ~equal, of at most ``group_blocks`` blocks, so the group count
(<= 4095) and sizes follow from the block count that the descriptor strands carry.

Droplets are picked as the paper picks them: first those that raise the GF(2) rank until the
group decodes, then more for ``overhead`` (strands per group = ceil(blocks x (1 + overhead)));
``group_blocks=1, overhead=0`` is the paper's own setting, one self-decoding strand per group.
12-bit seeds give ~1000 screened droplets per group, which bounds group size x overhead.
"""

from __future__ import annotations

import itertools
from collections import Counter
from functools import lru_cache
from math import ceil

import numpy as np

from helix_media.dna import rs
from helix_media.dna.coder import ConstraintCoder
from helix_media.dna.constraints import Constraints, check
from helix_media.dna.framer import ParsedStrands
from helix_media.dna.nucleotides import GC_BASE
from helix_media.errors import HelixError
from helix_media.hookspecs import hookimpl
from helix_media_builtins.framers import lt_code
from helix_media_builtins.framers.helix_framer import (
    PRIMER_3,
    PRIMER_5,
    WORD_NT,
    parity_mask,
    parity_words,
)
from helix_media_builtins.framers.hidden_address_plain import (
    DESCRIPTOR,
    DESCRIPTOR_COPIES,
    FRAG_NT,
    N_FRAG,
    PLAIN_FP,
    PlainStrands,
    _position_hash,
    fingerprint,
)
from helix_media_builtins.framers.strand_tools import (
    ScreeningFramer,
    bases_to_bits,
    bits_to_bases,
    bits_to_int,
    descriptor_bits,
    int_to_bits,
    read_descriptors,
    symbols,
    symbols_to_nt,
    whiten,
)

SEED_BITS, SEG_BITS = 12, 34  # droplet fragment: seed + data = 46 bits = 23 nt
MAX_GROUPS = PLAIN_FP
N_PARITY = 4
DESCRIPTOR_MAGIC = b"HXHA"
DATA_SALT = 0x44415441
BLOCK_BITS = N_FRAG * SEG_BITS  # 272, as the paper's 136 data nt per 184-nt sequence


@lru_cache(maxsize=1)
def _seed_order() -> np.ndarray:
    """All 12-bit seeds in a fixed shuffled order: the droplets a group uses first have
    unrelated seeds (counting up would start every fragment with AAA...)."""
    return np.argsort(lt_code.mix64(np.arange(1 << SEED_BITS, dtype=np.uint64))).astype(np.uint64)


@lru_cache(maxsize=1)
def _perms() -> np.ndarray:
    """All 8! fragment orders, shuffled (a prefix is then an unbiased sample)."""
    p = np.array(list(itertools.permutations(range(N_FRAG))), dtype=np.int64)
    return p[np.argsort(lt_code.mix64(np.arange(len(p), dtype=np.uint64)))]


def group_sizes(n_blocks: int, group_blocks: int) -> np.ndarray:
    """Near-equal groups of at most ``group_blocks`` blocks."""
    g = max(1, ceil(n_blocks / group_blocks))
    return np.full(g, n_blocks // g) + (np.arange(g) < n_blocks % g)


class HiddenAddressFramer(PlainStrands, ScreeningFramer):
    name = "hidden-address"
    address_bits = 30
    cluster_span = 36
    keyed = True
    n_parity = N_PARITY

    def __init__(
        self,
        group_blocks: int = 64,
        overhead: float = 0.5,
        primer5: str = PRIMER_5,
        primer3: str = PRIMER_3,
        constraints: Constraints | None = None,
    ) -> None:
        if group_blocks < 1 or overhead < 0:
            raise ValueError("group_blocks must be >= 1 and overhead >= 0")
        if N_FRAG * ceil(group_blocks * (1 + overhead)) > 850:
            raise ValueError("a group needs more droplets than its 4096 seeds give (~1000 pass)")
        self.group_blocks, self.overhead = int(group_blocks), float(overhead)
        self._set_primers(primer5, primer3, constraints)
        self.o_frag = len(self.primer5)
        self.o_fill1 = self.o_frag + N_FRAG * FRAG_NT
        self.o_words = self.o_fill1 + 1
        self.o_fill2 = self.o_words + N_PARITY * WORD_NT
        self.o_primer3 = self.o_fill2 + 1
        self.strand_length = self.o_primer3 + len(self.primer3)
        self.payload_nt = N_FRAG * FRAG_NT
        self.words = parity_words()
        codes = (self.words.astype(np.int64) << (2 * np.arange(WORD_NT)[::-1])).sum(axis=1)
        self.word_index = np.full(4**WORD_NT, -1, dtype=np.int64)
        self.word_index[codes] = np.arange(256)
        c = self.constraints
        self.frag_gc = (ceil(c.gc_min * FRAG_NT - 1e-9), int(c.gc_max * FRAG_NT + 1e-9))

    # -- sizes ------------------------------------------------------------------------------
    block_bits = BLOCK_BITS

    def payload_bits(self, coder: ConstraintCoder) -> int:
        """Fixed (272 bits): fragments are mapped 2 bits per base and screened."""
        return BLOCK_BITS

    def describe(self) -> dict:
        """``keyed``: data strands carry the archive's key (absent: an archive written before
        keys, read unkeyed)."""
        return self._describe(group_blocks=self.group_blocks, overhead=self.overhead, keyed=True)

    # -- fragments --------------------------------------------------------------------------
    def _fragment_ok(self, nt: np.ndarray) -> np.ndarray:
        """(m, 23) fragments -> passes the paper's local screen (GC, runs, motifs)."""
        report = check(nt, self.constraints)
        gc = GC_BASE[nt].sum(axis=1)
        lo, hi = self.frag_gc
        return (
            (gc >= lo)
            & (gc <= hi)
            & (report.max_homopolymer <= self.constraints.max_homopolymer)
            & (report.motif_hits == 0)
        )

    def _assemble(
        self, frag_nt: np.ndarray, mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(S, 8, 23) fragment bases -> (strands with parity and fillers, whole-strand ok);
        ``mask`` (a key's) is added to the parity."""
        n = len(frag_nt)
        out = np.empty((n, self.strand_length), dtype=np.uint8)
        out[:, : self.o_frag] = self.primer5
        out[:, self.o_frag : self.o_fill1] = frag_nt.reshape(n, -1)
        par = rs.parity(symbols(out[:, self.o_frag : self.o_fill1]), N_PARITY)
        if mask is not None:
            par ^= mask
        out[:, self.o_words : self.o_fill2] = self.words[par].reshape(n, -1)
        out[:, self.o_primer3 :] = self.primer3
        out[:, self.o_fill1] = out[:, self.o_fill2] = 0
        filled = self.screen.choose_fillers(out, (self.o_fill1, self.o_fill2))
        return out, filled & self.screen.ok(out)

    # -- encoding: data groups ----------------------------------------------------------------
    def _group_pool(self, g: int, segments: np.ndarray, count: int):
        """The group's first ``count`` droplets (of 4096) -> (seeds, values, bases) that pass."""
        seeds = _seed_order()[:count]
        values = lt_code.encode(segments, seeds, salt=g)[:, 0]
        keys = (np.uint64(g) << np.uint64(SEED_BITS)) | seeds
        data = bits_to_int(whiten(keys, SEG_BITS, DATA_SALT))
        frags = (seeds << np.uint64(SEG_BITS)) | (values ^ data)
        nt = bits_to_bases(int_to_bits(frags, SEED_BITS + SEG_BITS))
        ok = self._fragment_ok(nt)
        return seeds[ok], frags[ok], nt[ok]

    @staticmethod
    def _basis(g: int, k: int, seeds: np.ndarray) -> list[int]:
        """Positions of the droplets that raise the GF(2) rank, in order, until it is k."""
        basis: dict[int, int] = {}
        picked: list[int] = []
        for i, row in enumerate(lt_code.neighbours(seeds, k, salt=g).tolist()):
            v = sum(1 << j for j in row if j >= 0)
            while v:
                top = v.bit_length() - 1
                if top not in basis:
                    basis[top] = v
                    picked.append(i)
                    break
                v ^= basis[top]
            if len(basis) == k:
                break
        return picked

    def _select(self, g: int, k: int, n_blocks: int, seeds: np.ndarray) -> np.ndarray:
        """Which pool droplets the group uses (a multiple of 8): as the paper selects them,
        first droplets that raise the rank until they decode everything (a GF(2) basis of
        the k segments), then the next ones in pool order for the overhead."""
        picked = self._basis(g, k, seeds)
        if len(picked) < k:
            raise RuntimeError(f"group {g}: the screened droplets do not span its data")
        m = N_FRAG * ceil(n_blocks * (1 + self.overhead))
        rest = np.setdiff1d(np.arange(len(seeds)), picked)
        use = np.concatenate([picked, rest[: m - len(picked)]]).astype(np.int64)
        if len(use) < m:
            raise RuntimeError(f"group {g}: not enough screened droplets")
        return use

    def _order(self, frags: np.ndarray, nt: np.ndarray, targets: np.ndarray, mask: np.ndarray):
        """Find, per strand, an order of its 8 fragments whose hash is its target and whose
        whole strand passes. Returns (strands, found). A quarter of the 8! orders is tried
        first (~4 hash matches each), the rest only for strands that are still left."""
        n = len(frags)
        strands = np.zeros((n, self.strand_length), dtype=np.uint8)
        found = np.zeros(n, dtype=bool)
        all_perms = _perms()
        for perms in (all_perms[:10080], all_perms[10080:]):
            todo = np.flatnonzero(~found)
            cand: list[np.ndarray] = []
            for a in range(0, len(todo), 64):
                rows = todo[a : a + 64]
                h = _position_hash(frags[rows])  # (c, 8 values, 8 positions)
                fp = np.zeros((len(rows), len(perms)), dtype=np.uint64)
                for p in range(N_FRAG):
                    fp ^= h[:, perms[:, p], p]
                match = (fp & np.uint64(PLAIN_FP)).astype(np.int64) == targets[rows, None]
                cand += [np.flatnonzero(m) for m in match]
            pending = np.arange(len(todo))
            for t in range(max((len(c) for c in cand), default=0)):
                pending = pending[np.array([t < len(cand[i]) for i in pending], dtype=bool)]
                if len(pending) == 0:
                    break
                order = perms[[cand[i][t] for i in pending]]
                rows = todo[pending]
                built, ok = self._assemble(nt[rows[:, None], order], mask)
                strands[rows[ok]] = built[ok]
                found[rows[ok]] = True
                pending = pending[~ok]
        return strands, found

    def _data(self, blocks: np.ndarray, key: int = 0) -> np.ndarray:
        mask = parity_mask(key, N_PARITY)
        sizes = group_sizes(len(blocks), self.group_blocks)
        if len(sizes) > MAX_GROUPS:
            raise HelixError(
                f"hidden-address holds at most {MAX_GROUPS * self.group_blocks} blocks "
                f"({len(blocks)} given): raise group_blocks or use the fountain framer"
            )
        starts = np.concatenate([[0], np.cumsum(sizes)])
        all_frags, all_nt, targets, spares = [], [], [], []
        for g, nb in enumerate(sizes.tolist()):
            segs = blocks[starts[g] : starts[g + 1]].reshape(nb * N_FRAG, SEG_BITS)
            segments = bits_to_int(segs)[:, None]
            need = N_FRAG * ceil(nb * (1 + self.overhead))
            try:  # ~25 % of droplets pass: try a few times what is needed before all 4096
                seeds, frags, nt = self._group_pool(g, segments, min(4096, 6 * need + 64))
                use = self._select(g, nb * N_FRAG, nb, seeds)
            except RuntimeError:
                seeds, frags, nt = self._group_pool(g, segments, 1 << SEED_BITS)
                use = self._select(g, nb * N_FRAG, nb, seeds)
            spare = np.setdiff1d(np.arange(len(seeds)), use)
            all_frags.append(frags[use].reshape(-1, N_FRAG))
            all_nt.append(nt[use].reshape(-1, N_FRAG, FRAG_NT))
            targets.append(np.full(len(use) // N_FRAG, g))
            spares.append((frags[spare], nt[spare]))
        frags, nt, tg = np.concatenate(all_frags), np.concatenate(all_nt), np.concatenate(targets)
        strands, found = self._order(frags, nt, tg, mask)
        for i in np.flatnonzero(~found):  # rare: swap in a spare droplet, keeping the rank
            g = int(tg[i])
            others = frags[(tg == g) & (np.arange(len(tg)) != i)].reshape(-1)
            sf, snt = spares[g]
            for j, r in itertools.product(range(len(sf)), range(N_FRAG)):
                f2, nt2 = frags[i].copy(), nt[i].copy()
                f2[r], nt2[r] = sf[j], snt[j]
                seeds = np.concatenate([others, f2]) >> np.uint64(SEG_BITS)
                if len(self._basis(g, N_FRAG * int(sizes[g]), seeds)) < N_FRAG * sizes[g]:
                    continue
                s, ok = self._order(f2[None], nt2[None], tg[i : i + 1], mask)
                if ok[0]:
                    frags[i], nt[i], strands[i] = f2, nt2, s[0]
                    spares[g] = (np.delete(sf, j), np.delete(snt, j, axis=0))
                    break
            else:
                raise RuntimeError("no fragment order passes for a strand")
        return strands

    def _descriptors(self, first: int, n_blocks: int, key: int = 0) -> np.ndarray:
        bits = descriptor_bits(
            DESCRIPTOR_MAGIC, DESCRIPTOR_COPIES, BLOCK_BITS, first, n_blocks, self.group_blocks
        )
        # distinct addresses: distinct first fragments, so the copies' reads never cluster
        copies = DESCRIPTOR + np.arange(DESCRIPTOR_COPIES, dtype=np.int64)
        return self._plain_keyed(copies, bits, key)

    def frame(
        self, addresses: np.ndarray, payload: np.ndarray, coder: ConstraintCoder, key: int = 0
    ) -> np.ndarray:
        """Metadata blocks -> plain strands; a contiguous run of data addresses -> fountain
        groups (+ descriptors). More strands than blocks come out. ``key``: the archive's,
        added to the RS parity of all but metadata strands (0: none, the old layout), so
        another archive's strands fail to parse here."""
        addresses = np.asarray(addresses, dtype=np.int64)
        payload = np.asarray(payload, dtype=np.uint8)
        if payload.shape != (len(addresses), BLOCK_BITS):
            raise ValueError(f"payload must be (n, {BLOCK_BITS}) bits")
        if len(addresses) and (
            addresses.min() < 0
            or addresses.max() >= 1 << self.address_bits
            or len(set(addresses.tolist())) < len(addresses)
        ):
            raise ValueError(f"addresses must be distinct and fit in {self.address_bits} bits")
        meta = self.is_metadata(addresses)
        data = np.flatnonzero(~meta)
        order = data[np.argsort(addresses[data])]
        if len(order) == 0 or not (np.diff(addresses[order]) == 1).all():
            return self._plain_keyed(addresses, payload, key)
        plain = np.flatnonzero(meta)
        return np.concatenate(
            [
                self._plain(addresses[plain], payload[plain]),
                self._descriptors(int(addresses[order[0]]), len(order), key),
                self._data(payload[order], key),
            ]
        )

    # -- decoding ---------------------------------------------------------------------------
    def _read(self, s: np.ndarray, erasures: np.ndarray | None, key: int = 0):
        """RS over the fragments' nucleotides -> (ok, corrected, (n, 8) fragment values).
        With a key, a strand must parse under the mask it calls for (none: metadata)."""
        n = len(s)
        erased_nt = s > 3 if erasures is None else (np.asarray(erasures, bool) | (s > 3))
        s = np.minimum(s, 3)
        words = s[:, self.o_words : self.o_fill2].reshape(n, N_PARITY, WORD_NT)
        codes = (words.astype(np.int64) << (2 * np.arange(WORD_NT)[::-1])).sum(axis=2)
        par = self.word_index[codes]
        er_msg = erased_nt[:, self.o_frag : self.o_fill1].reshape(n, -1, 4).any(axis=2)
        er_par = erased_nt[:, self.o_words : self.o_fill2].reshape(n, N_PARITY, -1).any(axis=2)
        erased = np.concatenate([er_msg, er_par | (par < 0)], axis=1)
        msg, par = symbols(s[:, self.o_frag : self.o_fill1]), np.maximum(par, 0).astype(np.uint8)
        ok, corrected, frags = self._rs(msg, par ^ parity_mask(key, N_PARITY), erased)
        if key:
            ok &= ~self._metadata_plain(frags)
            # metadata strands carry no mask: failed or corrected ones again without it
            retry = np.flatnonzero(~ok | (corrected > 0))
            p_ok, p_corr, p_frags = self._rs(msg[retry], par[retry], erased[retry])
            p_ok &= self._metadata_plain(p_frags)
            take = p_ok & (~ok[retry] | (p_corr < corrected[retry]))
            r = retry[take]
            ok[r], corrected[r], frags[r] = True, p_corr[take], p_frags[take]
        return ok, corrected, frags

    @staticmethod
    def _rs(msg: np.ndarray, par: np.ndarray, erased: np.ndarray):
        """RS decoding -> (ok, corrected, (n, 8) fragment values)."""
        msg, ok, corrected = rs.decode(msg, par, erased)
        ok &= erased.sum(axis=1) < N_PARITY  # no redundancy left: anything would "decode"
        bits = bases_to_bits(symbols_to_nt(msg)).reshape(len(msg), N_FRAG, 2 * FRAG_NT)
        return ok, corrected, bits_to_int(bits)

    def _parse(self, s: np.ndarray, erasures: np.ndarray | None, key: int = 0) -> ParsedStrands:
        if len(s) == 0:
            z = np.zeros(0, dtype=np.int64)
            return ParsedStrands(z, np.zeros((0, BLOCK_BITS), np.uint8), z > 0, z)
        ok, corrected, frags = self._read(s, erasures, key)
        fp = np.where(ok, fingerprint(frags), -1)
        p = np.flatnonzero(fp == PLAIN_FP)
        address, bits, good = self._unplain(frags[p])
        desc = self._read_descriptor(bits[good & (address >= DESCRIPTOR)])
        keep = good & (address < DESCRIPTOR)
        rows = [(address[keep], bits[keep], corrected[p][keep])]
        if desc is not None:
            rows.append(self._decode_groups(frags, fp, corrected, *desc))
        bad = int((~ok).sum())
        rows.append((np.full(bad, -1), np.zeros((bad, BLOCK_BITS), np.uint8), np.full(bad, -1)))
        addresses = np.concatenate([r[0] for r in rows]).astype(np.int64)
        return ParsedStrands(
            addresses,
            np.concatenate([r[1] for r in rows]).astype(np.uint8),
            addresses >= 0,
            np.concatenate([r[2] for r in rows]).astype(np.int64),
        )

    def _decode_groups(
        self,
        frags: np.ndarray,
        fp: np.ndarray,
        doubt: np.ndarray,
        first: int,
        n_blocks: int,
        group_blocks: int,
    ):
        """Each group's droplets -> its blocks (a block needs all 8 of its segments)."""
        sizes = group_sizes(n_blocks, group_blocks)
        starts = np.concatenate([[0], np.cumsum(sizes)])
        addr, bits = [], []
        for g, nb in enumerate(sizes.tolist()):
            rows = np.flatnonzero(fp == g)
            if len(rows) == 0:
                continue
            rows = rows[np.argsort(doubt[rows], kind="stable")]  # per seed, the surest copy
            f = frags[rows].reshape(-1)
            seeds, idx = np.unique(f >> np.uint64(SEG_BITS), return_index=True)
            keys = (np.uint64(g) << np.uint64(SEED_BITS)) | seeds
            v = (f[idx] & np.uint64((1 << SEG_BITS) - 1)) ^ bits_to_int(
                whiten(keys, SEG_BITS, DATA_SALT)
            )
            res = lt_code.decode_checked(
                seeds, v[:, None], nb * N_FRAG, np.repeat(doubt[rows], N_FRAG)[idx], salt=g
            )
            whole = res.known.reshape(nb, N_FRAG).all(axis=1)
            segs = int_to_bits(res.blocks[:, 0], SEG_BITS).reshape(nb, BLOCK_BITS)
            addr.append(first + starts[g] + np.flatnonzero(whole))
            bits.append(segs[whole])
        if not addr:
            return np.zeros(0, np.int64), np.zeros((0, BLOCK_BITS), np.uint8), np.zeros(0, np.int64)
        a = np.concatenate(addr)
        return a, np.concatenate(bits), np.zeros(len(a), dtype=np.int64)

    def _read_descriptor(self, bits: np.ndarray) -> tuple[int, int, int] | None:
        """Majority of the descriptor copies whose CRC holds -> (first, n_blocks, group_blocks)."""
        votes = Counter(
            d for d in read_descriptors(bits, DESCRIPTOR_MAGIC) if d[1] > 0 and d[2] > 0
        )
        return votes.most_common(1)[0][0] if votes else None


@hookimpl
def register_framers(register):
    register("hidden-address", HiddenAddressFramer)
