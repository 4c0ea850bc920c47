"""``helix`` framer: 200- to 300-nt strands (240 by default), every one of them valid as a whole.

    primer5 (20) | address (16) | payload (P) | f | W parity words (5 W) | f | primer3 (20)

At 240 nt (the default, and every archive written before other lengths existed) P = 152 and
W = 6; at any other length L, W = 4 and P = L - 78 (``layout``: the inner parity was sized by
measurement against read channels, where consensus and the outer code already do much of
its job; docs/strands.md). The layout is a function of the length alone, so a decoder that
knows the length (a ``.dnapkt`` header, or the commonest read length) can read the metadata
strands, which record it again (``describe``: ``strand_length``, absent for 240).

* The address is a 25-bit integer (top bit: metadata), written as a word of a distance-3
  quaternary code inside the constraints (``address_code``), so a read with one damaged
  address base still finds its cluster.
* The payload (whitened upstream) is coded by the chosen constraint coder with primer +
  address as context.
* Reed-Solomon over GF(256) (RS(48, 42) at 240 nt) runs over the *nucleotides* of address +
  payload, 4 nt per symbol (the last symbol padded with zero bases where 16 + P is not a
  multiple of 4): one substitution costs one symbol, whatever the coder does with it. The W
  parity bytes are written as 5-nt words without repeated neighbours (no run > 2 across
  words, no restriction site across a junction); an unknown word is an erasure.
* ``key`` (an archive's identity, see :meth:`Framer.frame`) is added to the W parity symbols
  of data strands: another archive's strand differs from ours in ~W symbols, beyond what RS
  corrects, so it fails to parse instead of decoding into our video. Key 0 adds nothing
  (archives written before keys existed).
* The two filler bases are chosen so no run or motif forms at a junction and GC is steered
  towards 50 % (the closest valid pair, so inside 45-55 % whenever any valid pair is). Worst
  cases add up to GC 108-132 of 240 = 45-55 % without them; every length in range keeps its
  worst case inside the window, with the fillers' help at most (checked when the framer is
  built).
"""

from __future__ import annotations

import itertools
from functools import cache, cached_property
from math import ceil, floor

import numpy as np

from helix_media.blocks.whitening import keystream
from helix_media.dna import rs
from helix_media.dna.coder import ConstraintCoder
from helix_media.dna.constraints import Constraints, StrandReport, check, valid_inserts
from helix_media.dna.framer import Framer, ParsedStrands
from helix_media.dna.nucleotides import GC_BASE, from_string
from helix_media.hookspecs import hookimpl
from helix_media_builtins.coders.enumerative import EnumerativeCoder
from helix_media_builtins.framers.address_code import HALF, AddressCode, correct, unscramble

PRIMER_5 = "TAAGCCACGCTTGTGATGAC"
PRIMER_3 = "GTCGTTAGCATACCAGGAAC"
PRIMER_NT, ADDRESS_NT, WORD_NT, FILLERS = 20, 16, 5, 2
ADDRESS_BITS = 25  # 2**24 data strands (~600 MB of payload) and 2**24 metadata addresses
DEFAULT_LENGTH = 240
MIN_LENGTH, MAX_LENGTH = 200, 300  # what synthesis vendors sell as pools, and what is tested


def layout(length: int) -> tuple[int, int]:
    """Strand length -> (payload nt, parity words). Part of the format: a decoder rebuilds
    the layout from the length alone, so these values never change for a length once
    archives exist at it. 240 keeps its original 6 words; other lengths use 4 (at 300 nt,
    measured through 30x/1 % and 10x/2 % read channels: docs/strands.md)."""
    words = 6 if length == DEFAULT_LENGTH else 4
    return length - 2 * PRIMER_NT - ADDRESS_NT - FILLERS - WORD_NT * words, words


@cache  # every framer made (one per pool item read) needs them; ~2 ms to list
def parity_words() -> np.ndarray:
    """The 256 five-nt words with no equal neighbours and 2-3 G/C, in lexicographic order
    (read-only: shared)."""
    words = [
        w
        for w in itertools.product(range(4), repeat=WORD_NT)
        if all(a != b for a, b in itertools.pairwise(w)) and int(GC_BASE[list(w)].sum()) in (2, 3)
    ]
    assert len(words) == 256
    out = np.array(words, dtype=np.uint8)
    out.setflags(write=False)
    return out


def parity_mask(key: int, words: int = 6) -> np.ndarray:
    """Key -> the ``words`` bytes added to a data strand's RS parity (zeros for key 0)."""
    if not key:
        return np.zeros(words, dtype=np.uint8)
    return (
        keystream(np.array([key], dtype=np.uint64), 8 * words, seed=0x48584B)[0]
        .reshape(words, 8)
        .dot(1 << np.arange(7, -1, -1))
        .astype(np.uint8)
    )


class HelixFramer(Framer):
    name = "helix"
    strand_length = DEFAULT_LENGTH
    keyed = True

    def __init__(
        self,
        primer5: str = PRIMER_5,
        primer3: str = PRIMER_3,
        constraints: Constraints | None = None,
        strand_length: int = DEFAULT_LENGTH,
    ) -> None:
        self.primer5, self.primer3 = from_string(primer5), from_string(primer3)
        if len(self.primer5) != PRIMER_NT or len(self.primer3) != PRIMER_NT:
            raise ValueError("primers must be 20 nt")
        if not isinstance(strand_length, int) or not MIN_LENGTH <= strand_length <= MAX_LENGTH:
            raise ValueError(
                f"the helix framer makes strands of {MIN_LENGTH}-{MAX_LENGTH} nt, "
                f"not {strand_length!r}"
            )
        self.constraints = (constraints or Constraints()).with_primers(primer5, primer3)
        c = self.constraints
        self.address_code = AddressCode(c, self.primer5)
        self.address_bits = ADDRESS_BITS
        self.words = parity_words()
        codes = (self.words.astype(np.int64) << (2 * np.arange(WORD_NT)[::-1])).sum(axis=1)
        self.word_index = np.full(4**WORD_NT, -1, dtype=np.int64)
        self.word_index[codes] = np.arange(256)
        # offsets of the regions inside a strand
        self.strand_length = strand_length
        self.payload_nt, self.n_parity = layout(strand_length)
        self.o_addr = PRIMER_NT
        self.o_payload = self.o_addr + ADDRESS_NT
        self.o_fill1 = self.o_payload + self.payload_nt
        self.o_words = self.o_fill1 + 1
        self.o_fill2 = self.o_words + self.n_parity * WORD_NT
        self.o_primer3 = self.o_fill2 + 1
        assert self.o_primer3 + PRIMER_NT == self.strand_length
        # RS message: address + payload bases, 4 per symbol, the last padded with zero bases
        self.n_message = -(-(self.o_fill1 - self.o_addr) // 4)
        self._pad = 4 * self.n_message - (self.o_fill1 - self.o_addr)
        self._check_gc_window()

    def _check_gc_window(self) -> None:
        """Every strand's GC must be able to land inside the window: the worst payload (at
        the coder's GC bound), address (7-9 G/C of 16) and parity words (2-3 of 5 each),
        with the two fillers' help at most."""
        c, n = self.constraints, self.strand_length
        primers = int(GC_BASE[self.primer5].sum() + GC_BASE[self.primer3].sum())
        lo = primers + 7 + ceil(c.gc_min * self.payload_nt - 1e-9) + 2 * self.n_parity
        hi = primers + 9 + floor(c.gc_max * self.payload_nt + 1e-9) + 3 * self.n_parity
        if lo + FILLERS < c.gc_min * n - 1e-9 or hi > c.gc_max * n + 1e-9:
            raise ValueError(f"{n}-nt strands: GC {c.gc_min}-{c.gc_max} cannot be guaranteed")

    def at_length(self, length: int) -> HelixFramer | None:
        if length == self.strand_length:
            return self
        if not isinstance(length, int) or not MIN_LENGTH <= length <= MAX_LENGTH:
            return None
        return HelixFramer(
            "".join("ACGT"[b] for b in self.primer5),
            "".join("ACGT"[b] for b in self.primer3),
            self.constraints,  # primer motifs already in: with_primers adds nothing twice
            strand_length=length,
        )

    def payload_bits(self, coder: ConstraintCoder) -> int:
        return coder.capacity(self.payload_nt)

    def describe(self) -> dict:
        """Name, primers, and the strand length where it is not 240 (archives written before
        lengths existed say nothing, and mean 240)."""
        out = {
            "name": self.name,
            "primer5": "".join("ACGT"[b] for b in self.primer5),
            "primer3": "".join("ACGT"[b] for b in self.primer3),
        }
        if self.strand_length != DEFAULT_LENGTH:
            out["strand_length"] = self.strand_length
        return out

    # -- encoding ---------------------------------------------------------------------------
    def frame(
        self, addresses: np.ndarray, payload: np.ndarray, coder: ConstraintCoder, key: int = 0
    ) -> np.ndarray:
        addresses = np.asarray(addresses, dtype=np.int64)
        n = len(addresses)
        if addresses.min(initial=0) < 0 or addresses.max(initial=0) >= 1 << self.address_bits:
            raise ValueError(f"addresses must fit in {self.address_bits} bits")
        strands = np.zeros((n, self.strand_length), dtype=np.uint8)
        strands[:, : self.o_addr] = self.primer5
        strands[:, self.o_primer3 :] = self.primer3
        strands[:, self.o_addr : self.o_payload] = self.address_code.encode(
            addresses & self._index_mask, self.is_metadata(addresses)
        )
        strands[:, self.o_payload : self.o_fill1] = coder.encode(
            np.asarray(payload, dtype=np.uint8), self.payload_nt, strands[:, : self.o_payload]
        )
        par = rs.parity(self._symbols(strands), self.n_parity) ^ self._masks(addresses, key)
        strands[:, self.o_words : self.o_fill2] = self.words[par].reshape(n, -1)
        self._choose_fillers(strands)
        return strands

    def _masks(self, addresses: np.ndarray, key: int) -> np.ndarray:
        """Per-strand parity masks: the key's on data strands, none on metadata strands (which
        must be readable before the key is known)."""
        data = ~self.is_metadata(addresses)
        mask = parity_mask(key, self.n_parity)
        return np.where(data[:, None], mask[None, :], 0).astype(np.uint8)

    @property
    def _index_mask(self) -> int:
        return (1 << (self.address_bits - 1)) - 1

    def _symbols(self, strands: np.ndarray) -> np.ndarray:
        """Address + payload nucleotides as GF(256) symbols, 4 nt each (zero bases pad the
        last one where the lengths do not divide)."""
        nt = strands[:, self.o_addr : self.o_fill1].astype(np.uint8)
        if self._pad:
            nt = np.pad(nt, ((0, 0), (0, self._pad)))
        nt = nt.reshape(len(strands), -1, 4)
        return (nt[:, :, 0] << 6) | (nt[:, :, 1] << 4) | (nt[:, :, 2] << 2) | nt[:, :, 3]

    def _choose_fillers(self, strands: np.ndarray) -> None:
        """Pick both fillers: no run or motif through them; total GC closest to 50 %."""
        span = max(len(m) for m in self.constraints.motifs) - 1
        valid = [
            valid_inserts(
                strands[:, f - span : f], strands[:, f + 1 : f + 1 + span], self.constraints
            )
            for f in (self.o_fill1, self.o_fill2)
        ]
        gc_rest = GC_BASE[strands].sum(axis=1).astype(np.int64)
        gc_rest -= GC_BASE[strands[:, self.o_fill1]] + GC_BASE[strands[:, self.o_fill2]]
        best_cost = np.full(len(strands), np.inf)
        best = np.zeros((len(strands), 2), dtype=np.uint8)
        for f1, f2 in itertools.product(range(4), repeat=2):
            gc = gc_rest + int(GC_BASE[f1]) + int(GC_BASE[f2])
            cost = np.where(
                valid[0][:, f1] & valid[1][:, f2], np.abs(2 * gc - self.strand_length), np.inf
            )
            better = cost < best_cost
            best_cost[better] = cost[better]
            best[better] = (f1, f2)
        if np.isinf(best_cost).any():  # cannot happen with the default primers; never emit junk
            raise RuntimeError("no valid filler bases for some strands")
        strands[:, self.o_fill1] = best[:, 0]
        strands[:, self.o_fill2] = best[:, 1]

    # -- decoding ---------------------------------------------------------------------------
    def cluster_keys(self, bases: np.ndarray) -> np.ndarray:
        """Address bases of reads -> the address codeword's information word (one
        substitution corrected), so reads with a damaged address join their cluster."""
        return correct(np.minimum(bases, 3).astype(np.uint8))[0]

    def address_keys(self, addresses: np.ndarray) -> np.ndarray:
        """Cluster keys of these addresses: their address codewords' information words."""
        a = np.asarray(addresses, dtype=np.int64)
        bases = self.address_code.encode(a & self._index_mask, self.is_metadata(a))
        return self.cluster_keys(bases)

    def parse(
        self,
        strands: np.ndarray,
        coder: ConstraintCoder,
        metadata_coder: ConstraintCoder | None = None,
        erasures: np.ndarray | None = None,
        key: int = 0,
    ) -> ParsedStrands:
        strands = np.asarray(strands, dtype=np.uint8).reshape(-1, self.strand_length)
        n = len(strands)
        if n == 0:
            empty = np.zeros(0, dtype=np.int64)
            bits = np.zeros((0, coder.capacity(self.payload_nt)), dtype=np.uint8)
            return ParsedStrands(empty, bits, np.zeros(0, dtype=bool), empty)
        words = strands[:, self.o_words : self.o_fill2].reshape(n, self.n_parity, WORD_NT)
        codes = (words.astype(np.int64) << (2 * np.arange(WORD_NT)[::-1])).sum(axis=2)
        par = self.word_index[codes]
        n_msg = self.n_message
        erased = np.concatenate([np.zeros((n, n_msg), dtype=bool), par < 0], axis=1)
        if erasures is not None:  # unsure bases -> erased RS symbols (4 nt each, words 5 nt)
            e = np.pad(np.asarray(erasures, dtype=bool)[:, self.o_addr : self.o_fill1],
                       ((0, 0), (0, self._pad)))  # fmt: skip
            erased[:, :n_msg] |= e.reshape(n, n_msg, 4).any(axis=2)
            w = np.asarray(erasures, dtype=bool)[:, self.o_words : self.o_fill2]
            erased[:, n_msg:] |= w.reshape(n, self.n_parity, -1).any(axis=2)
        # the parity mask follows what the address says: metadata strands carry none
        masked = ~self.metadata_candidates(strands)
        symbols, rs_ok, corrected = self._rs_decode(strands, par, erased, erasures, masked, key)
        if key:  # an address damaged beyond its own code: try the other mask
            retry = np.flatnonzero(~rs_ok)
            if len(retry):
                masked[retry] = ~masked[retry]
                sub = self._rs_decode(
                    strands[retry], par[retry], erased[retry],
                    erasures, masked[retry], key,
                )  # fmt: skip
                symbols[retry], rs_ok[retry], corrected[retry] = sub
        nt = np.stack([(symbols >> s) & 3 for s in (6, 4, 2, 0)], axis=2).reshape(n, -1)
        nt = nt[:, : self.o_fill1 - self.o_addr]  # without the padding
        # the primer is known: context comes from it, not from the (possibly damaged) read
        fixed = np.concatenate([np.broadcast_to(self.primer5, (n, self.o_addr)), nt], axis=1)
        # only strands that passed RS: garbage must not grow the address tables
        index = np.full(n, -1, dtype=np.int64)
        is_meta = np.zeros(n, dtype=bool)
        index[rs_ok], is_meta[rs_ok], _ = self.address_code.decode(
            fixed[rs_ok, self.o_addr : self.o_payload]
        )
        addr_ok = index >= 0
        if key:  # a strand must parse under the mask its own address calls for
            addr_ok &= masked != is_meta
        addresses = np.where(is_meta, (1 << (self.address_bits - 1)) | index, index)
        cap = coder.capacity(self.payload_nt)
        if metadata_coder is None or metadata_coder.capacity(self.payload_nt) != cap:
            is_meta[:] = False
        payload = np.zeros((n, cap), dtype=np.uint8)
        pay_ok = np.zeros(n, dtype=bool)
        for which, c in ((~is_meta, coder), (is_meta, metadata_coder)):
            if which.any():
                payload[which], pay_ok[which] = c.decode(
                    fixed[which, self.o_payload :], fixed[which, : self.o_payload]
                )
        ok = rs_ok & addr_ok & pay_ok
        return ParsedStrands(np.where(ok, addresses, -1), payload, ok, corrected)

    def _rs_decode(self, strands, par, erased, erasures, masked, key):
        key_mask = parity_mask(key, self.n_parity)
        mask = np.where(masked[:, None], key_mask[None, :], 0).astype(np.uint8)
        symbols, ok, corrected = rs.decode(
            self._symbols(strands),
            np.maximum(par, 0).astype(np.uint8) ^ mask,
            erased,
            # Estimates from reads (erasures given) come with lone reads and shaky consensus,
            # the likeliest to be miscorrected: keep one parity symbol for detection there.
            margin=0 if erasures is None else 1,
        )
        if self._pad:  # a correction that sets the padding bases is a miscorrection
            bad = ok & ((symbols[:, self.n_message - 1] & ((1 << 2 * self._pad) - 1)) != 0)
            ok &= ~bad
            corrected = np.where(bad, -1, corrected)
        return symbols, ok, corrected

    def metadata_candidates(self, strands: np.ndarray) -> np.ndarray:
        """Strands whose address bases (one substitution corrected) name a metadata address,
        or cannot be read at all: the only ones worth parsing before the key is known."""
        values, _ = correct(np.minimum(strands[:, self.o_addr : self.o_payload], 3))
        return (values < 0) | (unscramble(np.maximum(values, 0)) >= HALF)

    # -- inspection -------------------------------------------------------------------------
    def check(self, strands: np.ndarray) -> StrandReport:
        """Constraint figures of whole strands; the primers in their own places don't count."""
        report = check(strands, self.constraints)
        s = np.asarray(strands)
        in_place = (s[:, : self.o_addr] == self.primer5).all(axis=1).astype(np.int64)
        if s.shape[1] == self.strand_length:
            in_place += (s[:, self.o_primer3 :] == self.primer3).all(axis=1)
        report.motif_hits = report.motif_hits - in_place
        return report

    @cached_property
    def metadata_coder(self) -> ConstraintCoder:
        """Metadata strands always use the enumerative code, so any decoder can find them."""
        return EnumerativeCoder(self.constraints)


@hookimpl
def register_framers(register):
    register("helix", HelixFramer)
