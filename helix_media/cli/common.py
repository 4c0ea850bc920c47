"""What every command shares: one-line errors and exit codes, paired-end and cluster options."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from helix_media.errors import HelixError
from helix_media.resources import sample_clip

SAMPLE = sample_clip()


#: Exit statuses, the same for every command: 0 complete, 1 error (nothing written), 2 usage
#: error (argparse's own), 3 done but data were lost (the output says what).
EXIT_ERROR, EXIT_DATA_LOST = 1, 3


def run_guarded(fn: Callable[[], int]) -> int:
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
READS2_HELP = (
    "decode paired-end reads: {} is the R1 FASTQ, R2 the file of their mates (merged first)"
)


def check_reads2(path: str, reads2: str | None, name: str) -> None:
    """``--reads2`` (as in helix-transcode) needs ``path``, argument ``name``, to be a FASTQ."""
    from helix_media.strandio.strand_files import is_fastq_file

    if reads2 is not None and not is_fastq_file(path):
        raise HelixError(
            f"--reads2 is for decoding paired-end reads: {name} must be their R1 FASTQ "
            f"(.fastq/.fq, optionally .gz), not {path}"
        )


def pairs_line(pairs: dict[str, int]) -> str:
    return (
        f"pairs: {pairs['pairs']} read pairs, {pairs['merged']} merged, "
        f"{pairs['unmerged']} unmerged (R1 and R2 kept as single reads)"
    )


def archive_id(text: str) -> int:
    """``--archive ID``: an archive identity as helix probe and helix verify print it."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 1 <= value < 1 << 32:
        raise argparse.ArgumentTypeError(
            f"{text!r}: an archive ID is a number 1-{(1 << 32) - 1}, as helix probe prints it"
        )
    return value


def add_archive_option(p: argparse.ArgumentParser, what: str = "archive") -> None:
    """--archive ID: which archive to read where the strands hold several."""
    p.add_argument(
        "--archive",
        type=archive_id,
        metavar="ID",
        help=f"where the strands or reads hold several {what}s (same primers): read {what} ID "
        "(helix probe lists them; default: the one with the most data strands, with a note)",
    )


def print_archive_notes(stats: dict, path: str) -> str | None:
    """The ``note:`` lines about other archives found (stderr); the data-lost reason, if any
    (see :func:`.parse.archive_notes`)."""
    from helix_media.archive.parse import archive_notes

    notes, loss = archive_notes(stats, path)
    for line in notes:
        print(f"note: {line}", file=sys.stderr)
    return loss


def add_cluster_options(p: argparse.ArgumentParser) -> None:
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


def on_cluster(args: argparse.Namespace, job: Callable[[argparse.Namespace], int]) -> int:
    """``job(args)`` inside the Dask cluster the options ask for, if any."""
    from helix_media.distributed import cluster

    scheduler, workers = getattr(args, "scheduler", None), getattr(args, "workers", None)
    if scheduler is not None and workers is not None:
        raise HelixError("give --scheduler (an existing cluster) or --workers N, not both")
    with cluster(scheduler, workers, quiet=getattr(args, "quiet", False)):
        return job(args)
