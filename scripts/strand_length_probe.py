"""Measurements behind ``--strand-length`` and the default (auto) outer code (issue 36).

    python scripts/strand_length_probe.py parity   [--length 300] [--words 3 4 5 6] [--kb 60]
    python scripts/strand_length_probe.py archives [--lengths 200 260 300] [--kb 60]
    python scripts/strand_length_probe.py density

``parity``: random payload framed at one length with W inner parity words (the framer's
layout patched), the outer code at its default (auto) size, through the paper channel (30x,
1 % dropout: ``helix simulate``'s defaults plus ``--dropout 0.01``) and a thin one (10x, 2 %
dropout), 3 seeds each: strands lost before the outer code (no read at all / read but not
decoded), strands decoded *wrong* (miscorrections), and whether everything came back.

``archives``: whole archives the way a user makes them: a random file -> ``encode_file``
(``strand_length``, default redundancy) -> simulated FASTQ -> ``decode_file``, bit-exact or not.

``density``: bits per nt of each length's layout, with and without the default outer code.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace

import numpy as np

from helix_media import plugins
from helix_media.archive.parse import select_blocks
from helix_media.blocks.outer_code import OuterCode, auto_redundancy
from helix_media.channel.sequencing import Channel, simulate
from helix_media.readpath.reads import ReadProcessor

PAPER = Channel(coverage=30, dropout=0.01)
THIN = Channel(coverage=10, dropout=0.02)
CHANNELS = {"30x, 1 % dropout": PAPER, "10x, 2 % dropout": THIN}
#: harsher than the targets, to tell inner parity sizes apart (``--stress``)
STRESS = {
    "5x, 2 % dropout": replace(THIN, coverage=5),
    "10x, 2 %, 1 % subs": replace(THIN, sub=0.01),
    "10x, 2 %, 1 % indels": replace(THIN, ins=0.005, dele=0.005),
}


def _framer(length: int, words: int | None = None):
    from helix_media_builtins.framers import helix_framer

    if words is not None:
        helix_framer.layout = lambda n: (n - 58 - 5 * words, words)
    return plugins.get_framer("helix").at_length(length)


def parity_trial(length: int, words: int, kb: float, channel: Channel) -> dict:
    fr = _framer(length, words)
    coder = plugins.get_coder("enumerative", constraints=fr.constraints)
    bits = fr.payload_bits(coder)
    n_data = int(np.ceil(kb * 8000 / bits))
    outer = OuterCode.create(auto_redundancy(n_data, bits), bits, n_data)
    rng = np.random.default_rng(channel.seed + 7919)
    data = rng.integers(0, 2, (n_data, bits)).astype(np.uint8)
    data[:, outer.data_bits :] = 0
    blocks = np.concatenate([data, outer.parity(data)])
    key = 0x5EED0000 + channel.seed
    strands = fr.frame(np.arange(len(blocks)), blocks, coder, key=key)
    reads = simulate(strands, channel)
    read_any = np.zeros(len(blocks), dtype=bool)
    read_any[reads.source[reads.source >= 0]] = True
    est = ReadProcessor(fr).process(list(reads))
    parsed = fr.parse(est.strands, coder, None, est.erasures, key=key)
    ok = parsed.ok
    got = select_blocks(parsed.addresses[ok], parsed.payload[ok], parsed.corrected[ok])
    wrong = sum(1 for a, b in got.items() if a < len(blocks) and not (b == blocks[a]).all())
    strays = sum(1 for a in got if a >= len(blocks))
    lost_unread = int((~read_any).sum())
    lost_failed = sum(1 for i in np.flatnonzero(read_any) if int(i) not in got)
    outer.recover(got)
    exact = all(i in got and (got[i] == data[i]).all() for i in range(n_data))
    return {
        "strands": len(blocks),
        "parity": outer.parity_strands,
        "unread": lost_unread,
        "failed": lost_failed,
        "wrong": wrong + strays,
        "exact": exact,
    }


def run_parity(args) -> None:
    print(f"{args.length}-nt strands, ~{args.kb:g} kB random payload, default (auto) outer code")
    print(f"{'W':>2} {'bits':>5} {'channel':<18} {'strands':>7} {'parity':>6} "
          f"{'unread':>6} {'failed':>6} {'wrong':>5} {'bit-exact':>9}")  # fmt: skip
    for words in args.words:
        fr = _framer(args.length, words)
        bits = fr.payload_bits(plugins.get_coder("enumerative", constraints=fr.constraints))
        for label, channel in (STRESS if args.stress else CHANNELS).items():
            rows = [parity_trial(args.length, words, args.kb, replace(channel, seed=s))
                    for s in range(args.seeds)]  # fmt: skip
            cells = {k: "/".join(str(r[k]) for r in rows) for k in ("unread", "failed", "wrong")}
            exact = sum(r["exact"] for r in rows)
            print(f"{words:>2} {bits:>5} {label:<18} {rows[0]['strands']:>7} "
                  f"{rows[0]['parity']:>6} {cells['unread']:>6} {cells['failed']:>6} "
                  f"{cells['wrong']:>5} {exact:>6}/{len(rows)}", flush=True)  # fmt: skip


def run_archives(args) -> int:
    from helix_media.archive.decode import decode_file
    from helix_media.archive.encode import encode_file
    from helix_media.archive.probe import probe
    from helix_media.channel.sequencing import write_reads

    failures = 0
    print(f"{'nt':>3} {'channel':<18} {'seed':>4} {'strands':>7} {'parity':>6} "
          f"{'net b/nt':>8} {'no primers':>10} {'rebuilt':>7} {'result':<10} {'s':>5}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for length in args.lengths:
            src = os.path.join(tmp, f"random-{length}.bin")
            with open(src, "wb") as f:
                f.write(np.random.default_rng(length).bytes(int(args.kb * 1000)))
            dna = os.path.join(tmp, f"a{length}.dnapkt")
            r = encode_file(src, dna, strand_length=length)
            p = probe(dna)
            body = length - 40
            no_primers = p["net_bits_per_nt"] * length / body
            for label, channel in CHANNELS.items():
                for seed in range(args.seeds):
                    t = time.perf_counter()
                    reads = simulate(r.strands, replace(channel, seed=seed))
                    fq = os.path.join(tmp, "reads.fastq.gz")
                    write_reads(fq, reads)
                    out = os.path.join(tmp, "back.bin")
                    try:
                        d = decode_file(fq, out)
                        with open(out, "rb") as a, open(src, "rb") as b:
                            same = a.read() == b.read()
                        result = "bit-exact" if same else "WRONG"
                        rebuilt = d.stats.get("strands_recovered", 0)
                    except Exception as exc:  # noqa: BLE001 - a measurement: report, go on
                        result, rebuilt = f"FAILED ({exc})"[:60], "-"
                    failures += result != "bit-exact"
                    print(f"{length:>3} {label:<18} {seed:>4} {len(r.strands):>7} "
                          f"{p.get('parity_strands', 0):>6} {p['net_bits_per_nt']:>8.3f} "
                          f"{no_primers:>10.3f} {rebuilt!s:>7} {result:<10} "
                          f"{time.perf_counter() - t:>5.1f}", flush=True)  # fmt: skip
    return 1 if failures else 0


def run_density(args) -> None:
    print(f"{'nt':>3} {'payload nt':>10} {'W':>2} {'bits':>5} {'outer bits':>10} "
          f"{'b/nt no primers':>15} {'+ auto outer, 100 kB':>20} {'+ 30 kB':>8} "
          f"{'whole strand, 100 kB':>20}")  # fmt: skip
    for length in args.lengths:
        fr = _framer(length)
        bits = fr.payload_bits(plugins.get_coder("enumerative", constraints=fr.constraints))
        data_bits = OuterCode.create(0.1, bits, 1).data_bits
        body = length - 40
        cells = []
        for kb in (100, 30):
            n = int(np.ceil(kb * 8000 / data_bits))
            r = OuterCode.create(auto_redundancy(n, bits), bits, n).parity_strands / n
            cells.append(data_bits / body / (1 + r))
        whole = cells[0] * body / length
        print(f"{length:>3} {fr.payload_nt:>10} {fr.n_parity:>2} {bits:>5} {data_bits:>10} "
              f"{bits / body:>15.3f} {cells[0]:>20.3f} {cells[1]:>8.3f} "
              f"{whole:>20.3f}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=("parity", "archives", "density"))
    ap.add_argument("--length", type=int, default=300)
    ap.add_argument("--lengths", type=int, nargs="+", default=[240, 260, 280, 300])
    ap.add_argument("--words", type=int, nargs="+", default=[3, 4, 5, 6])
    ap.add_argument("--kb", type=float, default=60.0)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--stress", action="store_true", help="parity: harsher channels")
    args = ap.parse_args(argv)
    if args.mode == "parity":
        run_parity(args)
    elif args.mode == "archives":
        return run_archives(args)
    else:
        run_density(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
