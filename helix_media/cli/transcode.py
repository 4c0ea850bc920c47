"""``helix-transcode IN OUT``: a video or file to strands, or strands and reads back."""

from __future__ import annotations

import argparse
import sys

from helix_media.archive.results import strand_counts
from helix_media.blocks.whitening import check_seed  # the other commands import it from here
from helix_media.cli.common import (
    EXIT_DATA_LOST,
    add_archive_option,
    add_cluster_options,
    check_reads2,
    on_cluster,
    pairs_line,
    print_archive_notes,
    run_guarded,
)
from helix_media.errors import HelixError


def transcode_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="helix-transcode",
        description="Encode a video into DNA strands (OUT .dnapkt/.fasta/.fa), or decode strands "
        "(IN .dnapkt/.fasta/.fa/.fastq, optionally .gz) back into a video (OUT .mp4, .mkv...). "
        "A file without a video suffix (or --codec raw) is stored losslessly; decoding it "
        "writes the stored bytes whatever OUT's suffix.",
    )
    from helix_media import __version__

    p.add_argument("--version", action="version", version=f"helix-media {__version__}")
    p.add_argument("input", metavar="IN")
    p.add_argument("output", metavar="OUT")
    p.add_argument(
        "--codec", help="codec plugin (default: bitstream, SVT-AV1, for videos; raw for files)"
    )
    p.add_argument("--coder", help="constraint coder plugin (default: enumerative)")
    p.add_argument(
        "--framer",
        help="strand framer plugin (default: helix); decoding finds it from the strands' "
        "metadata, so give it only to override",
    )
    p.add_argument(
        "--strand-length",
        type=int,
        metavar="N",
        help="encoding: strands of N nt, primers included (helix: 200-300, default 240; longer "
        "strands carry more bits per nt); recorded in the DNA, so decoding needs no hint",
    )
    from helix_media.plugins import quality_help

    p.add_argument(
        "--quality",
        type=int,
        # each codec says what its quality is, so this help cannot fall behind the codecs
        help="the codec's quality (its default in brackets); " + quality_help().replace("%", "%%"),
    )
    p.add_argument(
        "--layers",
        type=int,
        metavar="K",
        help="decoding a layered codec (helix --quality N stores N layers): use the first K "
        "layers only; the others' strands need not be there (a cheap preview)",
    )
    p.add_argument(
        "--reads2",
        metavar="R2",
        help="decode paired-end reads (e.g. Illumina 2x150): IN is the R1 FASTQ, R2 the file "
        "of their mates; overlapping mates are merged into whole strands first",
    )
    add_archive_option(p)  # decoding: which archive, where the strands hold several
    p.add_argument("--seed", type=int, default=0, help="seed of the whitening keystream")
    p.add_argument("--no-audio", action="store_true", help="drop the audio track")
    p.add_argument("--metadata-copies", type=int, default=3, help="copies of metadata strands")
    p.add_argument(
        "--redundancy",
        type=redundancy_value,
        default=None,
        metavar="R|auto",
        help="outer erasure code: parity strands per data strand (e.g. 0.1 = 10%% more strands, "
        "up to 10%% lost strands decode bit-exactly); default auto: each segment sized for 2%% "
        "random strand loss (about 3-5%% more strands, more for small archives); 0: none (a "
        "lost strand then loses data: a warning says how much)",
    )
    add_read_plan_option(p)
    p.add_argument(
        "--stream-redundancy",
        metavar="STREAM=R",
        action="append",
        type=stream_rate,
        default=[],
        help="an outer code of its own for one stream (repeatable; streams as helix probe "
        "lists them): e.g. video=0.1 protects a layered codec's base layer, whose loss costs "
        "every layer above it",
    )
    p.add_argument(
        "--overwrite-pool",
        action="store_true",
        help="OUT may be an existing pool, replaced whole by this archive (under the pool's "
        "lock); without it, a pool as OUT is refused (add to a pool with helix pool add)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or summary")
    add_cluster_options(p)
    from helix_media.cli.pipes import add_pipe_options

    add_pipe_options(p)  # IN or OUT "-": standard input and output
    from helix_media.plugins import add_codec_options

    group = p.add_argument_group("codec options (added by the codec plugins)")
    p.set_defaults(codec_option_roles=add_codec_options(group))
    return p


def add_read_plan_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--read-plan",
        metavar="PROFILE:COVERAGE",
        help="size the auto outer code for how the strands will be read: a sequencer profile "
        "(illumina, nanopore-r9, nanopore-r10) and the mean reads per strand, e.g. "
        "nanopore-r9:15 (the share of strands such a run loses: helix bench read-plan)",
    )


def planned_redundancy(args: argparse.Namespace):
    """``--redundancy`` as the encoders take it: with ``--read-plan``, auto sized for the
    plan's strand loss (an explicit rate and a plan contradict each other)."""
    if not getattr(args, "read_plan", None):
        return args.redundancy
    if args.redundancy is not None:
        raise HelixError("--read-plan sizes the auto outer code: give it or --redundancy R")
    from helix_media.blocks.outer_code import Auto
    from helix_media.channel.read_plan import ReadPlan

    return Auto(ReadPlan.parse(args.read_plan).design_loss())


def redundancy_value(text: str) -> float | None:
    """``--redundancy``: a number, or ``auto`` (None: the default)."""
    if text.strip().lower() == "auto":
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number or auto") from None


def stream_rate(text: str) -> tuple[str, float]:
    """``STREAM=R`` -> (stream, R)."""
    name, sep, value = text.partition("=")
    try:
        if sep and name:
            return name, float(value)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r}: expected STREAM=R, e.g. video=0.1")


def codec_options(args: argparse.Namespace, side: str) -> dict[str, object]:
    """The codec options given on the command line for the encoder or the decoder."""
    roles = args.codec_option_roles
    return {
        dest: getattr(args, dest)
        for dest, role in roles.items()
        if role in (side, "both") and getattr(args, dest, None) is not None
    }


def transcode_main(argv: list[str] | None = None) -> int:
    from helix_media.cli.pipes import with_stdio

    def run() -> int:  # (parsed inside the guard: help piped into `head` is no traceback)
        args = transcode_parser().parse_args(argv)
        return with_stdio(args, lambda: on_cluster(args, _transcode))

    return run_guarded(run)


def _transcode(args: argparse.Namespace) -> int:
    from helix_media.archive.pool.lock import is_pool, pool_lock
    from helix_media.strandio.atomic import check_not_input, check_target

    check_seed(args.seed)
    check_target(args.output)  # fail before the work, not after it
    check_not_input(args.output, args.input, args.reads2)
    check_reads2(args.input, args.reads2, "IN")
    if not is_pool(args.output):
        return _transcode_to(args)
    if not args.overwrite_pool:
        raise HelixError(
            f"{args.output}: is a pool; writing it would replace all its items (to add to "
            "it: helix pool add; to replace it: --overwrite-pool)"
        )
    with pool_lock(args.output):  # no pool add may be half-way through it
        return _transcode_to(args)


def _transcode_to(args: argparse.Namespace) -> int:
    from helix_media.strandio.strand_files import is_strand_file

    if is_strand_file(args.input):
        return _decode(args)
    if args.layers is not None:
        raise HelixError("--layers selects layers when decoding; to encode fewer, use --quality")
    if not is_strand_file(args.output) and not args.output.lower().endswith(".csv"):
        raise HelixError(
            f"{args.output}: to encode, OUT must end in .dnapkt, .fasta or .fa "
            "(to decode, IN must be a strand file)"
        )
    from helix_media.archive.encode import encode_any, encodes_as_file
    from helix_media.archive.strands import check_layout_options
    from helix_media.cli.pipes import STDIO, stdin_video

    by_stream = dict(args.stream_redundancy)
    check_layout_options(args.redundancy, args.metadata_copies, by_stream)
    video_on_stdin = args.input == STDIO and not encodes_as_file(STDIO, args.codec)
    r = encode_any(
        stdin_video(args) if video_on_stdin else args.input,
        args.output,
        codec=args.codec,
        coder=args.coder,
        framer=args.framer,
        quality=args.quality,
        seed=args.seed,
        metadata_copies=args.metadata_copies,
        redundancy=planned_redundancy(args),
        strand_length=args.strand_length,
        audio=not args.no_audio,
        stream_redundancy=by_stream,
        codec_options=codec_options(args, "encode"),
        progress=not args.quiet,
    )
    if "file" in r.metadata:
        f = r.metadata["file"]
        what = f"{f['name']} ({f['size']} bytes, {r.metadata['codec']} codec)"
    else:
        v = r.metadata["video"]
        what = (
            f"{v['frames']} frames {v['width']}x{v['height']}, {r.payload_bytes} bytes of packets"
        )
        from helix_media import plugins

        # the codec's settings, e.g. what a bitstream --target-psnr reached
        settings = plugins.get_codec(r.metadata["codec"]).describe(r.metadata["codec_params"])
        what += f" ({settings})" if settings else ""
    if not args.quiet:
        print(
            f"{args.output}: {len(r.strands)} strands ({r.data_strands} data + "
            f"{r.metadata_strands} metadata) for {what}"
        )
    warn_violations(r)
    from helix_media.archive.verify import unprotected_warning

    if unprotected := unprotected_warning(r.metadata):
        print(f"warning: {unprotected}", file=sys.stderr)
    for what in r.not_kept:
        print(f"warning: {args.input}: {what}", file=sys.stderr)
    return 0


def warn_violations(r) -> None:
    """Say so when a coder that does not guarantee the synthesis constraints broke them."""
    if r.violations:
        print(
            f"warning: the {r.metadata['coder']} coder does not guarantee the synthesis "
            f"constraints: {r.violations} of {len(r.strands)} strands are outside them "
            "(GC window, homopolymer runs or forbidden motifs); check with helix probe",
            file=sys.stderr,
        )


def _decode(args: argparse.Namespace) -> int:
    from helix_media.archive.decode import decode_any
    from helix_media.archive.parse import chosen_archive
    from helix_media.cli.pipes import STDIO, stdout_decoder

    if args.strand_length is not None:
        raise HelixError("--strand-length is for encoding; decoding reads it from the strands")

    with chosen_archive(args.archive):
        r = (stdout_decoder(args) if args.output == STDIO else decode_any)(
            args.input,
            args.output,
            progress=not args.quiet,
            framer=args.framer,
            reads2=args.reads2,
            decoder_options=codec_options(args, "decode"),
            layers=args.layers,
        )
    if not args.quiet:
        if r.stats.get("pairs"):
            print(pairs_line(r.stats["pairs"]))
        reads = r.stats.get("reads")
        if reads:
            print(
                f"reads: {reads['reads']} read, {reads['clustered']} in {reads['clusters']} "
                f"clusters ({reads['clusters_aligned']} aligned); not used: "
                f"{reads['no_primers']} without primers, {reads['too_short']} too short, "
                + (f"{reads['too_long']} too long, " if reads.get("too_long") else "")
                + f"{reads['no_address']} without address; {reads['outliers']} outliers"
            )
            source = f"{reads['estimates']} strand estimates"
        else:
            source = f"{r.strands_read} strands"
        f = r.metadata.get("file")
        what = f"{r.frames_written} frames"
        if f:
            what = f"{f['size']} bytes of {f['name']} (SHA-256 ok)"
        print(
            f"{args.output}: {what}; {r.strands_ok} of {source} ok, "
            f"{r.symbols_corrected} symbols corrected; {strand_counts(r.stats)}"
            + (
                f"; {r.stats['strands_wrong']} strands read wrong, found by the parity checks"
                if r.stats.get("strands_wrong")
                else ""
            )
        )
    if r.stats.get("damaged_header"):
        print(
            f"note: {args.input}: {r.stats['damaged_header']}; the framer and layout were "
            "found from the strands",
            file=sys.stderr,
        )
    if r.stats.get("damaged_packets") or (
        r.stats.get("damaged_packets") == 0 and not r.stats.get("damaged_header")
    ):  # (0 packets: a damaged trailer)
        print(
            f"note: {args.input} is damaged; {r.stats['damaged_packets']} bad packets were "
            "left out and count as lost strands",
            file=sys.stderr,
        )
    other_lost = print_archive_notes(r.stats, args.input)
    if not r.complete:
        print(f"warning: {r.loss_report()}", file=sys.stderr)
    if other_lost:
        print(f"warning: data lost: {other_lost}", file=sys.stderr)
    return EXIT_DATA_LOST if other_lost or not r.complete else 0
