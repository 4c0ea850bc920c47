"""``helix`` framer: 240-nt strands, every one of them valid as a whole.

    primer5 (20) | address (16) | payload (152) | f | 6 parity words (30) | f | primer3 (20)

* The address is a 25-bit integer (top bit: metadata), written as a word of a distance-3
  quaternary code inside the constraints (``address_code``), so a read with one damaged
  address base still finds its cluster.
* The payload (whitened upstream) is coded by the chosen constraint coder with primer +
  address as context.
* Reed-Solomon RS(48, 42) runs over the *nucleotides* of address + payload, 4 nt per GF(256)
  symbol: one substitution costs one symbol, whatever the coder does with it. The 6 parity
  bytes are written as 5-nt words without repeated neighbours (no run > 2 across words, no
  restriction site across a junction); an unknown word is an erasure.
* ``key`` (an archive's identity, see :meth:`Framer.frame`) is added to the 6 parity symbols
  of data strands: another archive's strand differs from ours in ~6 of 48 symbols, beyond
  what RS corrects, so it fails to parse instead of decoding into our video. Key 0 adds
  nothing (archives written before keys existed).
* The two filler bases are chosen so no run or motif forms at a junction and GC is steered
  towards 50 %. Worst cases add up to GC 108-132 of 240 = 45-55 % without them.
"""

from __future__ import annotations

import itertools
from functools import cached_property

import numpy as np

from helix_media.blocks.whitening import keystream
from helix_media.dna import rs
from helix_media.dna.coder import ConstraintCoder
from helix_media.dna.constraints import Constraints, StrandReport, check, valid_inserts
from helix_media.dna.framer import Framer, ParsedStrands
from helix_media.dna.nucleotides import GC_BASE, from_string
from helix_media.hookspecs import hookimpl
from helix_media_builtins.address_code import HALF, AddressCode, correct, unscramble
from helix_media_builtins.enumerative import EnumerativeCoder

PRIMER_5 = "TAAGCCACGCTTGTGATGAC"
PRIMER_3 = "GTCGTTAGCATACCAGGAAC"
ADDRESS_NT, PAYLOAD_NT, WORD_NT, N_PARITY = 16, 152, 5, 6
ADDRESS_BITS = 25  # 2**24 data strands (~600 MB of payload) and 2**24 metadata addresses


def parity_words() -> np.ndarray:
    """The 256 five-nt words with no equal neighbours and 2-3 G/C, in lexicographic order."""
    words = [
        w
        for w in itertools.product(range(4), repeat=WORD_NT)
        if all(a != b for a, b in itertools.pairwise(w)) and int(GC_BASE[list(w)].sum()) in (2, 3)
    ]
    assert len(words) == 256
    return np.array(words, dtype=np.uint8)


def parity_mask(key: int) -> np.ndarray:
    """Key -> the 6 bytes added to a data strand's RS parity (zeros for key 0)."""
    if not key:
        return np.zeros(N_PARITY, dtype=np.uint8)
    return (
        keystream(np.array([key], dtype=np.uint64), 8 * N_PARITY, seed=0x48584B)[0]
        .reshape(N_PARITY, 8)
        .dot(1 << np.arange(7, -1, -1))
        .astype(np.uint8)
    )


class HelixFramer(Framer):
    name = "helix"
    strand_length = 240
    keyed = True

    def __init__(
        self,
        primer5: str = PRIMER_5,
        primer3: str = PRIMER_3,
        constraints: Constraints | None = None,
    ) -> None:
        self.primer5, self.primer3 = from_string(primer5), from_string(primer3)
        if len(self.primer5) != 20 or len(self.primer3) != 20:
            raise ValueError("primers must be 20 nt")
        self.constraints = (constraints or Constraints()).with_primers(primer5, primer3)
        c = self.constraints
        self.address_code = AddressCode(c, self.primer5)
        self.address_bits = ADDRESS_BITS
        self.words = parity_words()
        codes = (self.words.astype(np.int64) << (2 * np.arange(WORD_NT)[::-1])).sum(axis=1)
        self.word_index = np.full(4**WORD_NT, -1, dtype=np.int64)
        self.word_index[codes] = np.arange(256)
        # offsets of the regions inside a strand
        self.o_addr = 20
        self.payload_nt = PAYLOAD_NT
        self.o_payload = self.o_addr + ADDRESS_NT
        self.o_fill1 = self.o_payload + PAYLOAD_NT
        self.o_words = self.o_fill1 + 1
        self.o_fill2 = self.o_words + N_PARITY * WORD_NT
        self.o_primer3 = self.o_fill2 + 1
        assert self.o_primer3 + 20 == self.strand_length

    def payload_bits(self, coder: ConstraintCoder) -> int:
        return coder.capacity(PAYLOAD_NT)

    def describe(self) -> dict:
        return {
            "name": self.name,
            "primer5": "".join("ACGT"[b] for b in self.primer5),
            "primer3": "".join("ACGT"[b] for b in self.primer3),
        }

    # -- encoding ---------------------------------------------------------------------------
    def frame(
        self, addresses: np.ndarray, payload: np.ndarray, coder: ConstraintCoder, key: int = 0
    ) -> np.ndarray:
        addresses = np.asarray(addresses, dtype=np.int64)
        n = len(addresses)
        if addresses.min(initial=0) < 0 or addresses.max(initial=0) >= 1 << self.address_bits:
            raise ValueError(f"addresses must fit in {self.address_bits} bits")
        strands = np.zeros((n, self.strand_length), dtype=np.uint8)
        strands[:, :20] = self.primer5
        strands[:, self.o_primer3 :] = self.primer3
        strands[:, self.o_addr : self.o_payload] = self.address_code.encode(
            addresses & self._index_mask, self.is_metadata(addresses)
        )
        strands[:, self.o_payload : self.o_fill1] = coder.encode(
            np.asarray(payload, dtype=np.uint8), PAYLOAD_NT, strands[:, : self.o_payload]
        )
        par = rs.parity(self._symbols(strands), N_PARITY) ^ self._masks(addresses, key)
        strands[:, self.o_words : self.o_fill2] = self.words[par].reshape(n, -1)
        self._choose_fillers(strands)
        return strands

    def _masks(self, addresses: np.ndarray, key: int) -> np.ndarray:
        """Per-strand parity masks: the key's on data strands, none on metadata strands (which
        must be readable before the key is known)."""
        data = ~self.is_metadata(addresses)
        return np.where(data[:, None], parity_mask(key)[None, :], 0).astype(np.uint8)

    @property
    def _index_mask(self) -> int:
        return (1 << (self.address_bits - 1)) - 1

    def _symbols(self, strands: np.ndarray) -> np.ndarray:
        """Address + payload nucleotides as GF(256) symbols, 4 nt each."""
        nt = strands[:, self.o_addr : self.o_fill1].reshape(len(strands), -1, 4).astype(np.uint8)
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
            bits = np.zeros((0, coder.capacity(PAYLOAD_NT)), dtype=np.uint8)
            return ParsedStrands(empty, bits, np.zeros(0, dtype=bool), empty)
        words = strands[:, self.o_words : self.o_fill2].reshape(n, N_PARITY, WORD_NT)
        codes = (words.astype(np.int64) << (2 * np.arange(WORD_NT)[::-1])).sum(axis=2)
        par = self.word_index[codes]
        n_msg = (self.o_fill1 - self.o_addr) // 4
        erased = np.concatenate([np.zeros((n, n_msg), dtype=bool), par < 0], axis=1)
        if erasures is not None:  # unsure bases -> erased RS symbols (4 nt each, words 5 nt)
            e = np.asarray(erasures, dtype=bool)
            erased[:, :n_msg] |= e[:, self.o_addr : self.o_fill1].reshape(n, n_msg, 4).any(axis=2)
            erased[:, n_msg:] |= e[:, self.o_words : self.o_fill2].reshape(n, N_PARITY, -1).any(2)
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
        # the primer is known: context comes from it, not from the (possibly damaged) read
        fixed = np.concatenate([np.broadcast_to(self.primer5, (n, 20)), nt], axis=1)
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
        if metadata_coder is None or metadata_coder.capacity(PAYLOAD_NT) != coder.capacity(
            PAYLOAD_NT
        ):
            is_meta[:] = False
        payload = np.zeros((n, coder.capacity(PAYLOAD_NT)), dtype=np.uint8)
        pay_ok = np.zeros(n, dtype=bool)
        for which, c in ((~is_meta, coder), (is_meta, metadata_coder)):
            if which.any():
                payload[which], pay_ok[which] = c.decode(
                    fixed[which, self.o_payload :], fixed[which, : self.o_payload]
                )
        ok = rs_ok & addr_ok & pay_ok
        return ParsedStrands(np.where(ok, addresses, -1), payload, ok, corrected)

    def _rs_decode(self, strands, par, erased, erasures, masked, key):
        mask = np.where(masked[:, None], parity_mask(key)[None, :], 0).astype(np.uint8)
        return rs.decode(
            self._symbols(strands),
            np.maximum(par, 0).astype(np.uint8) ^ mask,
            erased,
            # Estimates from reads (erasures given) come with lone reads and shaky consensus,
            # the likeliest to be miscorrected: keep one parity symbol for detection there.
            margin=0 if erasures is None else 1,
        )

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
        in_place = (s[:, :20] == self.primer5).all(axis=1).astype(np.int64)
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
