"""Decode success over the synthesis-and-sequencing channel, with and without outer redundancy.

    helix bench channel [--strands N] [--seeds S] [--quick]
    helix bench channel --paper --megabytes 1 --seeds 20     # the issue's acceptance run
    helix bench channel --profile nanopore-r9 [--coverages 10,20,30,50] [--no-video]

Each trial: random payload -> helix framer strands (+ outer-code parity) -> ``helix simulate``'s
channel -> reads -> read path (trim, cluster, consensus) -> RS -> outer code -> compare.
"Strands" is the share of data strands recovered bit-exactly; a trial "decodes" when all are.
``--profile P`` sweeps coverage with a channel profile's reads (``helix simulate --profile``),
then decodes the sample video (seed 0) from the same kind of reads; both with the default
outer code and with the one ``--read-plan PROFILE:COVERAGE`` sizes for each coverage.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from helix_media import plugins
from helix_media.archive.estimates import select_blocks, with_alternatives
from helix_media.blocks.outer_code import OuterCode, auto_redundancy
from helix_media.channel.profiles import profile_channel
from helix_media.channel.read_plan import ReadPlan
from helix_media.channel.sequencing import Channel, simulate
from helix_media.readpath.reads import ReadProcessor

PAPER = Channel(coverage=30, dropout=0.01, synthesis_error=1 / 7500, sub=0.00109)
CLEAN = replace(PAPER, dropout=0.0)  # the sweeps change one thing at a time from here


@dataclass
class Trial:
    strands_ok: float  # share of data strands bit-exact after everything
    decoded: bool
    reads: int
    read_path_s: float  # seconds from reads to strand estimates
    report: dict


def trial(n_data: int, channel: Channel, redundancy: float = 0.0) -> Trial:
    """One encode -> channel -> decode round on ``n_data`` strands of random payload."""
    fr = plugins.get_framer("helix")
    coder = plugins.get_coder("enumerative", constraints=fr.constraints)
    bits = fr.payload_bits(coder)
    rng = np.random.default_rng(channel.seed + 7919)
    data = rng.integers(0, 2, (n_data, bits)).astype(np.uint8)
    blocks, outer = data, None
    if redundancy:
        outer = OuterCode.create(redundancy, bits, n_data)
        data[:, outer.data_bits :] = 0
        blocks = np.concatenate([data, outer.parity(data)])
    strands = fr.frame(np.arange(len(blocks)), blocks, coder)
    reads = simulate(strands, channel)
    t = time.perf_counter()
    estimates = ReadProcessor(fr).process(list(reads))
    elapsed = time.perf_counter() - t
    parsed = fr.parse(estimates.strands, coder, None, estimates.erasures)
    alts = (estimates.alternatives, estimates.alternative_of)
    parsed = with_alternatives(fr, parsed, alts, coder, {})
    ok = parsed.ok
    got = select_blocks(parsed.addresses[ok], parsed.payload[ok], parsed.corrected[ok])
    if outer is not None:
        outer.recover(got)
    exact = sum(1 for i in range(n_data) if i in got and (got[i] == data[i]).all())
    return Trial(exact / n_data, exact == n_data, len(reads), elapsed, estimates.report.to_json())


def _row(label: str, n: int, channel: Channel, redundancies, seeds: int) -> str:
    cells = []
    for r in redundancies:
        r = r(channel.coverage) if callable(r) else r
        trials = [trial(n, replace(channel, seed=s), r) for s in range(seeds)]
        ok = np.mean([t.strands_ok for t in trials])
        dec = sum(t.decoded for t in trials)
        cells.append(f"{100 * ok:7.2f} % {dec:>2}/{seeds}")
    return f"{label:<34}" + "".join(f"{c:>20}" for c in cells)


def sweep(*, strands: int, seeds: int, quick: bool = False) -> int:
    """The table: decode success per channel (one change at a time from the paper's), without
    and with 10 % outer redundancy; then the read path's speed at the paper's channel."""
    reds = (0.0, 0.1)
    head = f"{'channel (30x unless said)':<34}" + "".join(
        f"{'redundancy ' + str(r):>20}" for r in reds
    )
    print(f"{strands} data strands per trial, {seeds} seeds; cells: strands bit-exact,")
    print("trials fully decoded. Each sweep changes one thing from: 30x, synthesis errors 1/7500,")
    print("substitutions 0.109 %, no indels, no dropout.")
    print(head)
    rows: list[tuple[str, Channel]] = [("paper: 30x, 1 % dropout", PAPER)]
    dropouts = (0.0, 0.05, 0.15) if quick else (0.0, 0.02, 0.05, 0.08, 0.10, 0.15)
    rows += [(f"dropout {100 * d:g} %", replace(CLEAN, dropout=d)) for d in dropouts]
    subs = (0.01,) if quick else (0.001, 0.01, 0.02, 0.03)
    rows += [(f"substitutions {100 * s:g} %", replace(CLEAN, sub=s)) for s in subs]
    indels = (0.01,) if quick else (0.0, 0.005, 0.01, 0.02)
    rows += [
        (f"indels {100 * i:g} % (ins = del)", replace(CLEAN, ins=i / 2, dele=i / 2)) for i in indels
    ]
    covs = (5,) if quick else (5, 10, 20, 50)
    rows += [(f"coverage {c}x", replace(CLEAN, coverage=c)) for c in covs]
    for label, channel in rows:
        print(_row(label, strands, channel, reds, seeds), flush=True)
    t = trial(strands, PAPER)
    print(f"\nread path: {t.reads / t.read_path_s:,.0f} reads/s at the paper's channel (wall)")
    return 0


def paper(*, megabytes: float, seeds: int) -> int:
    """The paper's channel on a ``megabytes`` payload with 10 % outer redundancy, per seed."""
    n = int(np.ceil(megabytes * 8e6 / 300))
    print(f"paper channel, {megabytes:g} MB payload = {n} data strands, 10 % outer redundancy")
    print(f"{'seed':>4} {'reads':>9} {'strands ok':>11} {'decoded':>8} {'read path s':>12}")
    decoded = 0
    for s in range(seeds):
        t = trial(n, replace(PAPER, seed=s), 0.1)
        decoded += t.decoded
        print(
            f"{s:>4} {t.reads:>9,} {100 * t.strands_ok:>10.3f}% {t.decoded!s:>8} "
            f"{t.read_path_s:>12.1f}",
            flush=True,
        )
    print(f"decoded bit-exactly: {decoded}/{seeds}")
    return 0 if decoded == seeds else 1


def throughput(*, reads: int, profile: str | None = None, coverage: float | None = None) -> int:
    """Wall (and CPU) time of the whole decode path from a FASTQ.gz file to checked strands:
    the paper's channel, or a profile's reads at ``coverage``."""
    import itertools
    import os
    import tempfile

    from helix_media.channel.profiles import profile_channel
    from helix_media.channel.sequencing import write_reads
    from helix_media.readpath.threads import threads
    from helix_media.strandio.strand_files import read_strands

    channel = PAPER if profile is None else profile_channel(profile, coverage=coverage or 10.0)
    name = "paper channel" if profile is None else f"{profile} {channel.coverage:g}x"
    fr = plugins.get_framer("helix")
    coder = plugins.get_coder("enumerative", constraints=fr.constraints)
    n = int(np.ceil(reads / channel.coverage))
    bits = np.random.default_rng(0).integers(0, 2, (n, fr.payload_bits(coder))).astype(np.uint8)
    simulated = simulate(fr.frame(np.arange(n), bits, coder), channel)
    ReadProcessor(fr).process(list(itertools.islice(simulated, 3000)))  # load the kernels
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/reads.fastq.gz"
        write_reads(path, simulated)
        t0, c0 = time.perf_counter(), os.times()
        _, seqs = read_strands(path, allow_n=True)
        t1 = time.perf_counter()
        est = ReadProcessor(fr).process(seqs)
        t2, c2 = time.perf_counter(), os.times()
        parsed = fr.parse(est.strands, coder, None, est.erasures)
        t3 = time.perf_counter()
    ok = len(set(parsed.addresses[parsed.ok].tolist()))
    cpu = c2.user + c2.system - c0.user - c0.system
    print(f"{len(simulated):,} reads ({n} strands, {name}) -> {ok} strands ok")
    print(f"read FASTQ.gz {t1 - t0:6.1f} s")
    print(
        f"read path     {t2 - t1:6.1f} s  (trim, cluster, consensus) = "
        f"{len(simulated) / (t2 - t1):,.0f} reads/s; {threads()} threads"
    )
    print(f"RS + decode   {t3 - t2:6.1f} s")
    print(f"total         {t3 - t0:6.1f} s = {len(simulated) / (t3 - t0):,.0f} reads/s")
    print(f"CPU, reading and read path: {cpu:.1f} s")
    return 0


def profile_sweep(
    *, profile: str, coverages: list[float], strands: int, seeds: int, video: bool = True
) -> int:
    """A coverage sweep with a profile's reads: random payload, then the sample video."""
    from helix_media.errors import HelixError

    if not all(np.isfinite(c) and c > 0 for c in coverages) or strands < 1 or seeds < 1:
        raise HelixError("--coverages must be > 0, --strands and --seeds at least 1")
    bits = plugins.get_framer("helix").payload_bits(plugins.get_coder("enumerative"))

    def planned(c: float) -> float:  # --read-plan PROFILE:c
        return auto_redundancy(strands, bits, ReadPlan(profile, c).design_loss())

    reds = (auto_redundancy(strands, bits), planned)
    print(f"--profile {profile}: {strands} data strands of random payload per trial,")
    print(f"{seeds} seeds; cells: data strands bit-exact, trials fully decoded; outer code:")
    print(f"the default (auto, {reds[0]:g}) and --read-plan {profile}:COVERAGE's")
    print(f"{'coverage':<22}{'plan R':>12}" + "".join(
        f"{h:>20}" for h in ("default outer code", "--read-plan's")
    ))  # fmt: skip
    for c in coverages:
        channel = profile_channel(profile, coverage=c)
        row = _row(f"{c:g}x", strands, channel, reds, seeds)
        print(f"{row[:22]}{planned(c):>12g}{row[34:]}", flush=True)
    if video:
        for c in coverages:
            _profile_video(profile, c)
    return 0


def _profile_video(profile: str, c: float) -> None:
    """The sample video with the default outer code and with ``--read-plan PROFILE:c``'s,
    each decoded from one seed's reads at coverage ``c``."""
    import tempfile

    from helix_media.archive.decode import decode_video
    from helix_media.archive.encode import encode_video
    from helix_media.blocks.outer_code import Auto
    from helix_media.channel.sequencing import write_reads
    from helix_media.errors import HelixError
    from helix_media.resources import sample_clip

    plan = Auto(ReadPlan(profile, c).design_loss())
    with tempfile.TemporaryDirectory() as tmp:
        for label, redundancy in (("default outer code", None), ("--read-plan", plan)):
            enc = encode_video(str(sample_clip()), f"{tmp}/sample.dnapkt", redundancy=redundancy)
            reads = simulate(enc.strands, profile_channel(profile, coverage=c))
            write_reads(f"{tmp}/reads.fastq", reads)
            what = f"sample video, {c:g}x, {label} ({len(enc.strands)} strands): "
            try:
                res = decode_video(f"{tmp}/reads.fastq", f"{tmp}/out.mkv")
            except HelixError as exc:  # e.g. no metadata strand read back: a result too
                print(f"{what}decode failed: {exc}".replace(f"{tmp}/", ""), flush=True)
                continue
            total = max(1, res.stats.get("data_strands", 0))
            found = 100 * res.stats.get("data_strands_found", 0) / total
            after = 100 * (total - res.data_strands_missing) / total
            print(
                f"{what}data strands {found:.2f} % read, {after:.2f} % after the outer code; "
                f"{len(res.concealed_frames)} of {res.frames_written} frames concealed; "
                f"complete: {res.complete}",
                flush=True,
            )
