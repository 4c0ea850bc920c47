"""``helix pool add | list | get``: many items in one oligo pool."""

from __future__ import annotations

import argparse
import json
import sys

from helix_media.cli.common import (
    EXIT_DATA_LOST,
    READS2_HELP,
    add_archive_option,
    add_cluster_options,
    check_reads2,
    pairs_line,
)


def add_pool_parser(sub) -> None:
    from helix_media.cli.transcode import add_read_plan_option, redundancy_value

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
    add.add_argument(
        "--redundancy",
        type=redundancy_value,
        metavar="R|auto",
        help="outer code per item (default auto, as helix-transcode: each segment survives "
        "2 %% random strand loss; 0: none)",
    )
    add_read_plan_option(add)
    add.add_argument(
        "--own-primers", action="store_true", help="a primer pair of its own per new item"
    )
    add.add_argument("-q", "--quiet", action="store_true")
    add_cluster_options(add)
    ls = pool_sub.add_parser("list", help="the pool's catalogue (read from its DNA)")
    ls.add_argument("pool", metavar="POOL", help=".dnapkt, or FASTA/FASTQ reads of the pool")
    ls.add_argument("--reads2", metavar="R2", help=READS2_HELP.format("POOL"))
    ls.add_argument("--json", action="store_true")
    add_archive_option(ls, "pool")
    add_cluster_options(ls)
    get = pool_sub.add_parser("get", help="decode one item (or a time range of a video)")
    get.add_argument("pool", metavar="POOL", help=".dnapkt, or FASTA/FASTQ reads of the pool")
    get.add_argument("item", metavar="ITEM")
    get.add_argument("output", metavar="OUT")
    get.add_argument("--reads2", metavar="R2", help=READS2_HELP.format("POOL"))
    get.add_argument("--start", type=float, help="seconds")
    get.add_argument("--duration", type=float, help="seconds")
    get.add_argument(
        "--layers", type=int, metavar="K", help="a layered codec's first K layers only"
    )
    add_archive_option(get, "pool")
    add_cluster_options(get)
    from helix_media.cli.pipes import add_pipe_options

    add_pipe_options(get, reading=False)  # OUT "-": standard output, --format


def run_pool(args: argparse.Namespace) -> int:
    from helix_media.archive.parse import chosen_archive

    with chosen_archive(getattr(args, "archive", None)):
        return _run_pool(args)


def _run_pool(args: argparse.Namespace) -> int:
    from helix_media.archive import pool

    if args.pool_command in ("list", "get"):
        check_reads2(args.pool, args.reads2, "POOL")
    if args.pool_command == "add":
        from helix_media.archive.pool.lock import other_links
        from helix_media.cli.transcode import check_seed, planned_redundancy

        check_seed(args.seed)
        links = other_links(args.pool)
        cat, items, added = pool.add_items(
            args.pool,
            args.items,
            codec=args.codec,
            quality=args.quality,
            coder=args.coder,
            seed=args.seed,
            metadata_copies=args.metadata_copies,
            redundancy=planned_redundancy(args),
            own_primers=args.own_primers,
            progress=not args.quiet,
        )
        if not args.quiet:
            names = ", ".join(f"{it.name} ({it.strands} strands)" for it in items)
            print(
                f"{args.pool}: added {names}; {added} strands added (catalogue generation "
                f"{cat.generation}), {len(cat.items)} items"
            )
        if links:
            print(
                f"note: {args.pool} had {links} other hard link(s); the pool was replaced, so "
                "they still name it as it was before this add",
                file=sys.stderr,
            )
    elif args.pool_command == "list":
        cat = pool.read_catalogue(pool.PoolSource(args.pool, args.reads2))
        listing = cat.to_json() | {
            "pool_id": cat.pool_id,
            "unreadable_newer_generations": cat.unreadable_newer,
        }
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
        from helix_media.cli.pipes import pool_get
        from helix_media.strandio.atomic import check_not_input

        check_not_input(args.output, args.pool, args.reads2)
        get, out = pool_get(args)  # OUT "-": standard output, and the summary to stderr
        r = get(
            args.pool, args.item, args.output, args.start, args.duration, args.reads2, args.layers
        )
        if r.stats.get("pairs"):
            print(pairs_line(r.stats["pairs"]), file=out)
        touched = ", ".join(f"{v} {k}" for k, v in r.touched.items())
        what = (
            f"{len(r.data)} bytes (SHA-256 ok)"
            if r.data is not None
            else f"{len(r.frames)} frames from {r.first_frame}"
        )
        print(f"{args.output}: {what}; strands decoded: {touched}", file=out)
        if not r.report.complete:  # every stream's loss, as helix-transcode reports it
            print(f"warning: {r.report.loss_report()}", file=sys.stderr)
            return EXIT_DATA_LOST
    return 0
