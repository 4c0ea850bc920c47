"""A strand that the inner code passes as right but that holds another block (a
miscorrection: a nanopore read set makes one in tens of thousands) is found by the outer
code's spare parity strands and rebuilt, so the file still comes back exact."""

import numpy as np
import pytest

from helix_media import plugins
from helix_media.archive.decode import decode_file
from helix_media.archive.encode import encode_file
from helix_media.archive.keys import framer_key
from helix_media.archive.parse import _parse_known
from helix_media.archive.verify import verify
from helix_media.blocks.whitening import whiten
from helix_media.strandio.fasta import write_fasta


def _archive_with_a_wrong_strand(tmp_path):
    """A file archive (FASTA) in which data strand 5 carries strand 9's block, framed as a
    valid strand of address 5 (right address, right RS parity and key): (source, FASTA)."""
    src = tmp_path / "data.bin"
    src.write_bytes(np.random.default_rng(3).integers(0, 256, 8000, dtype=np.uint8).tobytes())
    strands = encode_file(str(src), redundancy=0.2).strands
    fr = plugins.get_framer()
    fr, meta, blocks, _ = _parse_known(fr, {}, list(strands), "x", clean=True)
    coder = plugins.get_coder(meta["coder"], constraints=fr.constraints)
    address = np.array([5])
    payload = whiten(address, blocks[9][None, :], meta["seed"], fr, coder)
    forged = fr.frame(address, payload, coder, **framer_key(fr, meta))[0]
    rows = [i for i, s in enumerate(strands) if fr.parse(s[None, :], coder, None, None,
            **framer_key(fr, meta)).addresses[0] == 5]  # fmt: skip
    assert len(rows) == 1
    strands = strands.copy()
    strands[rows[0]] = forged
    write_fasta(tmp_path / "wrong.fasta", strands)
    return src, tmp_path / "wrong.fasta"


@pytest.mark.slow  # (the outer code's checks: tests/test_outer_code.py)
def test_a_wrong_strand_that_decodes_is_found_and_rebuilt(tmp_path):
    src, fasta = _archive_with_a_wrong_strand(tmp_path)
    r = decode_file(str(fasta), str(tmp_path / "out.bin"))
    assert (tmp_path / "out.bin").read_bytes() == src.read_bytes()
    assert r.stats["strands_wrong"] == 1 and r.complete
    report = verify(str(fasta))
    assert report["complete"] and report["strands_found_wrong"] == 1
