"""Command-line interface: ``helix-transcode`` and ``helix`` (probe, export, plugins).

The CLI only parses, calls the library and reports. User errors (HelixError, unreadable media)
print one line and exit 1; set HELIX_DEBUG=1 to see tracebacks. A decode that wrote its
output but lost data exits 3 (see ``EXIT_*``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from . import benchmarks
from .errors import HelixError

SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sample.mp4"


#: Exit statuses, the same for every command: 0 complete, 1 error (nothing written), 2 usage
#: error (argparse's own), 3 done but data were lost (the output says what).
EXIT_ERROR, EXIT_DATA_LOST = 1, 3


def _run(fn: Callable[[], int]) -> int:
    try:
        return fn()
    except HelixError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `helix probe x | head`: the reader left; nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - one line for users, traceback on request
        if os.environ.get("HELIX_DEBUG"):
            raise
        import av

        kind = "error" if isinstance(exc, (av.FFmpegError, OSError)) else "internal error"
        print(f"{kind}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_ERROR


# -- helix-transcode ---------------------------------------------------------------------------
_READS2_HELP = (
    "decode paired-end reads: {} is the R1 FASTQ, R2 the file of their mates (merged first)"
)


def _check_reads2(path: str, reads2: str | None, name: str) -> None:
    """``--reads2`` (as in helix-transcode) needs ``path``, argument ``name``, to be a FASTQ."""
    from .strand_files import is_fastq_file

    if reads2 is not None and not is_fastq_file(path):
        raise HelixError(
            f"--reads2 is for decoding paired-end reads: {name} must be their R1 FASTQ "
            f"(.fastq/.fq, optionally .gz), not {path}"
        )


def _pairs_line(pairs: dict[str, int]) -> str:
    return (
        f"pairs: {pairs['pairs']} read pairs, {pairs['merged']} merged, "
        f"{pairs['unmerged']} unmerged (R1 and R2 kept as single reads)"
    )


def _cluster_options(p: argparse.ArgumentParser) -> None:
    """--scheduler / --workers: run the job on Dask (see :mod:`.distributed`)."""
    g = p.add_argument_group("distributed (needs the [distributed] extra)")
    g.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on an existing Dask cluster, e.g. tcp://10.0.0.5:8786 (dask scheduler + "
        "dask worker, dask-jobqueue, Kubernetes)",
    )
    g.add_argument(
        "--workers", type=int, metavar="N", help="run on a local Dask cluster of N processes"
    )


def _on_cluster(args: argparse.Namespace, job: Callable[[argparse.Namespace], int]) -> int:
    """``job(args)`` inside the Dask cluster the options ask for, if any."""
    from .distributed import cluster

    scheduler, workers = getattr(args, "scheduler", None), getattr(args, "workers", None)
    if scheduler is not None and workers is not None:
        raise HelixError("give --scheduler (an existing cluster) or --workers N, not both")
    with cluster(scheduler, workers, quiet=getattr(args, "quiet", False)):
        return job(args)


def transcode_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="helix-transcode",
        description="Encode a video into DNA strands (OUT .dnapkt/.fasta/.fa), or decode strands "
        "(IN .dnapkt/.fasta/.fa/.fastq, optionally .gz) back into a video (OUT .mp4, .mkv...). "
        "A file without a video suffix (or --codec raw) is stored losslessly; decoding it "
        "writes the stored bytes whatever OUT's suffix.",
    )
    p.add_argument("input", metavar="IN")
    p.add_argument("output", metavar="OUT")
    p.add_argument(
        "--codec", help="codec plugin (default: bitstream, x265, for videos; raw for other files)"
    )
    p.add_argument("--coder", help="constraint coder plugin (default: enumerative)")
    p.add_argument(
        "--framer",
        help="strand framer plugin (default: helix); decoding finds it from the strands' "
        "metadata, so give it only to override",
    )
    p.add_argument(
        "--quality", type=int, help="bitstream: CRF, lower is better; raw: zlib level 0-9 (0)"
    )
    p.add_argument(
        "--reads2",
        metavar="R2",
        help="decode paired-end reads (e.g. Illumina 2x150): IN is the R1 FASTQ, R2 the file "
        "of their mates; overlapping mates are merged into whole strands first",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the whitening keystream")
    p.add_argument("--no-audio", action="store_true", help="drop the audio track")
    p.add_argument("--metadata-copies", type=int, default=3, help="copies of metadata strands")
    p.add_argument(
        "--redundancy",
        type=float,
        default=0.0,
        help="outer erasure code: parity strands per data strand (e.g. 0.1 = 10%% more strands, "
        "up to 10%% lost strands decode bit-exactly); default 0",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or summary")
    _cluster_options(p)
    from .plugins import add_codec_options

    group = p.add_argument_group("codec options (added by the codec plugins)")
    p.set_defaults(codec_option_roles=add_codec_options(group))
    return p


def _codec_options(args: argparse.Namespace, side: str) -> dict[str, object]:
    """The codec options given on the command line for the encoder or the decoder."""
    roles = args.codec_option_roles
    return {
        dest: getattr(args, dest)
        for dest, role in roles.items()
        if role in (side, "both") and getattr(args, dest, None) is not None
    }


def transcode_main(argv: list[str] | None = None) -> int:
    args = transcode_parser().parse_args(argv)
    return _run(lambda: _on_cluster(args, _transcode))


def _transcode(args: argparse.Namespace) -> int:
    from .atomic import check_not_input, check_target
    from .strand_files import is_strand_file

    check_target(args.output)  # fail before the work, not after it
    check_not_input(args.output, args.input, args.reads2)
    _check_reads2(args.input, args.reads2, "IN")
    if is_strand_file(args.input):
        return _decode(args)
    if not is_strand_file(args.output) and not args.output.lower().endswith(".csv"):
        raise HelixError(
            f"{args.output}: to encode, OUT must end in .dnapkt, .fasta or .fa "
            "(to decode, IN must be a strand file)"
        )
    from .pipeline import (
        check_layout_options,
        encode_file,
        encode_video,
        is_file_codec,
        is_video_path,
    )

    options = _codec_options(args, "encode")
    check_layout_options(args.redundancy, args.metadata_copies)
    # the options both encoders take, passed on as given
    names = ("codec", "coder", "framer", "quality", "seed", "metadata_copies", "redundancy")
    shared = {k: getattr(args, k) for k in names}
    if is_file_codec(args.codec) or (args.codec is None and not is_video_path(args.input)):
        r = encode_file(args.input, args.output, **shared)
        f = r.metadata["file"]
        what = f"{f['name']} ({f['size']} bytes, {r.metadata['codec']} codec)"
    else:
        r = encode_video(
            args.input,
            args.output,
            **shared,
            audio=not args.no_audio,
            codec_options=options,
            progress=not args.quiet,
        )
        v = r.metadata["video"]
        what = (
            f"{v['frames']} frames {v['width']}x{v['height']}, {r.payload_bytes} bytes of packets"
        )
    if not args.quiet:
        print(
            f"{args.output}: {len(r.strands)} strands ({r.data_strands} data + "
            f"{r.metadata_strands} metadata) for {what}"
        )
    _warn_violations(r)
    for what in r.not_kept:
        print(f"warning: {args.input}: {what}", file=sys.stderr)
    return 0


def _warn_violations(r) -> None:
    """Say so when a coder that does not guarantee the synthesis constraints broke them."""
    if r.violations:
        print(
            f"warning: the {r.metadata['coder']} coder does not guarantee the synthesis "
            f"constraints: {r.violations} of {len(r.strands)} strands are outside them "
            "(GC window, homopolymer runs or forbidden motifs); check with helix probe",
            file=sys.stderr,
        )


def _decode(args: argparse.Namespace) -> int:
    from .pipeline import decode_any

    r = decode_any(
        args.input,
        args.output,
        progress=not args.quiet,
        framer=args.framer,
        reads2=args.reads2,
        decoder_options=_codec_options(args, "decode"),
    )
    if not args.quiet:
        if r.stats.get("pairs"):
            print(_pairs_line(r.stats["pairs"]))
        reads = r.stats.get("reads")
        if reads:
            print(
                f"reads: {reads['reads']} read, {reads['clustered']} in {reads['clusters']} "
                f"clusters ({reads['clusters_aligned']} aligned); not used: "
                f"{reads['no_primers']} without primers, {reads['too_short']} too short, "
                f"{reads['no_address']} without address; {reads['outliers']} outliers"
            )
            source = f"{reads['estimates']} strand estimates"
        else:
            source = f"{r.strands_read} strands"
        recovered = r.stats.get("strands_recovered")
        f = r.metadata.get("file")
        what = f"{r.frames_written} frames"
        if f:
            what = f"{f['size']} bytes of {f['name']} (SHA-256 ok)"
        print(
            f"{args.output}: {what}; {r.strands_ok} of {source} ok, "
            f"{r.symbols_corrected} symbols corrected; data strands: "
            f"{r.stats.get('data_strands_found', 0)} of {r.stats.get('data_strands', 0)} found"
            + (f", {recovered} lost strands rebuilt by the outer code" if recovered else "")
        )
    if r.stats.get("damaged_packets") is not None:
        print(
            f"note: {args.input} is damaged; {r.stats['damaged_packets']} bad packets were "
            "left out and count as lost strands",
            file=sys.stderr,
        )
    foreign = r.stats.get("foreign_strands", 0)
    if foreign:
        print(
            f"note: {foreign} strands of {len(r.stats['archives']) - 1} other archive(s) "
            "with the same primers were ignored",
            file=sys.stderr,
        )
    if not r.complete:
        print(f"warning: {r.loss_report()}", file=sys.stderr)
        return EXIT_DATA_LOST
    return 0


# -- helix ------------------------------------------------------------------------------------
def helix_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="helix", description="helix-media tools")
    sub = p.add_subparsers(dest="command", required=True)
    pr = sub.add_parser("probe", help="summarize a .dnapkt or FASTA file")
    pr.add_argument("file", metavar="FILE")
    pr.add_argument("--reads2", metavar="R2", help=_READS2_HELP.format("FILE"))
    pr.add_argument("--json", action="store_true", help="machine-readable output")
    pr.add_argument("--price", type=float, default=None, help="USD per strand (default 0.014)")
    pr.add_argument("--item", help="a pool's item: strands (and $) to read it or a range of it")
    pr.add_argument("--start", type=float, help="seconds: the range's start (video items)")
    pr.add_argument("--duration", type=float, help="seconds: the range's length")
    _cluster_options(pr)
    _pool_parser(sub)
    ve = sub.add_parser(
        "verify", help="decode an archive to its packets and report its health (writes nothing)"
    )
    ve.add_argument("file", metavar="FILE", help=".dnapkt, or FASTA/FASTQ strands or reads")
    ve.add_argument("--reads2", metavar="R2", help=_READS2_HELP.format("FILE"))
    ve.add_argument("--framer", help="the framer of FASTA/FASTQ strands (default: detected)")
    ve.add_argument("--json", action="store_true", help="machine-readable output")
    _cluster_options(ve)
    ex = sub.add_parser("export", help="export strands as FASTA or a vendor CSV order sheet")
    ex.add_argument("file")
    ex.add_argument("output", help="OUT.fasta, OUT.fa or OUT.csv")
    sub.add_parser("plugins", help="list registered plugins")
    si = sub.add_parser("simulate", help="synthesis + sequencing simulator: strands -> FASTQ reads")
    si.add_argument("input", metavar="IN", help="strands: .dnapkt or FASTA")
    si.add_argument("output", metavar="OUT", help="reads: .fastq/.fq (or .fasta), optionally .gz")
    si.add_argument("--coverage", type=float, default=30.0, help="mean reads per strand (30)")
    si.add_argument("--dropout", type=float, default=0.0, help="share of strands lost (0)")
    si.add_argument("--synthesis-error", type=float, default=1 / 7500, help="per base (1/7500)")
    si.add_argument("--sub", type=float, default=0.00109, help="sequencing substitutions/base")
    si.add_argument("--ins", type=float, default=0.0, help="sequencing insertions per base")
    si.add_argument("--del", dest="dele", type=float, default=0.0, help="deletions per base")
    si.add_argument("--skew", type=float, default=8.0, help="coverage dispersion (NB size)")
    si.add_argument("--contaminants", type=float, default=0.0, help="share of junk reads")
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
    from . import codesets, primers

    codesets.add_arguments(build)
    pr_parser = sub.add_parser("primers", help="propose primer pairs checked with primer3")
    primers.add_arguments(pr_parser)
    be = sub.add_parser("bench", help="run a benchmark and print its table", add_help=False)
    be.add_argument("name", nargs="?", help="one of: " + ", ".join(benchmarks.available()))
    be.add_argument("options", nargs=argparse.REMAINDER, help="the benchmark's own options")
    de = sub.add_parser("demo", help="encode, export, damage, decode a clip; print a report")
    de.add_argument("video", nargs="?", default=str(SAMPLE), help="default: the bundled sample")
    de.add_argument("--out", default="out", help="output folder (default: ./out)")
    de.add_argument("--dropout", type=float, default=0.01, help="share of strands lost (0.01)")
    de.add_argument("--coverage", type=float, default=30.0, help="reads per strand (30)")
    de.add_argument("--redundancy", type=float, default=0.1, help="outer code (0.1)")
    de.add_argument("--seed", type=int, default=0)
    de.add_argument("--codec")
    de.add_argument("--coder")
    de.add_argument("--quality", type=int)
    de.add_argument("--json", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = helix_parser().parse_args(argv)
    return _run(lambda: _on_cluster(args, _helix))


def _helix(args: argparse.Namespace) -> int:
    if args.command == "probe":
        from .probe import DEFAULT_PRICE_PER_STRAND, format_probe, probe

        _check_reads2(args.file, args.reads2, "FILE")
        price = args.price if args.price is not None else DEFAULT_PRICE_PER_STRAND
        if args.item is not None or args.start is not None or args.duration is not None:
            from .pool import format_range_cost, range_cost

            if args.item is None:
                raise HelixError("--start/--duration need --item NAME (the pool's item)")
            cost = range_cost(args.file, args.item, args.start, args.duration, price, args.reads2)
            print(json.dumps(cost, indent=2) if args.json else format_range_cost(cost))
            return 0
        result = probe(args.file, price, args.reads2)
        print(json.dumps(result, indent=2) if args.json else format_probe(result))
    elif args.command == "pool":
        return _pool(args)
    elif args.command == "verify":
        from .verify import format_verify, verify

        _check_reads2(args.file, args.reads2, "FILE")
        r = verify(args.file, framer=args.framer, reads2=args.reads2)
        print(json.dumps(r, indent=2) if args.json else format_verify(r))
        return 0 if r["complete"] else EXIT_DATA_LOST
    elif args.command == "export":
        import numpy as np

        from .atomic import check_not_input
        from .strand_files import read_strands, write_strands

        check_not_input(args.output, args.file)
        header, seqs = read_strands(args.file)
        if not seqs:
            raise HelixError(f"{args.file}: no strands")
        if len({len(s) for s in seqs}) != 1:
            raise HelixError(f"{args.file}: strands differ in length; export takes clean strands")
        write_strands(args.output, np.stack(seqs), header)
        print(f"{args.output}: {len(seqs)} strands")
    elif args.command == "demo":
        from .demo import format_demo, run_demo

        r = run_demo(
            args.video,
            args.out,
            dropout=args.dropout,
            coverage=args.coverage,
            redundancy=args.redundancy,
            seed=args.seed,
            codec=args.codec,
            coder=args.coder,
            quality=args.quality,
        )
        print(json.dumps(r, indent=2) if args.json else format_demo(r))
    elif args.command == "codes":
        from . import codesets

        return codesets.run(args)
    elif args.command == "primers":
        from . import primers

        return primers.run(args)
    elif args.command == "simulate":
        _simulate(args)
    elif args.command == "bench":
        if args.name not in benchmarks.available():
            raise HelixError(
                f"unknown benchmark {args.name!r}; choose from: {', '.join(benchmarks.available())}"
            )
        return benchmarks.run(args.name, args.options)
    elif args.command == "plugins":
        from .plugins import KINDS, registrations

        for kind in KINDS:
            regs = registrations(kind)
            print(f"{kind}:")
            for name, reg in sorted(regs.items()):
                print(f"  {name:<14} ({reg.plugin}){_promise(kind, name)}")
            if not regs:
                print("  (none)")
    return 0


def _promise(kind: str, name: str) -> str:
    """What a coder promises about the synthesis constraints (``helix plugins``)."""
    if kind != "coders":
        return ""
    from .plugins import get_coder

    try:
        coder = get_coder(name)
    except Exception:  # noqa: BLE001 - a plugin that cannot be built says so, not crashes
        return " - cannot be built with default settings"
    if coder.guarantees_constraints:
        return " - guarantees GC 45-55 %, runs <= 3, no forbidden motif in every strand"
    return " - does NOT guarantee the constraints (encoding warns with the count)"


def _pool_parser(sub) -> None:
    po = sub.add_parser("pool", help="many videos and files in one pool; get one item or range")
    pool_sub = po.add_subparsers(dest="pool_command", required=True)
    add = pool_sub.add_parser("add", help="add files and videos to POOL.dnapkt (created if new)")
    add.add_argument("pool", metavar="POOL.dnapkt")
    add.add_argument("items", metavar="ITEM", nargs="+")
    add.add_argument("--codec", help="video codec (default bitstream; other files: raw)")
    add.add_argument("--quality", type=int, help="codec quality (see helix-transcode)")
    add.add_argument("--coder", help="constraint coder plugin (default: enumerative)")
    add.add_argument("--seed", type=int, default=0)
    add.add_argument("--metadata-copies", type=int, default=3)
    add.add_argument("--redundancy", type=float, default=0.0, help="outer code per item (0)")
    add.add_argument(
        "--own-primers", action="store_true", help="a primer pair of its own per new item"
    )
    add.add_argument("-q", "--quiet", action="store_true")
    _cluster_options(add)
    ls = pool_sub.add_parser("list", help="the pool's catalogue (read from its DNA)")
    ls.add_argument("pool", metavar="POOL", help=".dnapkt, or FASTA/FASTQ reads of the pool")
    ls.add_argument("--reads2", metavar="R2", help=_READS2_HELP.format("POOL"))
    ls.add_argument("--json", action="store_true")
    _cluster_options(ls)
    get = pool_sub.add_parser("get", help="decode one item (or a time range of a video)")
    get.add_argument("pool", metavar="POOL", help=".dnapkt, or FASTA/FASTQ reads of the pool")
    get.add_argument("item", metavar="ITEM")
    get.add_argument("output", metavar="OUT")
    get.add_argument("--reads2", metavar="R2", help=_READS2_HELP.format("POOL"))
    get.add_argument("--start", type=float, help="seconds")
    get.add_argument("--duration", type=float, help="seconds")
    _cluster_options(get)


def _pool(args: argparse.Namespace) -> int:
    from . import pool

    if args.pool_command in ("list", "get"):
        _check_reads2(args.pool, args.reads2, "POOL")
    if args.pool_command == "add":
        cat, items, added = pool.add_items(
            args.pool,
            args.items,
            codec=args.codec,
            quality=args.quality,
            coder=args.coder,
            seed=args.seed,
            metadata_copies=args.metadata_copies,
            redundancy=args.redundancy,
            own_primers=args.own_primers,
            progress=not args.quiet,
        )
        if not args.quiet:
            names = ", ".join(f"{it.name} ({it.strands} strands)" for it in items)
            print(
                f"{args.pool}: added {names}; {added} strands added (catalogue generation "
                f"{cat.generation}), {len(cat.items)} items"
            )
    elif args.pool_command == "list":
        cat = pool.read_catalogue(pool.PoolSource(args.pool, args.reads2))
        listing = cat.to_json() | {"unreadable_newer_generations": cat.unreadable_newer}
        print(json.dumps(listing, indent=2) if args.json else pool.format_list(cat, args.pool))
        if cat.unreadable_newer:
            print(
                f"warning: data lost: catalogue generation(s) {cat.unreadable_newer} are "
                f"unreadable; this is generation {cat.generation}, and items added since "
                "may be missing from it",
                file=sys.stderr,
            )
            return EXIT_DATA_LOST
    elif args.pool_command == "get":
        from .atomic import check_not_input

        check_not_input(args.output, args.pool, args.reads2)
        r = pool.get_item(args.pool, args.item, args.output, args.start, args.duration, args.reads2)
        if r.stats.get("pairs"):
            print(_pairs_line(r.stats["pairs"]))
        touched = ", ".join(f"{v} {k}" for k, v in r.touched.items())
        what = (
            f"{len(r.data)} bytes (SHA-256 ok)"
            if r.data is not None
            else f"{len(r.frames)} frames from {r.first_frame}"
        )
        print(f"{args.output}: {what}; strands decoded: {touched}")
        if r.concealed:
            print(f"warning: data lost: concealed {len(r.concealed)} frames", file=sys.stderr)
            return EXIT_DATA_LOST
    return 0


def _simulate(args: argparse.Namespace) -> None:
    import numpy as np

    from .atomic import check_not_input, check_target
    from .sequencing import Channel, mate_paths, simulate, simulate_pairs, write_reads
    from .strand_files import read_strands

    rates = {k: getattr(args, k) for k in ("dropout", "synthesis_error", "sub", "ins", "dele")}
    for name, value in rates.items():
        if not 0 <= value <= 0.5:
            raise HelixError(f"--{name.replace('_', '-').replace('dele', 'del')} must be 0..0.5")
    if args.coverage <= 0 or args.skew <= 0 or not 0 <= args.contaminants < 1:
        raise HelixError("--coverage and --skew must be > 0, --contaminants in [0, 1)")
    if args.paired_end is not None and args.paired_end < 1:
        raise HelixError("--paired-end must be a read length of at least 1 nt")
    outputs = [args.output] if args.paired_end is None else mate_paths(args.output)
    for output in outputs:
        check_target(output)
        check_not_input(output, args.input)
    _, seqs = read_strands(args.input)
    if not seqs or len({len(s) for s in seqs}) != 1:
        raise HelixError(f"{args.input}: simulate needs clean strands of one length")
    channel = Channel(
        coverage=args.coverage,
        skew=args.skew,
        contaminants=args.contaminants,
        seed=args.seed,
        **rates,
    )
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


if __name__ == "__main__":
    sys.exit(main())
