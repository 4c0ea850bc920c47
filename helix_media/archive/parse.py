"""Strands or reads -> (framer, metadata, data blocks, statistics): the read path, the framer
(RS, constraint coder), metadata recovery, one block per address."""

from __future__ import annotations

import contextlib
import contextvars
from collections import Counter
from typing import Any

import numpy as np

from helix_media import distributed, plugins
from helix_media.archive.estimates import select_blocks, with_alternatives
from helix_media.archive.keys import framer_key
from helix_media.blocks import layout
from helix_media.blocks.metadata_schema import ARCHIVE_ID, POOL_FORMAT, check_metadata
from helix_media.blocks.outer_code import OuterCode
from helix_media.blocks.whitening import whiten
from helix_media.distributed import parse_strands
from helix_media.errors import HelixError
from helix_media.readpath import read_stream
from helix_media.readpath.paired import check_reads_span_strands, merge_files
from helix_media.readpath.read_stream import ReadParts
from helix_media.strandio.strand_files import is_sequence_file, read_strands


def recover_lost(meta: dict[str, Any], blocks: dict[int, np.ndarray], stats: dict[str, int]):
    """Fill lost data strands from the outer code's parity strands, if the archive has one,
    after replacing the blocks its spare parity strands show to be wrong."""
    if "outer_code" not in meta:
        return
    outer = OuterCode.from_json(meta["outer_code"])
    # strands from reads (consensus, alternatives), or that RS had to correct, may hold a
    # miscorrection: checked
    check = bool(stats.get("from_reads") or stats.get("symbols_corrected"))
    r = outer.recover(blocks, check)
    stats.update(
        strands_recovered=r.recovered, strands_unrecoverable=r.missing, strands_wrong=r.wrong
    )


#: The archive a command was told to decode (``--archive ID``), for callers that do not pass
#: ``archive=`` themselves (see :func:`chosen_archive`).
_CHOSEN: contextvars.ContextVar[int | None] = contextvars.ContextVar("archive", default=None)


@contextlib.contextmanager
def chosen_archive(archive: int | None):
    """Inside this block, :func:`read_dna` and :func:`parse_dna` decode archive ``archive``
    (None: the usual choice) unless told another."""
    token = _CHOSEN.set(archive)
    try:
        yield
    finally:
        _CHOSEN.reset(token)


def current_archive() -> int | None:
    """The archive (or pool) ID the command was told to read (:func:`chosen_archive`)."""
    return _CHOSEN.get()


def read_dna(
    path: str, framer: str | None = None, reads2: str | None = None, archive: int | None = None
) -> tuple[Any, dict[str, Any], dict[int, np.ndarray], dict[str, Any]]:
    """Strand file -> (framer, metadata, data blocks by strand index, statistics).
    ``framer``: the framer plugin that made the strands of a FASTA/FASTQ file (which, unlike
    a ``.dnapkt``, does not name it); default helix. ``reads2``: the R2 FASTQ of paired-end
    reads whose R1 FASTQ is ``path``; mates are merged first (statistics: "pairs"). Reads are
    streamed from the file in parts (:mod:`.read_stream`); inside
    :func:`.distributed.cluster`, they go through the read path on the cluster.
    ``archive``: the identity of the archive to decode where the strands hold several (reads
    of pools that share primers); default: the one with the most data strands, and
    ``stats["archives"]`` lists them all (:func:`archive_notes` says so)."""
    if reads2 is None:
        if is_sequence_file(path):  # streamed: a run need not fit in memory
            return parse_dna({}, ReadParts(path), path, framer, archive)
        header, seqs = read_strands(path, allow_n=True, salvage=True)
        return parse_dna(header, seqs, path, framer, archive)
    reads, pairs = merge_files(path, reads2)
    fr, meta, blocks, stats = parse_dna({}, reads, path, framer, archive)
    stats["pairs"] = pairs.to_json()
    return fr, meta, blocks, stats


def parse_dna(
    header: dict[str, Any],
    seqs: list[np.ndarray],
    path: str,
    framer: str | None = None,
    archive: int | None = None,
) -> tuple[Any, dict[str, Any], dict[int, np.ndarray], dict[str, Any]]:
    """Strands already read from ``path`` -> as :func:`read_dna`.

    A ``.dnapkt`` (non-empty ``header``) holds clean strands, parsed as they are; FASTA and
    FASTQ may hold sequencing reads, so they go through the read path (trim, cluster,
    consensus), which gives clean strands through unchanged.
    """
    if "damaged_header" in header:  # a .dnapkt read around its header: as FASTA, then noted
        got = parse_dna({}, seqs, path, framer, archive)
        got[3].update(header)
        return got
    if header and framer and header.get("framer") != framer:
        raise HelixError(f"{path}: its strands were framed by {header.get('framer')}, not {framer}")
    archive = _CHOSEN.get() if archive is None else archive
    if not header and not framer:
        return _detect_framer(seqs, path, archive)
    fr = plugins.get_framer(header.get("framer") or framer)
    if header:  # a .dnapkt says its strands' length
        fr = fr.at_length(header.get("strand_length")) or fr
        return _parse_with(fr, header, seqs, path, archive)
    return _first_that_reads(_layouts(fr, _commonest_length(seqs)), seqs, path, archive)


def _commonest_length(seqs) -> int:
    """The commonest sequence length among the strands or reads (of the first part of a
    stream): the strand length, which the framer's layout follows from."""
    sample = seqs.first if isinstance(seqs, ReadParts) else seqs
    lengths = Counter(len(s) for s in sample)
    return lengths.most_common(1)[0][0] if lengths else 0


def _layouts(fr, length: int) -> list:
    """``fr`` laid out for ``length`` where it can be, then as it is (reads whose commonest
    length is not the strands' still decode at the framer's own length)."""
    at = fr.at_length(length)
    return [fr] if at is None or at is fr else [at, fr]


def _first_that_reads(framers: list, seqs, path: str, archive: int | None = None):
    """:func:`_parse_with` each framer in turn; the first that reads the metadata is the one
    (the first one's error where none does)."""
    first_error = None
    for fr in framers:
        try:
            return _parse_with(fr, {}, seqs, path, archive)
        except distributed.ClusterError:
            raise  # the cluster failed, not the framer: another would only fail again
        except HelixError as exc:
            first_error = first_error or exc
    raise first_error


def _detect_framer(
    seqs: list[np.ndarray], path: str, archive: int | None = None
) -> tuple[Any, dict[str, Any], dict[int, np.ndarray], dict[str, Any]]:
    """FASTA/FASTQ name no framer: try each registered one, laid out for the commonest
    sequence length where it can be (:meth:`.Framer.at_length`), those whose strand length is
    that length first (helix first among equals); each recognises only its own metadata.
    The first that reads any is the one."""
    common = _commonest_length(seqs)
    layouts = [
        (name, fr)
        for name in plugins.registrations("framers")
        for fr in _layouts(plugins.get_framer(name), common)
    ]
    layouts.sort(key=lambda x: (x[1].strand_length != common, x[0] != "helix", x[0]))
    try:
        return _first_that_reads([fr for _, fr in layouts], seqs, path, archive)
    except distributed.ClusterError:
        raise
    except HelixError as exc:
        names = ", ".join(dict.fromkeys(name for name, _ in layouts))
        raise HelixError(f"{exc} (tried the framers {names})") from None


def _parse_with(
    fr, header: dict[str, Any], seqs: list[np.ndarray], path: str, archive: int | None = None
) -> tuple[Any, dict[str, Any], dict[int, np.ndarray], dict[str, Any]]:
    """:func:`parse_dna` with the framer known. FASTA of clean strands whose read-path
    estimates hold no readable metadata (strands of several archives that share primers
    and addresses, each once: clustering by address would mix them) are parsed as clean
    strands, as a ``.dnapkt``'s are; so are clean strands of which two differ at one address
    (the read path would take them for two reads of one strand and vote)."""
    sample = seqs.first if isinstance(seqs, ReadParts) else seqs
    if not header and _clean_strands(fr, seqs) and _shared_addresses(fr, sample):
        return _parse_known(fr, {}, list(sample), path, archive, clean=True)
    try:
        return _parse_known(fr, header, seqs, path, archive)
    except HelixError:
        if header or not _clean_strands(fr, seqs):
            raise
        return _parse_known(fr, {}, list(sample), path, archive, clean=True)


def _shared_addresses(fr, sample: list[np.ndarray]) -> bool:
    """Two different clean strands that begin alike up to the end of the address: strands
    of several archives sharing primers and addresses."""
    span = getattr(fr, "cluster_span", None)
    if span is None:
        return False
    rows = np.unique(np.stack(sample), axis=0)
    return len(np.unique(rows[:, :span], axis=0)) < len(rows)


def _clean_strands(fr, seqs) -> bool:
    """Sequences that are the framer's strands as written (one part, all of its length,
    its primers in place, no N): not reads that need the read path."""
    sample = seqs.first if isinstance(seqs, ReadParts) else seqs
    if isinstance(seqs, ReadParts) and len(sample) >= read_stream.PART_READS:
        return False
    p5, p3 = getattr(fr, "primer5", None), getattr(fr, "primer3", None)
    if not len(sample) or p5 is None or p3 is None:
        return False
    n5, n3, length = len(p5), len(p3), fr.strand_length
    return all(
        len(s) == length
        and (s[:n5] == p5).all()
        and (s[length - n3 :] == p3).all()
        and int(s.max()) < 4
        for s in sample
    )


def _parse_known(
    fr,
    header: dict[str, Any],
    seqs: list[np.ndarray],
    path: str,
    archive: int | None = None,
    clean: bool = False,
) -> tuple[Any, dict[str, Any], dict[int, np.ndarray], dict[str, Any]]:
    stats: dict[str, Any] = {}
    if header.get("damaged_packets") is not None:  # counted as lost strands from here on
        stats["damaged_packets"] = header["damaged_packets"]
    erasures = alts = None
    if header or clean:
        stats["strands_read"] = len(seqs)
        usable = [s for s in seqs if len(s) == fr.strand_length]
        stats["wrong_length"] = len(seqs) - len(usable)
        strands = np.stack(usable) if usable else None
    else:
        estimates = estimate_strands(fr, seqs, path)
        strands, report = estimates.strands, estimates.report
        stats["strands_read"] = report.reads
        stats["reads"] = report.to_json()
        stats["from_reads"] = True
        if report.clusters < report.clustered:  # reads, not one copy of each strand: RS uses
            erasures = estimates.erasures  # the erasures and keeps a margin for detection
            alts = estimates.alternatives, estimates.alternative_of
    if strands is None or not len(strands):
        if not header:
            sample = seqs.first if isinstance(seqs, ReadParts) else seqs
            check_reads_span_strands(path, sample, fr.strand_length)
        raise HelixError(f"{path}: no {fr.strand_length}-nt strands to decode")
    candidates = fr.metadata_candidates(strands)
    meta_coder = fr.metadata_coder
    m_strands = strands[candidates]
    m_erasures = None if erasures is None else erasures[candidates]
    parsed = parse_strands(fr, m_strands, meta_coder, meta_coder, m_erasures)
    is_meta = parsed.ok & fr.is_metadata(parsed.addresses)
    m_blocks = whiten(parsed.addresses[is_meta], parsed.payload[is_meta], 0, fr)
    metas = layout.recover_all_metadata(parsed.addresses[is_meta], m_blocks, fr.address_bits)
    recovered, metas = metas, _usable_metadata(metas, path)
    if recovered and not metas:
        check_metadata(recovered[0], path)  # raises, saying what is wrong with it
    if not metas:
        raise HelixError(f"{path}: no readable metadata strands (is this a helix-media file?)")
    if all(m.get("format") == POOL_FORMAT for m in metas):  # a pool: its catalogue
        stats.update(strands_ok=int(is_meta.sum()), symbols_corrected=0, data_strands=0)
        return fr, metas[0], {}, stats
    metas = [m for m in metas if m.get("format") != POOL_FORMAT and m["framer"]["name"] == fr.name]
    if not metas:
        raise HelixError(f"{path}: its metadata names another framer than {fr.name}")
    # the layout came from the strands' length; the metadata records it (absent: the
    # framer's default length, as every archive made before lengths could be chosen)
    metas = [m for m in metas if _recorded_length(m, fr) == fr.strand_length]
    if not metas:
        raise HelixError(f"{path}: its metadata names another strand length")
    # Several archives' strands (reads of pools that share primers): decode the one named
    # (--archive), else the one with the most data strands; the others' strands are counted
    # as foreign, never decoded, and stats["archives"] lists every archive found.
    if archive is not None and not any(m.get(ARCHIVE_ID) == archive for m in metas):
        found = ", ".join(str(m.get(ARCHIVE_ID)) for m in metas)
        raise HelixError(f"{path}: no archive {archive} here (archives found: {found})")
    best = None
    for m in metas:
        data_coder = plugins.get_coder(m["coder"], constraints=fr.constraints)
        got = parse_strands(fr, strands, data_coder, None, erasures, framer_key(fr, m))
        got = with_alternatives(fr, got, alts, data_coder, framer_key(fr, m))
        n_ok = int((got.ok & ~fr.is_metadata(got.addresses)).sum())
        named = archive is not None and m.get(ARCHIVE_ID) == archive
        if named or (archive is None and (best is None or n_ok > best[0])):
            best = (n_ok, m, data_coder, got)
        stats.setdefault("archives", []).append(
            {
                "archive_id": m.get(ARCHIVE_ID),
                "data_strands_ok": n_ok,
                "data_strands": expected_data_strands(m),
            }
        )
    stats["archive_choice"] = (
        "named" if archive is not None else "only" if len(metas) == 1 else "most data strands"
    )
    _, meta, data_coder, parsed = best
    check_claimed_strands(meta, best[0], path)
    stats["foreign_strands"] = sum(a["data_strands_ok"] for a in stats["archives"]) - best[0]
    is_data = parsed.ok & ~fr.is_metadata(parsed.addresses)
    payload = parsed.payload[is_data]
    blocks = whiten(parsed.addresses[is_data], payload, meta["seed"], fr, data_coder)
    n_meta = int(is_meta.sum())
    stats.update(
        strands_ok=int(is_data.sum()) + n_meta,
        symbols_corrected=int(parsed.corrected[is_data].sum()),
        # (a fountain framer returns source blocks, not one row per strand: never below 0)
        strands_failed=max(
            0, len(strands) - int(is_data.sum()) - n_meta - stats["foreign_strands"]
        ),
    )
    stats["archive_id"] = meta.get(ARCHIVE_ID)
    # clean strands (a .dnapkt, exported FASTA) decode to some archive, every one of them;
    # reads leave some estimates undecodable, so there only many of them mean something
    exact = header or clean or _clean_strands(fr, seqs)
    if stats["strands_failed"] > (
        0 if exact else max(UNCLAIMED_MIN, UNCLAIMED_SHARE * len(strands))
    ):
        stats["unclaimed_strands"] = [stats["strands_failed"], len(strands)]
    blocks = select_blocks(parsed.addresses[is_data], blocks, parsed.corrected[is_data])
    stats["data_strands"] = n = expected_data_strands(meta)
    offset = int(meta.get("address_offset", 0))
    stats["data_strands_found"] = sum(offset <= a < offset + n for a in blocks)
    if "outer_code" in meta:  # (both counts above include the outer code's parity strands)
        first = offset + OuterCode.from_json(meta["outer_code"]).data_strands
        stats["parity_strands"] = offset + n - first
        stats["parity_strands_found"] = sum(first <= a < offset + n for a in blocks)
    return fr, meta, blocks, stats


#: Strands that decode as no archive found here (more than this many, and this share of all):
#: another archive whose metadata strands are lost, most likely; a note says so.
UNCLAIMED_MIN, UNCLAIMED_SHARE = 10, 0.05


def archive_notes(stats: dict[str, Any], path: str) -> tuple[list[str], str | None]:
    """What the strands held besides the archive decoded: ``note:`` lines (without the
    prefix) naming the archive decoded, why, and the others found; and a ``data lost``
    reason (or None) where the archive decoded was picked for having the most data strands
    while another one found is incomplete (it may be the one wanted: name it with
    ``--archive``)."""
    notes, loss = [], None
    archives = stats.get("archives") or []
    chosen = stats.get("archive_id")
    others = [a for a in archives if a["archive_id"] != chosen]
    if others:
        mine = next((a for a in archives if a["archive_id"] == chosen), None)
        why = "named by --archive" if stats.get("archive_choice") == "named" else "the most"
        have = f"{mine['data_strands_ok']} of {mine['data_strands']}" if mine else "?"
        also = ", ".join(
            f"{a['archive_id']} ({a['data_strands_ok']} of {a['data_strands']} data strands)"
            for a in others
        )
        notes.append(
            f"{path}: {stats.get('foreign_strands', 0)} strands of {len(others)} other "
            f"archive(s) with the same primers were ignored: decoded archive {chosen} ({why}: "
            f"{have} data strands), not {also}; choose one with --archive ID"
        )
        if stats.get("archive_choice") != "named":
            hurt = [a for a in others if a["data_strands_ok"] < a["data_strands"]]
            if hurt:
                loss = (
                    f"archive {hurt[0]['archive_id']}, found beside archive {chosen}, is "
                    f"incomplete ({hurt[0]['data_strands_ok']} of {hurt[0]['data_strands']} "
                    f"data strands) and was not decoded; if it is the one you want: --archive "
                    f"{hurt[0]['archive_id']}"
                )
    if stats.get("unclaimed_strands"):
        failed, total = stats["unclaimed_strands"]
        if "reads" in stats:  # estimates of strands with too few reads fail most often
            notes.append(
                f"{path}: {failed} of {total} strand estimates decode as no archive whose "
                "metadata was read here (strands with too few or too noisy reads, or reads "
                "of another archive whose metadata strands are lost)"
            )
        else:
            notes.append(
                f"{path}: {failed} of {total} strands decode as no archive whose metadata "
                "was read here (another archive whose metadata strands are lost, or damaged "
                "strands)"
            )
    return notes, loss


#: Decoding does at most this many times the work of the data strands read (plus a little):
#: metadata that claims more data strands than that is not believed, whatever its CRC says.
CLAIM_FACTOR, CLAIM_SLACK = 64, 4096


def check_claimed_strands(meta: dict[str, Any], found: int, path: str) -> None:
    """HelixError where the metadata claims far more data strands than were read (crafted
    metadata, or nearly everything lost): decoding is bounded by what the strands hold."""
    claimed = expected_data_strands(meta)
    if claimed > CLAIM_SLACK + CLAIM_FACTOR * found:
        raise HelixError(
            f"{path}: its metadata claims {claimed} data strands but only {found} were read; "
            "not decoded (crafted metadata, or nearly all strands lost)"
        )


def _recorded_length(meta: dict[str, Any], fr) -> int:
    """The strand length an archive's metadata records for its framer (its framer's default
    length where it records none)."""
    length = meta["framer"].get("strand_length")
    if length is None:
        return plugins.get_framer(fr.name).strand_length
    return length


def estimate_strands(fr, seqs, path: str, select: np.ndarray | None = None):
    """Reads (in memory, or :class:`.read_stream.ReadParts`) -> strand estimates, here or on
    the current Dask cluster; ``select``: see :meth:`.reads.ReadProcessor.process`."""
    client = distributed.current()
    parts = seqs if isinstance(seqs, ReadParts) else ReadParts(path, seqs)
    if client is None:
        from helix_media.readpath.read_stream import estimate_strands as estimate_here

        return estimate_here(fr, parts, select)
    return distributed.estimate_strands(client, fr, parts, select)


def _usable_metadata(metas: list, path: str) -> list[dict[str, Any]]:
    """The recovered metadata blobs a decoder can trust (see :mod:`.metadata_schema`)."""
    out = []
    for m in metas:
        try:
            out.append(check_metadata(m, path))
        except HelixError:
            continue
    return out


def expected_data_strands(meta: dict[str, Any]) -> int:
    """How many data strands the archive was written with (outer parity included)."""
    if "outer_code" in meta:
        outer = OuterCode.from_json(meta["outer_code"])
        return outer.data_strands + outer.parity_strands
    return sum(int(s["strands"]) for s in meta["streams"].values())
