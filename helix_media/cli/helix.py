"""``helix``: probe, verify, demo, simulate, export, plugins, codes, primers, pool and bench."""

from __future__ import annotations

import argparse
import json
import sys

from helix_media import __version__
from helix_media.cli import bench as bench_cli
from helix_media.cli.common import (
    EXIT_DATA_LOST,
    READS2_HELP,
    add_archive_option,
    add_cluster_options,
    check_reads2,
    on_cluster,
    run_guarded,
)
from helix_media.cli.pool import add_pool_parser, run_pool
from helix_media.errors import HelixError


# -- helix ------------------------------------------------------------------------------------
def helix_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="helix", description="helix-media tools")
    p.add_argument("--version", action="version", version=f"helix-media {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    pr = sub.add_parser("probe", help="summarize a .dnapkt or FASTA file")
    pr.add_argument("file", metavar="FILE")
    pr.add_argument("--reads2", metavar="R2", help=READS2_HELP.format("FILE"))
    pr.add_argument("--json", action="store_true", help="machine-readable output")
    pr.add_argument("--price", type=float, default=None, help="USD per strand (default 0.014)")
    pr.add_argument("--item", help="a pool's item: strands (and $) to read it or a range of it")
    pr.add_argument("--start", type=float, help="seconds: the range's start (video items)")
    pr.add_argument("--duration", type=float, help="seconds: the range's length")
    add_archive_option(pr)
    add_cluster_options(pr)
    add_pool_parser(sub)
    ve = sub.add_parser(
        "verify", help="decode an archive to its packets and report its health (writes nothing)"
    )
    ve.add_argument("file", metavar="FILE", help=".dnapkt, or FASTA/FASTQ strands or reads")
    ve.add_argument("--reads2", metavar="R2", help=READS2_HELP.format("FILE"))
    ve.add_argument("--framer", help="the framer of FASTA/FASTQ strands (default: detected)")
    ve.add_argument("--json", action="store_true", help="machine-readable output")
    add_archive_option(ve)
    add_cluster_options(ve)
    ex = sub.add_parser("export", help="export strands as FASTA or a vendor CSV order sheet")
    ex.add_argument("file")
    ex.add_argument("output", help="OUT.fasta, OUT.fa or OUT.csv")
    sub.add_parser("plugins", help="list registered plugins")
    gp = sub.add_parser("gst-path", help="the folder to put on GST_PLUGIN_PATH (docs/gstreamer.md)")
    gp.add_argument(
        "--env", action="store_true", help="export lines to eval: GST_PLUGIN_PATH, HELIX_MEDIA_SITE"
    )
    si = sub.add_parser("simulate", help="synthesis + sequencing simulator: strands -> FASTQ reads")
    si.add_argument("input", metavar="IN", help="strands: .dnapkt or FASTA")
    si.add_argument("output", metavar="OUT", help="reads: .fastq/.fq (or .fasta), optionally .gz")
    si.add_argument(
        "--profile",
        choices=("illumina", "nanopore-r9", "nanopore-r10"),
        help="a sequencer's errors (docs/reading-dna.md); options given below override the "
        "profile's values; default and illumina: the values in brackets below",
    )
    si.add_argument("--coverage", type=float, help="mean reads per strand (30)")
    si.add_argument("--dropout", type=float, help="share of strands lost (0)")
    si.add_argument("--synthesis-error", type=float, help="per base (1/7500)")
    si.add_argument("--sub", type=float, help="sequencing substitutions/base (0.00109)")
    si.add_argument("--ins", type=float, help="sequencing insertions per base (0)")
    si.add_argument("--del", dest="dele", type=float, help="deletions per base (0)")
    si.add_argument("--skew", type=float, help="coverage dispersion (NB size, 8)")
    si.add_argument("--contaminants", type=float, help="share of junk reads (0)")
    si.add_argument(
        "--paired-end",
        type=int,
        metavar="L",
        help="paired-end run, e.g. 150 for 2x150: L nt from each end of a molecule, written to "
        "OUT_R1.fastq and OUT_R2.fastq (OUT=OUT.fastq, optionally .gz)",
    )
    si.add_argument("--seed", type=int, default=0)
    codes = sub.add_parser("codes", help="constrained code sets (addresses, primers)")
    codes_sub = codes.add_subparsers(dest="codes_command", required=True)
    build = codes_sub.add_parser("build", help="search a code set: length, distance, GC, runs")
    from helix_media.cli import codes as codes_cli
    from helix_media.cli import primers as primers_cli

    codes_cli.add_arguments(build)
    pr_parser = sub.add_parser("primers", help="propose primer pairs checked with primer3")
    primers_cli.add_arguments(pr_parser)
    be = sub.add_parser("bench", help="run a benchmark and print its table", add_help=False)
    be.add_argument("-h", "--help", action=_BenchList, help="list the benchmarks")
    be.add_argument("name", nargs="?", help="one of: " + ", ".join(bench_cli.available()))
    be.add_argument("options", nargs=argparse.REMAINDER, help="the benchmark's own options")
    de = sub.add_parser("demo", help="encode, export, damage, decode a clip; print a report")
    from helix_media.cli import demo as demo_cli

    demo_cli.add_arguments(de)
    return p


class _BenchList(argparse.Action):
    """``helix bench --help``: the benchmarks, one line each (``helix bench NAME --help``
    reaches the benchmark's own parser: everything after NAME is its)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs) -> None:
        super().__init__(
            option_strings, argparse.SUPPRESS, nargs=0, default=argparse.SUPPRESS, **kwargs
        )

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(bench_cli.listing())
        parser.exit(0)


def main(argv: list[str] | None = None) -> int:
    # (parsed inside the guard: help piped into `head` is a broken pipe, not a traceback)
    return run_guarded(lambda: on_cluster(helix_parser().parse_args(argv), _helix))


def _helix(args: argparse.Namespace) -> int:
    if args.command == "probe":
        from helix_media.archive.probe import DEFAULT_PRICE_PER_STRAND, format_probe, probe

        check_reads2(args.file, args.reads2, "FILE")
        price = args.price if args.price is not None else DEFAULT_PRICE_PER_STRAND
        if args.item is not None or args.start is not None or args.duration is not None:
            from helix_media.archive.pool import format_range_cost, range_cost

            if args.item is None:
                raise HelixError("--start/--duration need --item NAME (the pool's item)")
            cost = range_cost(args.file, args.item, args.start, args.duration, price, args.reads2)
            print(json.dumps(cost, indent=2) if args.json else format_range_cost(cost))
            return 0
        result = probe(args.file, price, args.reads2, args.archive)
        print(json.dumps(result, indent=2) if args.json else format_probe(result))
        for note in result.get("notes", []):
            print(f"note: {note}", file=sys.stderr)
    elif args.command == "pool":
        return run_pool(args)
    elif args.command == "verify":
        from helix_media.archive.verify import format_verify, verify

        check_reads2(args.file, args.reads2, "FILE")
        r = verify(args.file, framer=args.framer, reads2=args.reads2, archive=args.archive)
        print(json.dumps(r, indent=2) if args.json else format_verify(r))
        return 0 if r["complete"] else EXIT_DATA_LOST
    elif args.command == "export":
        import numpy as np

        from helix_media.strandio.atomic import check_not_input
        from helix_media.strandio.strand_files import read_strands, write_strands

        lower = args.output.lower()
        fasta = lower.removesuffix(".gz").endswith((".fasta", ".fa", ".fna"))
        if not (fasta or lower.endswith(".csv")):
            raise HelixError(
                f"{args.output}: export writes FASTA (OUT.fasta, .fa or .fna, optionally .gz) "
                "or a vendor order sheet (OUT.csv); give OUT one of those suffixes"
            )
        check_not_input(args.output, args.file)
        header, seqs = read_strands(args.file)
        if not seqs:
            raise HelixError(f"{args.file}: no strands")
        if len({len(s) for s in seqs}) != 1:
            raise HelixError(f"{args.file}: strands differ in length; export takes clean strands")
        write_strands(args.output, np.stack(seqs), header)
        print(f"{args.output}: {len(seqs)} strands of {len(seqs[0])} nt")
    elif args.command == "demo":
        from helix_media.cli import demo as demo_cli

        return demo_cli.run(args)
    elif args.command == "codes":
        from helix_media.cli import codes as codes_cli

        return codes_cli.run(args)
    elif args.command == "primers":
        from helix_media.cli import primers as primers_cli

        return primers_cli.run(args)
    elif args.command == "simulate":
        _simulate(args)
    elif args.command == "bench":
        if args.name is None:
            raise HelixError("bench needs a NAME; helix bench --help lists the benchmarks")
        if args.name not in bench_cli.available():
            raise HelixError(
                f"unknown benchmark {args.name!r}; choose from: {', '.join(bench_cli.available())}"
            )
        return bench_cli.run(args.name, args.options)
    elif args.command == "gst-path":
        from helix_media.gst import gst_path

        print(gst_path(env=args.env))
    elif args.command == "plugins":
        from helix_media.plugins import KINDS, registrations

        for kind in KINDS:
            regs = registrations(kind)
            print(f"{kind}:")
            for name, reg in sorted(regs.items()):
                print(f"  {name:<14} ({reg.plugin}){_promise(kind, name)}")
            if not regs:
                print("  (none)")
    return 0


def _promise(kind: str, name: str) -> str:
    """What a coder promises about the synthesis constraints (``helix plugins``): those of
    the default framer, which hands them to the coder."""
    if kind != "coders":
        return ""
    from helix_media.plugins import get_coder, get_framer

    try:
        constraints = get_framer().constraints
        coder = get_coder(name, constraints=constraints)
    except Exception:  # noqa: BLE001 - a plugin that cannot be built says so, not crashes
        return " - cannot be built with default settings"
    if coder.guarantees_constraints:
        return f" - guarantees {constraints.describe()} in every strand"
    return " - does NOT guarantee the constraints (encoding warns with the count)"


def _simulate(args: argparse.Namespace) -> None:
    import math

    import numpy as np

    from helix_media.channel.profiles import profile_channel
    from helix_media.channel.sequencing import mate_paths, simulate, simulate_pairs, write_reads
    from helix_media.cli.transcode import check_seed
    from helix_media.strandio.atomic import check_not_input, check_target
    from helix_media.strandio.strand_files import read_strands

    check_seed(args.seed)
    reads_suffixes = (".fastq", ".fq", ".fasta", ".fa", ".fna")
    if not args.output.lower().removesuffix(".gz").endswith(reads_suffixes):
        raise HelixError(
            f"{args.output}: simulate writes reads: OUT must end in .fastq or .fq (FASTQ), or "
            ".fasta, .fa or .fna (FASTA), optionally .gz"
        )
    rates = ("dropout", "synthesis_error", "sub", "ins", "dele")
    names = (*rates, "coverage", "skew", "contaminants")  # given ones override the profile's
    given = {k: getattr(args, k) for k in names if getattr(args, k) is not None}
    for name, value in given.items():
        flag = "--" + name.replace("_", "-").replace("dele", "del")
        if name in rates and not 0 <= value <= 0.5:
            raise HelixError(f"{flag} must be 0..0.5")
        if name in ("coverage", "skew") and not (value > 0 and math.isfinite(value)):
            raise HelixError(f"{flag} must be a finite number > 0")
        if name == "contaminants" and not 0 <= value < 1:
            raise HelixError("--contaminants must be in [0, 1)")
    if args.paired_end is not None and args.paired_end < 1:
        raise HelixError("--paired-end must be a read length of at least 1 nt")
    channel = profile_channel(args.profile, seed=args.seed, **given)
    if args.paired_end is not None and channel.shape is not None:
        raise HelixError(f"--paired-end is an Illumina run; --profile {args.profile} is not")
    outputs = [args.output] if args.paired_end is None else mate_paths(args.output)
    for output in outputs:
        check_target(output)
        check_not_input(output, args.input)
    _, seqs = read_strands(args.input)
    if not seqs or len({len(s) for s in seqs}) != 1:
        raise HelixError(f"{args.input}: simulate needs clean strands of one length")
    if args.paired_end is None:
        reads = simulate(np.stack(seqs), channel)
        write_reads(args.output, reads)
        print(f"{args.output}: {len(reads)} reads from {len(seqs)} strands")
        return
    r1, r2 = simulate_pairs(np.stack(seqs), channel, args.paired_end)
    write_reads(outputs[0], r1, "/1")
    write_reads(outputs[1], r2, "/2")
    print(
        f"{outputs[0]}, {outputs[1]}: {len(r1)} read pairs "
        f"(2x{args.paired_end}) from {len(seqs)} strands"
    )
