"""A sequencing plan (``--read-plan PROFILE:COVERAGE``): the strand loss it implies, for the
auto outer code.

Reads per strand are uneven (synthesis and PCR bias: a negative binomial of the profile's
``skew``), so at a mean coverage c some strands get no read and some too few to decode. A
strand's loss under the plan is ``sum_k P(k reads) * DECODE_FAILURE[k]``, with P from the
profile's coverage skew and the failure of the read path with exactly k reads per strand
measured by ``helix bench read-plan``. Strands fail independently, so the auto outer code
sized for that loss (:func:`.outer_code.parity_needed`) leaves each segment whole with
probability at least 1 - 10^-6; ordinary dropout (:data:`.outer_code.DESIGN_DROPOUT`) comes
on top.

Why a plan and not a larger default: the default auto code (2 % loss) costs 3-5 % more
strands; a nanopore run at 10x with the fitted skew loses about 10 %, which would cost every
archive 12-17 %. Sequencing depth is cheap next to synthesis (a MinION flow cell reads
millions of strands), so a plan is for those who know they will read shallow.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import exp, lgamma, log

from helix_media.blocks.outer_code import DESIGN_DROPOUT
from helix_media.channel.profiles import PROFILES, profile_channel
from helix_media.errors import HelixError

#: Share of strands the read path did not decode with exactly k = 1, 2, ... reads each
#: (``helix bench read-plan``: 1500-strand random file, default framer, 240 nt; seeds 1 + k).
#: Beyond the table, the last entry.
DECODE_FAILURE: dict[str, tuple[float, ...]] = {
    "illumina": (0.0162, 0.0007, 0.0),
    "nanopore-r9": (0.9966, 0.9824, 0.4291, 0.1574, 0.0561, 0.0169, 0.0068, 0.0041, 0.0007,
                    0.0, 0.0007, 0.0020),
    "nanopore-r10": (0.9426, 0.7703, 0.1784, 0.0297, 0.0047, 0.0014, 0.0007, 0.0007, 0.0,
                     0.0, 0.0, 0.0007),
}  # fmt: skip

MAX_K = 12  # reads per strand measured


@dataclass(frozen=True)
class ReadPlan:
    """Reads of a profile's sequencer at a mean coverage."""

    profile: str
    coverage: float

    @classmethod
    def parse(cls, text: str) -> ReadPlan:
        """``PROFILE:COVERAGE`` (e.g. ``nanopore-r9:10``) -> plan; HelixError if malformed."""
        name, colon, cov = text.partition(":")
        if name not in PROFILES or not colon:
            raise HelixError(
                f"--read-plan {text!r}: expected PROFILE:COVERAGE, profile one of "
                f"{', '.join(PROFILES)} (e.g. nanopore-r9:10)"
            )
        try:
            coverage = float(cov)
        except ValueError:
            coverage = float("nan")
        if not 0.5 <= coverage <= 1000:  # (nan fails too)
            raise HelixError(f"--read-plan {text!r}: coverage must be 0.5-1000 reads per strand")
        return cls(name, coverage)

    def _pmf(self, k: int) -> float:
        """P(a strand gets k reads): negative binomial of mean ``coverage``, the profile's size."""
        r = profile_channel(self.profile).skew
        p = r / (r + self.coverage)
        return exp(lgamma(k + r) - lgamma(r) - lgamma(k + 1) + r * log(p) + k * log(1 - p))

    def no_reads(self) -> float:
        """Share of strands that get no read at all."""
        return self._pmf(0)

    def strand_loss(self) -> float:
        """Share of strands a run of this plan leaves undecoded."""
        fail = DECODE_FAILURE[self.profile]
        loss, seen, k = self._pmf(0), self._pmf(0), 0
        while seen < 1 - 1e-12 and k < 100_000:
            k += 1
            pk = self._pmf(k)
            loss += pk * fail[min(k, len(fail)) - 1]
            seen += pk
        return min(1.0, loss)

    def design_loss(self) -> float:
        """The loss the outer code is sized for: the plan's, and ordinary dropout besides."""
        return 1 - (1 - DESIGN_DROPOUT) * (1 - self.strand_loss())
