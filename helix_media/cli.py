"""Command-line interface: ``helix-transcode`` and ``helix`` (probe, export, plugins).

The CLI only parses, calls the library and reports. User errors (HelixError, unreadable media)
print one line and exit 1; set HELIX_DEBUG=1 to see tracebacks.
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


def _run(fn: Callable[[], int]) -> int:
    try:
        return fn()
    except HelixError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one line for users, traceback on request
        if os.environ.get("HELIX_DEBUG"):
            raise
        import av

        kind = "error" if isinstance(exc, (av.FFmpegError, OSError)) else "internal error"
        print(f"{kind}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1 if kind == "error" else 2


# -- helix-transcode ---------------------------------------------------------------------------
def transcode_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="helix-transcode",
        description="Encode a video into DNA strands (OUT .dnapkt/.fasta/.fa), or decode strands "
        "(IN .dnapkt/.fasta/.fa/.fastq, optionally .gz) back into a video (OUT .mp4, .mkv...).",
    )
    p.add_argument("input", metavar="IN")
    p.add_argument("output", metavar="OUT")
    p.add_argument("--codec", help="video codec plugin (default: bitstream)")
    p.add_argument("--coder", help="constraint coder plugin (default: enumerative)")
    p.add_argument("--framer", help="strand framer plugin (default: helix)")
    p.add_argument("--quality", type=int, help="codec quality (bitstream: CRF, lower is better)")
    p.add_argument("--gop", type=int, help="frames per GOP (each GOP decodes on its own)")
    p.add_argument("--video-codec", help="bitstream codec backend: libx265, libx264, libsvtav1")
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
    return p


def transcode_main(argv: list[str] | None = None) -> int:
    args = transcode_parser().parse_args(argv)
    return _run(lambda: _transcode(args))


def _transcode(args: argparse.Namespace) -> int:
    from .atomic import check_target
    from .strand_files import is_strand_file

    check_target(args.output)  # fail before the work, not after it
    if is_strand_file(args.input):
        return _decode(args)
    if not is_strand_file(args.output) and not args.output.lower().endswith(".csv"):
        raise HelixError(
            f"{args.output}: to encode, OUT must end in .dnapkt, .fasta or .fa "
            "(to decode, IN must be a strand file)"
        )
    from .pipeline import encode_video

    options = {k: v for k, v in (("gop", args.gop), ("video_codec", args.video_codec)) if v}
    if args.metadata_copies < 1 or args.metadata_copies > 32:
        raise HelixError("--metadata-copies must be 1..32")
    if not 0 <= args.redundancy <= 4:
        raise HelixError("--redundancy must be between 0 and 4")
    r = encode_video(
        args.input,
        args.output,
        codec=args.codec,
        coder=args.coder,
        framer=args.framer,
        quality=args.quality,
        seed=args.seed,
        audio=not args.no_audio,
        metadata_copies=args.metadata_copies,
        redundancy=args.redundancy,
        codec_options=options,
        progress=not args.quiet,
    )
    if not args.quiet:
        v = r.metadata["video"]
        print(
            f"{args.output}: {len(r.strands)} strands ({r.data_strands} data + "
            f"{r.metadata_strands} metadata) for {v['frames']} frames {v['width']}x{v['height']}, "
            f"{r.payload_bytes} bytes of packets"
        )
    return 0


def _decode(args: argparse.Namespace) -> int:
    from .pipeline import decode_video

    r = decode_video(args.input, args.output, progress=not args.quiet)
    lost = {k: len(v) for k, v in r.lost_units.items() if v}
    if not args.quiet:
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
        print(
            f"{args.output}: {r.frames_written} frames; {r.strands_ok} of {source} ok, "
            f"{r.symbols_corrected} symbols corrected"
            + (f", {recovered} lost strands rebuilt by the outer code" if recovered else "")
        )
    if lost or r.concealed_frames:
        print(
            f"warning: lost units {lost}; concealed {len(r.concealed_frames)} frames "
            f"(first: {r.concealed_frames[:10]})",
            file=sys.stderr,
        )
    return 0


# -- helix ------------------------------------------------------------------------------------
def helix_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="helix", description="helix-media tools")
    sub = p.add_subparsers(dest="command", required=True)
    pr = sub.add_parser("probe", help="summarize a .dnapkt or FASTA file")
    pr.add_argument("file")
    pr.add_argument("--json", action="store_true", help="machine-readable output")
    pr.add_argument("--price", type=float, default=None, help="USD per strand (default 0.014)")
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
    return _run(lambda: _helix(args))


def _helix(args: argparse.Namespace) -> int:
    if args.command == "probe":
        from .probe import DEFAULT_PRICE_PER_STRAND, format_probe, probe

        result = probe(
            args.file, args.price if args.price is not None else DEFAULT_PRICE_PER_STRAND
        )
        print(json.dumps(result, indent=2) if args.json else format_probe(result))
    elif args.command == "export":
        import numpy as np

        from .strand_files import read_strands, write_strands

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
                print(f"  {name:<14} ({reg.plugin})")
            if not regs:
                print("  (none)")
    return 0


def _simulate(args: argparse.Namespace) -> None:
    import numpy as np

    from .atomic import check_target
    from .sequencing import Channel, simulate, write_reads
    from .strand_files import read_strands

    rates = {k: getattr(args, k) for k in ("dropout", "synthesis_error", "sub", "ins", "dele")}
    for name, value in rates.items():
        if not 0 <= value <= 0.5:
            raise HelixError(f"--{name.replace('_', '-').replace('dele', 'del')} must be 0..0.5")
    if args.coverage <= 0 or args.skew <= 0 or not 0 <= args.contaminants < 1:
        raise HelixError("--coverage and --skew must be > 0, --contaminants in [0, 1)")
    check_target(args.output)
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
    reads = simulate(np.stack(seqs), channel)
    write_reads(args.output, reads)
    print(f"{args.output}: {len(reads)} reads from {len(seqs)} strands")


if __name__ == "__main__":
    sys.exit(main())
