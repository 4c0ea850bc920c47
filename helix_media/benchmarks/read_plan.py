"""What a sequencing plan loses: strands not decoded by reads per strand, and what it costs.

    helix bench read-plan [--profile P] [--strands N] [--max-reads K] [--seed S]
                          [--coverages 3,5,10,...]

Part 1 measures, for each profile, the share of data strands the whole read path (trim,
cluster, reconstruct, inner code) fails to decode when *every* strand gets exactly k reads
(k = 1..K; random strands, the default framer): the table
:data:`helix_media.channel.read_plan.DECODE_FAILURE` stores. Part 2 combines the stored table
with each profile's coverage skew into the strand loss of a run at each mean coverage and the
outer code that ``--read-plan PROFILE:COVERAGE`` gives a 30 kB and a 1 MB file.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from helix_media import plugins
from helix_media.archive import parse
from helix_media.archive.estimates import select_blocks, with_alternatives
from helix_media.archive.keys import framer_key
from helix_media.blocks.outer_code import parity_needed
from helix_media.blocks.whitening import whiten
from helix_media.channel import read_plan
from helix_media.channel.profiles import PROFILES, profile_channel
from helix_media.channel.sequencing import simulate
from helix_media.distributed import parse_strands
from helix_media.readpath.reads import ReadProcessor


def _archive(strands: int, seed: int):
    """A random file of about ``strands`` data strands (default framer and coder, no outer
    code): its strands, the framer, and the true block of each data address."""
    from helix_media.archive.encode import encode_file

    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.bin"
        path.write_bytes(rng.integers(0, 256, strands * 37, dtype=np.uint8).tobytes())
        got = encode_file(str(path), redundancy=0)
    fr = plugins.get_framer()
    fr, meta, blocks, _ = parse._parse_known(fr, {}, list(got.strands), "x", clean=True)
    return got.strands, fr, meta, blocks


def decode_failure(profile: str, k: int, strands, fr, meta, truth, seed: int) -> tuple[float, int]:
    """Share of data strands not decoded exactly when each strand gets ``k`` reads (the
    read path's estimates parsed as a decode does once it has the metadata), and how many
    addresses decoded to a wrong block (miscorrections: should be none)."""
    channel = replace(profile_channel(profile), seed=seed)
    reads = simulate(strands, channel, counts=np.full(len(strands), k))
    est = ReadProcessor(fr).process(list(reads))
    coder = plugins.get_coder(meta["coder"], constraints=fr.constraints)
    key = framer_key(fr, meta)
    got = parse_strands(fr, est.strands, coder, None, est.erasures, key)
    got = with_alternatives(fr, got, (est.alternatives, est.alternative_of), coder, key)
    is_data = got.ok & ~fr.is_metadata(got.addresses)
    blocks = whiten(got.addresses[is_data], got.payload[is_data], meta["seed"], fr, coder)
    blocks = select_blocks(got.addresses[is_data], blocks, got.corrected[is_data])
    ok = sum(1 for a, b in truth.items() if a in blocks and np.array_equal(blocks[a], b))
    wrong = sum(1 for a, b in blocks.items() if a not in truth or not np.array_equal(truth[a], b))
    return 1.0 - ok / len(truth), wrong


def run(
    *,
    profiles: list[str] | None,
    strands: int,
    max_reads: int,
    seed: int,
    coverages: list[float],
    stored: bool = False,
) -> int:
    """Print part 1 (measured; skipped when ``stored``) and part 2 (the stored tables) for
    each profile (None: all)."""
    profiles = profiles or list(PROFILES)
    if not stored:
        made, fr, meta, truth = _archive(strands, seed)
        print(f"Part 1: share of {len(truth)} data strands not decoded, k reads per strand")
        print("profile        " + "".join(f"{k:>7}" for k in range(1, max_reads + 1)))
        wrong = 0
        for p in profiles:
            row = [decode_failure(p, k, made, fr, meta, truth, seed + k) for k in
                   range(1, max_reads + 1)]  # fmt: skip
            print(f"{p:<15}" + "".join(f"{f:7.4f}" for f, _ in row), flush=True)
            wrong += sum(w for _, w in row)
        print(f"addresses decoded to a wrong block (miscorrected): {wrong}\n")
    print("Part 2 (stored tables): strand loss at a mean coverage, and --read-plan's redundancy")
    print("profile        coverage  P(0 reads)  strand loss  redundancy 800 / 3700 strands")
    for p in profiles:
        for c in coverages:
            plan = read_plan.ReadPlan(p, c)
            loss = plan.design_loss()
            r = [parity_needed(k, loss) / k for k in (800, 3700)]
            print(
                f"{p:<15}{c:>8g}  {100 * plan.no_reads():9.2f} %  {100 * loss:9.2f} %"
                f"  {100 * r[0]:6.1f} % / {100 * r[1]:5.1f} %"
            )
    return 0
