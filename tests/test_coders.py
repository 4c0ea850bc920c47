"""naive, goldman, paircode and tk-scone: round trips, constraints, GF(2) mixing, golden vectors."""

import hashlib
import itertools

import numpy as np
import pytest
from helix_media_builtins.coders import gf2, goldman, paircode, radix
from helix_media_builtins.coders.tkscone import KroneckerLibrary
from hypothesis import given, settings
from hypothesis import strategies as st

from helix_media import plugins
from helix_media.dna.constraints import Constraints, check, longest_runs
from helix_media.dna.nucleotides import GC_BASE, from_string

PRIMERS = ("TAAGCCACGCTTGTGATGAC", "GTCGTTAGCATACCAGGAAC")
C = Constraints().with_primers(*PRIMERS)
NAMES = ("naive", "goldman", "paircode", "tk-scone")


@pytest.fixture(scope="module")
def coders():
    return {name: plugins.get_coder(name, constraints=C) for name in NAMES}


def structured_bits(n: int, cap: int, seed: int = 7) -> np.ndarray:
    """Random rows plus the hard ones: all 0, all 1, alternating, repeated bytes, sparse."""
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, (n, cap)).astype(np.uint8)
    bits[0] = 0
    bits[1] = 1
    bits[2] = np.arange(cap) % 2
    bits[3] = np.resize([1, 1, 0, 0, 0, 0], cap)
    bits[4] = np.resize(np.unpackbits(np.frombuffer(b"helix", np.uint8)), cap)
    bits[5] = 0
    bits[5, ::37] = 1
    return bits


def contexts(n: int, seed: int = 8) -> np.ndarray:
    """Contexts ending in a primer + address-like tail, including the worst junctions."""
    rng = np.random.default_rng(seed)
    ctx = rng.integers(0, 4, (n, 36)).astype(np.uint8)
    ctx[:, :20] = from_string(PRIMERS[0])
    ctx[: n // 8, -3:] = 0  # ends in AAA: the block must not start with A
    ctx[n // 8 : n // 4, -4:] = from_string("GAAT")  # one base from GAATTC
    ctx[n // 4 : n // 3, -19:] = from_string(PRIMERS[1][:19])  # one base from a primer
    return ctx


def assert_constraints(context: np.ndarray, bases: np.ndarray) -> None:
    """GC window on the block; no run or motif in the block or through the junction."""
    gc = GC_BASE[bases].sum(axis=1) / bases.shape[1]
    assert (gc >= 0.45).all() and (gc <= 0.55).all()
    whole = np.concatenate([context, bases], axis=1)
    runs = longest_runs(whole[:, -(bases.shape[1] + 3) :])
    motifs = check(whole[:, -(bases.shape[1] + 19) :], C).motif_hits
    motifs -= check(context[:, -19:], C).motif_hits
    assert (runs <= 3).all() and (motifs == 0).all()


# -- registration and interface ----------------------------------------------------------------
def test_registered_with_honest_guarantees(coders):
    assert set(NAMES) <= set(plugins.registrations("coders"))
    flags = {name: c.guarantees_constraints for name, c in coders.items()}
    assert flags == {"naive": False, "goldman": False, "paircode": False, "tk-scone": True}
    caps = {name: c.capacity(152) for name, c in coders.items()}
    assert caps == {"naive": 304, "goldman": 240, "paircode": 252, "tk-scone": 290}


@pytest.mark.parametrize("name", NAMES)
def test_roundtrip_random_and_structured(coders, name):
    coder = coders[name]
    cap = coder.capacity(152)
    bits = structured_bits(300, cap)
    ctx = contexts(300)
    bases = coder.encode(bits, 152, ctx)
    assert bases.shape == (300, 152) and bases.max() <= 3
    back, ok = coder.decode(bases, ctx)
    assert ok.all()
    np.testing.assert_array_equal(back, bits)
    if coder.guarantees_constraints:
        assert_constraints(ctx, bases)


@pytest.mark.parametrize("name", NAMES)
def test_wrong_bit_count_is_refused(coders, name):
    with pytest.raises(ValueError):
        coders[name].encode(np.zeros((1, 7), np.uint8), 152, np.zeros((1, 4), np.uint8))


@pytest.mark.parametrize("name", ("goldman", "paircode", "tk-scone"))
def test_decode_flags_non_codewords(coders, name):
    ctx = contexts(2)
    bad = np.zeros((2, 152), dtype=np.uint8)  # a run of 152 A: no code here writes it
    _, ok = coders[name].decode(bad, ctx)
    assert not ok.any()


@pytest.mark.parametrize("name", NAMES)
def test_golden_vectors(coders, name):
    """Any change to a code's bitstream must be deliberate: fixed input, fixed block."""
    coder = coders[name]
    msg = b"helix-media golden vector 0123456789!!" * 2
    bits = np.unpackbits(np.frombuffer(msg, np.uint8))[: coder.capacity(152)][None, :]
    ctx = np.frombuffer(b"\x00\x01\x02\x03", np.uint8)[None, :]
    seq = "".join("ACGT"[b] for b in coder.encode(bits, 152, ctx)[0])
    assert seq[:48] == GOLDEN[name], seq


GOLDEN = {
    "naive": "CGGACGCCCGTACGGCCTGAAGTCCGTCCGCCCGCACGGCCGACAGAA",
    "goldman": "ATGACGAGCTATAGATATAGACAGTAGTGTCAGACAGCGTCTGTGTGC",
    "paircode": "TACTCAACAGCAGAGTCTCATCACCTGTTCTGAGCACACATCAGATTG",
    "tk-scone": "AATAGAGGCAATGACACACAATCCCATCCGGGCAGCTACCTATGTATG",
}


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from(NAMES),
    st.binary(min_size=38, max_size=38),
    st.sampled_from(["zeros", "ones", "data", "repeat"]),
    st.lists(st.integers(0, 3), min_size=0, max_size=24),
)
def test_property_roundtrip_and_constraints(name, data, kind, context):
    coder = plugins.get_coder(name, constraints=C)
    cap = coder.capacity(152)
    raw = np.unpackbits(np.frombuffer(data, np.uint8))
    bits = {
        "zeros": np.zeros(cap, np.uint8),
        "ones": np.ones(cap, np.uint8),
        "data": np.resize(raw, cap),
        "repeat": np.resize(raw[:13], cap),
    }[kind][None, :]
    ctx = np.array([context], dtype=np.uint8).reshape(1, -1)
    bases = coder.encode(bits, 152, ctx)
    back, ok = coder.decode(bases, ctx)
    assert ok.all() and (back == bits).all()
    if coder.guarantees_constraints:
        assert_constraints(ctx, bases)


# -- naive ---------------------------------------------------------------------------------------
def test_naive_is_the_direct_mapping(coders):
    bits = np.array([[0, 0, 0, 1, 1, 0, 1, 1]], np.uint8)
    assert coders["naive"].encode(bits, 4, np.zeros((1, 0), np.uint8)).tolist() == [[0, 1, 2, 3]]


# -- goldman -------------------------------------------------------------------------------------
def test_goldman_rotating_code_is_goldmans_table():
    table = {"A": "CGT", "C": "GTA", "G": "TAC", "T": "ACG"}  # Goldman et al. 2013, Fig. 1
    for prev, row in table.items():
        for trit, base in enumerate(row):
            got = goldman.trits_to_bases(np.array([[trit]]), from_string(prev)[0])
            assert "ACGT"[got[0, 0]] == base


def test_goldman_never_repeats_a_base_even_across_the_junction(coders):
    ctx = contexts(400)
    bits = structured_bits(400, 240)
    bases = coders["goldman"].encode(bits, 152, ctx)
    whole = np.concatenate([ctx[:, -1:], bases], axis=1)
    assert (whole[:, 1:] != whole[:, :-1]).all()


def test_ternary_huffman_is_prefix_free_complete_and_roundtrips():
    weights = [50, 20, 10, 8, 5, 4, 2, 1]
    code = goldman.ternary_huffman(weights)
    assert len(set(code)) == len(code)
    for a, b in itertools.permutations(code, 2):
        assert a != b[: len(a)]  # no codeword is a prefix of another
    lengths = [len(c) for c in code]
    assert lengths == sorted(lengths)  # heavier symbols never get longer words
    assert sum(3.0**-n for n in lengths) <= 1.0 + 1e-12
    symbols = [0, 7, 3, 3, 1, 0, 6, 2, 5, 4]
    trits = goldman.huffman_encode(symbols, code)
    assert set(trits.tolist()) <= {0, 1, 2}
    assert goldman.huffman_decode(trits, code) == symbols
    with pytest.raises(ValueError):
        goldman.huffman_decode(goldman.huffman_encode([7], code)[:-1], code)


# -- paircode ------------------------------------------------------------------------------------
def test_paircode_dictionary_and_category_sizes():
    assert len(set(paircode.PAIRS)) == 10
    for p in paircode.PAIRS:
        assert p[0] != p[1] and sum(b in "GC" for b in p) <= 1
    assert [paircode.count(n) for n in (2, 3, 4, 5, 6, 7, 8)] == [
        10,
        40,
        100,
        400,
        1000,
        4000,
        10000,
    ]  # JPEG-DNA's Table I: categories 2-8 hold 10, 40, 100, 400, ... values


@pytest.mark.parametrize("length", range(1, 13))
def test_paircode_values_roundtrip(length):
    values = np.unique(np.linspace(0, paircode.count(length) - 1, 500).astype(np.uint64))
    words = paircode.encode_values(values, length)
    assert words.shape == (len(values), length)
    assert len({w.tobytes() for w in words}) == len(values)  # distinct codewords
    back, ok = paircode.decode_values(words)
    assert ok.all() and (back == values).all()


def test_paircode_blocks_keep_runs_short_and_gc_at_most_half(coders):
    bases = coders["paircode"].encode(structured_bits(400, 252), 152, contexts(400))
    assert longest_runs(bases).max() <= 2
    assert (GC_BASE[bases].sum(axis=1) <= 76).all()


# -- radix ---------------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(st.sampled_from([3, 4, 10, 47]), st.integers(1, 90), st.integers(0, 2**32))
def test_radix_roundtrip(r, n_digits, seed):
    cap = radix.capacity(r, n_digits)
    assert cap == sum(b for _, b in radix.chunk_plan(r, n_digits)) <= n_digits * np.log2(r)
    bits = np.random.default_rng(seed).integers(0, 2, (5, cap)).astype(np.uint8)
    digits = radix.bits_to_digits(bits, r, n_digits)
    assert digits.min() >= 0 and digits.max() < r
    back, ok = radix.digits_to_bits(digits, r)
    assert ok.all() and (back == bits).all()


def test_radix_reaches_the_bound_and_flags_overflow():
    assert radix.capacity(3, 152) == 240  # floor(152 log2 3)
    assert radix.capacity(10, 76) == 252  # floor(76 log2 10)
    _, ok = radix.digits_to_bits(np.full((1, 152), 2), 3)  # 3**40 - 1 >= 2**63
    assert not ok.any()


# -- GF(2) and the Kronecker library --------------------------------------------------------------
@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 29, 64])
def test_library_matrices_are_invertible(size):
    a = gf2.random_invertible(size, f"test/{size}")
    eye = np.eye(size, dtype=np.uint8)
    inv = gf2.inverse(a)
    np.testing.assert_array_equal(gf2.matmul(a, inv), eye)
    np.testing.assert_array_equal(gf2.matmul(inv, a), eye)
    if size >= 8:
        assert 0.3 < a.mean() < 0.7  # dense: every output bit depends on many input bits


def test_singular_matrix_is_refused():
    with pytest.raises(ValueError):
        gf2.inverse(np.array([[1, 1], [1, 1]], np.uint8))


def test_axis_products_equal_the_kronecker_product():
    mats = tuple(gf2.random_invertible(d, f"kron/{d}") for d in (2, 3, 4))
    dense = np.kron(np.kron(mats[0], mats[1]), mats[2]) & 1
    x = np.random.default_rng(0).integers(0, 2, (6, 24)).astype(np.uint8)
    np.testing.assert_array_equal(gf2.kronecker_apply(x, mats), gf2.matmul(x, dense.T))


def test_library_mixes_and_unmixes_and_is_stable():
    lib = KroneckerLibrary((2, 5, 29), 7)
    x = structured_bits(50, 290)
    for j in range(7):
        y = lib.mix(x, j)
        assert (y[1:] != x[1:]).any()
        np.testing.assert_array_equal(lib.unmix(y, j), x)
    blob = b"".join(np.packbits(a).tobytes() for triple in lib.mats for a in triple)
    assert hashlib.sha256(blob).hexdigest()[:16] == "f4184232282fc90b"  # DNA must stay readable


def test_balanced_shape():
    assert gf2.balanced_shape(288) == (6, 6, 8)
    assert gf2.balanced_shape(290) == (2, 5, 29)
    assert gf2.balanced_shape(7) == (1, 1, 7)
