"""Packets of any codec -> framed strands: packets laid out in blocks, the outer code's parity,
whitening, the framer (constraint coder, RS, address, primers) and the metadata copies. Every
way of writing DNA (``helix_media.open``, ``helix-transcode``, pools) ends here."""

from __future__ import annotations

from typing import Any

import numpy as np

from helix_media import distributed, plugins
from helix_media._version import __version__
from helix_media.archive.keys import archive_id, framer_key
from helix_media.archive.results import EncodeResult
from helix_media.blocks import layout
from helix_media.blocks.metadata_schema import ARCHIVE_ID
from helix_media.blocks.outer_code import Auto, OuterCode, Redundancy
from helix_media.blocks.whitening import whiten
from helix_media.errors import HelixError
from helix_media.media.codec import Packet
from helix_media.strandio.strand_files import write_strands


def check_layout_options(
    redundancy: Redundancy,
    metadata_copies: int,
    stream_redundancy: dict[str, float] | None = None,
) -> None:
    """The outer code and metadata copies users may ask for (checked before any work);
    ``redundancy`` None is the default, auto (:func:`.outer_code.auto_redundancy`); an
    :class:`.outer_code.Auto` is auto for another strand loss."""
    if not 1 <= metadata_copies <= 1 << layout.COPY_BITS:
        raise HelixError("--metadata-copies must be 1..32")
    if isinstance(redundancy, int | float) and not 0 <= redundancy <= 4:  # (nan too)
        raise HelixError("--redundancy must be between 0 and 4")
    for name, r in (stream_redundancy or {}).items():
        if not 0 <= r <= 4:
            raise HelixError(f"--stream-redundancy {name}: must be between 0 and 4")


def framer_params_for(framer: str | None, strand_length: int | None) -> dict[str, Any]:
    """``framer_params`` for strands of ``strand_length`` nt (None: the framer's own), checked
    now: HelixError where the framer has no layout of that length."""
    if strand_length is None:
        return {}
    fr = plugins.get_framer(framer)
    if fr.at_length(strand_length) is None:
        raise HelixError(
            f"--strand-length {strand_length}: the {fr.name} framer makes "
            + ("strands of 200-300 nt" if fr.name == "helix" else f"{fr.strand_length}-nt strands")
        )
    return {"strand_length": strand_length} if strand_length != fr.strand_length else {}


def make_framer(framer: str | None, framer_params: dict[str, Any] | None):
    """The framer ``framer`` with ``framer_params``; a ``strand_length`` among them lays it out
    for that length (:meth:`.Framer.at_length`), the others go to its constructor."""
    params = dict(framer_params or {})
    length = params.pop("strand_length", None)
    fr = plugins.get_framer(framer, **params)
    if length is None:
        return fr
    out = fr.at_length(length)
    if out is None:
        raise HelixError(f"the {fr.name} framer has no {length}-nt layout")
    return out


def data_bits_per_strand(block_bits: int, redundancy: Redundancy) -> int:
    """Bits of codec data per strand: the outer code (any ``redundancy`` > 0 or auto (None),
    of any stream) may use slightly fewer than the coder carries."""
    if redundancy is None or redundancy:
        return OuterCode.create(1.0, block_bits, 1).data_bits
    return block_bits


def any_redundancy(
    redundancy: Redundancy, stream_redundancy: dict[str, float] | None
) -> float | None:
    """The largest redundancy asked for: > 0 where any stream gets an outer code; None (auto,
    the default, which every stream without a rate of its own gets) counts as > 0."""
    if redundancy is None or isinstance(redundancy, Auto):
        return None
    return max([redundancy, *(stream_redundancy or {}).values()])


def slice_options(
    codec,
    options: dict[str, Any] | None,
    framer: str | None,
    framer_params: dict[str, Any] | None,
    coder: str | None,
    redundancy: Redundancy,
) -> dict[str, Any]:
    """``options`` for ``codec``'s encoder, plus ``slice_bytes`` (the bytes one strand
    carries with this framer, coder and outer code) for a codec whose packets are cut to
    whole strands."""
    options = dict(options or {})
    if codec.slice_aligned:
        fr = make_framer(framer, framer_params)
        cd = plugins.get_coder(coder, constraints=fr.constraints)
        options["slice_bytes"] = data_bits_per_strand(fr.payload_bits(cd), redundancy) // 8
    return options


def encode_packets(
    packets: list[Packet],
    fields: dict[str, Any],
    *,
    coder: str | None = None,
    framer: str | None = None,
    framer_params: dict[str, Any] | None = None,
    seed: int = 0,
    metadata_copies: int = 3,
    redundancy: Redundancy = None,
    stream_redundancy: dict[str, float] | None = None,
    stream_params: dict[str, dict[str, Any]] | None = None,
    address_offset: int = 0,
    metadata_chunk_offset: int = 0,
) -> EncodeResult:
    """Packets of any codec -> framed strands (data, outer parity, metadata copies).

    ``fields`` (codec, codec_params, kind, video or file...) go into the metadata as they are.
    ``redundancy`` None (the default) is auto: each outer-code segment sized for 2 % random
    strand loss (:func:`.outer_code.auto_redundancy`); 0 is no outer code.
    ``framer_params`` may hold ``strand_length`` (:func:`make_framer`).
    ``stream_redundancy`` gives streams (``video``, ``video.1``, ``audio``) an outer code of
    their own redundancy instead of ``redundancy`` (unequal protection: e.g. a layered codec's
    base layer more than its refinements).
    ``address_offset`` moves the data strands to addresses ``offset + i`` and
    ``metadata_chunk_offset`` the metadata chunks up by that many, so several archives share
    one pool's address space (strand indices inside the metadata stay 0-based).
    """
    fr = make_framer(framer, framer_params)
    cd = plugins.get_coder(coder, constraints=fr.constraints)
    block_bits = fr.payload_bits(cd)
    data_bits = data_bits_per_strand(block_bits, any_redundancy(redundancy, stream_redundancy))
    addresses, blocks, streams = layout.pack_streams(packets, data_bits)
    for name, params in (stream_params or {}).items():
        if name in streams:
            streams[name].params = params
    if unknown := set(stream_redundancy or {}) - set(streams):
        raise HelixError(
            f"--stream-redundancy: no stream {', '.join(sorted(unknown))} in this archive "
            f"(streams: {', '.join(streams)})"
        )
    if data_bits != block_bits:
        blocks = np.pad(blocks, ((0, 0), (0, block_bits - data_bits)))
    spans = {name: (s.first_strand, s.strands) for name, s in streams.items()}
    outer = OuterCode.for_streams(redundancy, stream_redundancy or {}, spans, block_bits)
    if outer is not None:
        blocks = np.concatenate([blocks, outer.parity(blocks)])
    addresses = np.arange(len(blocks), dtype=np.int64) + address_offset
    meta = {
        "format": "helix-media",
        "version": 1,
        "writer": f"helix-media {__version__}",
        **fields,
        "coder": cd.name,
        "framer": fr.describe(),
        "seed": seed,
        "payload_bits": data_bits,
        "streams": {k: vars(v) for k, v in streams.items()},
    }
    if address_offset:
        meta["address_offset"] = int(address_offset)
    if outer is not None:
        meta["outer_code"] = outer.to_json()
    meta[ARCHIVE_ID] = archive_id(meta, blocks)
    m_addr, m_blocks = layout.metadata_blocks(
        meta, fr.payload_bits(fr.metadata_coder), fr.address_bits, metadata_copies
    )
    m_addr = m_addr + (metadata_chunk_offset << layout.COPY_BITS)
    white = whiten(addresses, blocks, seed, fr, cd)
    key = framer_key(fr, meta)
    data = distributed.frame_strands(fr, addresses, white, cd, key) if len(blocks) else None
    metas = fr.frame(m_addr, whiten(m_addr, m_blocks, seed, fr), fr.metadata_coder)
    strands = metas if data is None else np.concatenate([metas, data])
    return EncodeResult(
        strands,
        meta,
        len(blocks),
        len(m_blocks),
        sum(len(p.data) for p in packets),
        0 if cd.guarantees_constraints else count_violations(fr, strands),
    )


def count_violations(fr, strands: np.ndarray) -> int:
    """Strands that break the framer's constraints (GC window, runs, motifs), whole."""
    report = fr.check(strands)
    return int((~report.ok(fr.constraints)).sum())


def write_result(output_path: str, r: EncodeResult) -> None:
    """Write an archive's strands (``.dnapkt``, FASTA), headed by what made them."""
    header = {
        "framer": r.metadata["framer"]["name"],
        "coder": r.metadata["coder"],
        "codec": r.metadata["codec"],
        "strand_length": int(r.strands.shape[1]),
        "writer": r.metadata["writer"],
    }
    write_strands(output_path, r.strands, header)
