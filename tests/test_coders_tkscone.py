"""TK-SCONE: the FSM's rate and guarantees, the library choice, the fallback, the ablations."""

import numpy as np
import pytest
from helix_media_builtins.coders.fsm import ConstraintFSM
from test_coders import C, assert_constraints, contexts, structured_bits

from helix_media import plugins
from helix_media.dna.constraints import longest_runs
from helix_media.dna.nucleotides import GC_BASE


def tk(**kw):
    return plugins.get_coder("tk-scone", constraints=C, **kw)


@pytest.fixture(scope="module")
def coder():
    return tk()


def test_capacity_is_290_bits_and_the_fallback_carries_it_after_any_context(coder):
    assert coder.capacity(152) == 290  # 1.908 bits/nt, index bits counted as overhead
    assert coder.fallback_capacity(152) >= 290  # worst case over every automaton state
    assert tk(index_bits=1).fallback_capacity(152) >= 290


def test_random_blocks_use_the_library_and_the_decoder_recovers_the_choice(coder):
    n = 400
    bits = np.random.default_rng(3).integers(0, 2, (n, 290)).astype(np.uint8)
    ctx = contexts(n)
    bases = coder.encode(bits, 152, ctx)
    index = coder.last_stats.index
    assert (index >= 0).all()  # no fallback on random data
    assert len(np.unique(index)) == 7  # "best" search spreads over the whole library
    back, ok = coder.decode(bases, ctx)
    assert ok.all() and (back == bits).all()
    assert_constraints(ctx, bases)
    # choosing the entry with the least GC deviation: far below a random walk's ~0.03
    assert np.abs(GC_BASE[bases].mean(axis=1) - 0.5).mean() < 0.01


def test_all_zero_blocks_fall_back_and_still_obey_everything(coder):
    ctx = contexts(64)
    bits = np.zeros((64, 290), np.uint8)
    bits[::2, -1] = 1  # almost zero: mixing cannot spread a single bit far enough either
    bases = coder.encode(bits, 152, ctx)
    assert (coder.last_stats.index[1::2] == -1).all()
    back, ok = coder.decode(bases, ctx)
    assert ok.all() and (back == bits).all()
    assert_constraints(ctx, bases)


@pytest.mark.parametrize(
    "options",
    [
        {"index_bits": 1, "mixing": False},  # the paper's "FSM only"
        {"index_bits": 1},  # one fixed Kronecker transform
        {"search": "first"},
        {"index_bits": 2, "design_bits": 296},  # most blocks in the fallback
    ],
)
def test_ablation_configurations_roundtrip_with_constraints(options):
    coder = tk(**options)
    cap = coder.capacity(152)
    bits = structured_bits(200, cap)
    ctx = contexts(200)
    bases = coder.encode(bits, 152, ctx)
    back, ok = coder.decode(bases, ctx)
    assert ok.all() and (back == bits).all()
    assert_constraints(ctx, bases)


@pytest.mark.parametrize("length", [24, 60, 151])
def test_other_block_lengths(length):
    coder = tk()
    cap = coder.capacity(length)
    assert 0 < cap <= length * 290 // 152
    bits = structured_bits(100, cap)
    ctx = contexts(100)
    bases = coder.encode(bits, length, ctx)
    back, ok = coder.decode(bases, ctx)
    assert ok.all() and (back == bits).all()
    assert_constraints(ctx, bases)


def test_fsm_rate_on_random_bits():
    """The FSM alone reads ~1.95 bits/nt of random data: 2 per free base, 1 after a run of 3
    or near the GC bounds; the decoder re-simulates it exactly."""
    fsm = ConstraintFSM(C, 152)
    n = 500
    stream = np.random.default_rng(5).integers(0, 2, (n, 310)).astype(np.uint8)
    start = fsm.start(contexts(n), n)
    tr = fsm.encode(stream, 310, start)
    assert 290 < tr.consumed.mean() < 300 and tr.consumed.min() > 270
    dec = fsm.decode(tr.bases, start)
    assert dec.valid.all() and (dec.consumed == tr.consumed).all()
    for i in range(0, n, 50):
        assert (dec.bits[i, : tr.consumed[i]] == stream[i, : tr.consumed[i]]).all()


def test_damaged_or_foreign_blocks_are_flagged_not_crashed(coder):
    rng = np.random.default_rng(9)
    ctx = contexts(300)
    _, ok = coder.decode(rng.integers(0, 4, (300, 152)).astype(np.uint8), ctx)
    assert ok.mean() < 0.05
    enum = plugins.get_coder("enumerative", constraints=C)
    foreign = enum.encode(rng.integers(0, 2, (300, 300)).astype(np.uint8), 152, ctx)
    coder.decode(foreign, ctx)  # valid DNA of another code: any answer, but no exception


def test_kronecker_mixing_breaks_runs_of_correlated_data():
    """The paper's "+Kronecker only" row: a smooth 8-bit ramp (neighbouring bytes alike)
    written naively has long runs and skewed GC; mixed first, runs halve and GC nears 50 %.
    (Not to random levels: A_T (x) A_H (x) A_W maps a separable block to a separable one.)"""
    ramp = np.repeat(np.arange(0, 256, 2, dtype=np.uint8), 19)[:4864]
    bits = np.unpackbits(ramp).reshape(-1, 304)
    ctx = contexts(len(bits))
    plain = plugins.get_coder("naive", constraints=C).encode(bits, 152, ctx)
    mixer = plugins.get_coder("naive", constraints=C, kronecker=True)
    mixed = mixer.encode(bits, 152, ctx)
    back, ok = mixer.decode(mixed, ctx)
    assert ok.all() and (back == bits).all()

    def figures(bases):
        return np.abs(GC_BASE[bases].mean(axis=1) - 0.5).mean(), longest_runs(bases).max()

    (gc_plain, run_plain), (gc_mixed, run_mixed) = figures(plain), figures(mixed)
    assert run_mixed < run_plain and gc_mixed < gc_plain
