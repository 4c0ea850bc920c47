"""The enumerative coder: exact round trips, constraints kept on every input and junction."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helix_media import plugins
from helix_media.dna.constraints import Constraints, check

PRIMERS = ("TAAGCCACGCTTGTGATGAC", "GTCGTTAGCATACCAGGAAC")
C = Constraints().with_primers(*PRIMERS)


@pytest.fixture(scope="module")
def coder():
    return plugins.get_coder("enumerative", constraints=C)


def test_capacity_is_300_bits_per_152_nt_for_every_context(coder):
    assert coder.capacity(152) == 300


def _check_block(coder, bits, context):
    bases = coder.encode(bits, 152, context)
    assert bases.shape == (len(bits), 152)
    decoded, ok = coder.decode(bases, context)
    assert ok.all()
    np.testing.assert_array_equal(decoded, bits)
    report = check(bases, C)
    assert (report.gc >= 0.45).all() and (report.gc <= 0.55).all()
    _check_junction(context, bases)


def _check_junction(context, bases):
    """No run or motif through the block: the context's last bases plus the block."""
    whole = np.concatenate([context, bases], axis=1)
    runs = check(whole[:, -(bases.shape[1] + 3) :], C).max_homopolymer
    motifs = check(whole[:, -(bases.shape[1] + 19) :], C).motif_hits
    motifs -= check(context[:, -19:], C).motif_hits  # a motif inside the context is not ours
    assert (runs <= 3).all() and (motifs == 0).all()


def test_random_structured_and_extreme_inputs(coder):
    rng = np.random.default_rng(7)
    n = 400
    bits = rng.integers(0, 2, (n, 300)).astype(np.uint8)
    bits[0] = 0
    bits[1] = 1
    bits[2, ::2] = 1
    bits[3] = np.tile([1, 1, 0, 0, 0, 0], 50)
    context = rng.integers(0, 4, (n, 20)).astype(np.uint8)
    context[:50] = 0  # worst junctions: the context ends in a run of A
    context[50:100, -4:] = [2, 0, 0, 3]  # GAAT...: one base from the GAATTC site
    _check_block(coder, bits, context)


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=38, max_size=38), st.lists(st.integers(0, 3), min_size=0, max_size=24))
def test_property_roundtrip(data, context):
    coder = plugins.get_coder("enumerative", constraints=C)
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8))[:300][None, :]
    ctx = np.array([context], dtype=np.uint8).reshape(1, -1)
    bases = coder.encode(bits, 152, ctx)
    decoded, ok = coder.decode(bases, ctx)
    assert ok.all() and (decoded == bits).all()
    _check_junction(ctx, bases)


def test_decode_flags_non_codewords(coder):
    context = np.zeros((3, 20), dtype=np.uint8)
    bad = np.zeros((3, 152), dtype=np.uint8)  # all A: a run of 152
    _, ok = coder.decode(bad, context)
    assert not ok.any()


def test_golden_vector(coder):
    """Any change to the code's bitstream must be deliberate: fixed input, fixed strand."""
    bits = np.unpackbits(np.frombuffer(b"helix-media golden vector 0123456789!!", np.uint8))[:300]
    ctx = np.frombuffer(b"\x00\x01\x02\x03", np.uint8)[None, :]
    bases = coder.encode(bits[None, :], 152, ctx)
    seq = "".join("ACGT"[b] for b in bases[0])
    assert seq[:40] == GOLDEN_PREFIX, seq


GOLDEN_PREFIX = "ATCGATATGGTGAGCCATTCAGCTGCACTTAAGGCTGGCA"


@pytest.mark.slow
def test_compiled_loops_keep_the_numpy_codes_bases():
    """500 random blocks after real primer + address contexts: the bases the numpy version
    (commit fa7f6cf) gave, hashed; decoding gives the bits back."""
    import hashlib

    from helix_media import plugins

    fr = plugins.get_framer("helix")
    rng = np.random.default_rng(2026)
    bits = rng.integers(0, 2, (500, 300), dtype=np.uint8)
    ctx = rng.integers(0, 4, (500, 36)).astype(np.uint8)  # overwritten: primer, address
    ctx[:, :20] = fr.primer5
    ctx[:, 20:] = fr.address_code.encode(rng.integers(0, 10**6, 500), np.zeros(500, bool))
    coder = plugins.get_coder("enumerative", constraints=fr.constraints)
    bases = coder.encode(bits, 152, ctx)
    assert hashlib.sha256(bases.tobytes()).hexdigest()[:32] == "a6f913eb0d5453cf2024e9aa80aac8de"
    got, ok = coder.decode(bases, ctx)
    assert ok.all() and (got == bits).all()
