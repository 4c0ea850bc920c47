"""The HELIX paper's Table 3 for every constraint coder, side by side, on several kinds of data.

    helix bench coders [--strands N] [--seed S] [--no-external]

Columns: bits/nt (data bits per 152-nt block, every in-block overhead counted), GC dev. (mean
|GC - 0.5| per block), max homopolymer (block plus its junction with the context), pad %
(bases written after the data ran out), fallback % (TK-SCONE blocks left to its enumerative
fallback), viol. % (blocks breaking GC 45-55 %, runs <= 3 or motifs, junction included),
encode/decode strands/s (one run, one core). Contexts are real framer contexts (5' primer +
address). Data go to the coders unwhitened, as the paper measures them.

Data: (a) the HELIX tokenizer's GOP bit tensors (a hook: :func:`token_stream`); (a*) raw luma
tensors of the sample clip (a correlated stand-in, not tokens); (b) the bitstream codec's
packets of the sample clip; (c) uniform random bits; (d) all-zero and repetitive data.
A second table gives the highest data bits per block at which <= 1 % of blocks need the
fallback: FSM only, one fixed Kronecker transform, and the library of 7 (TK-SCONE's gain).
Chamaeleo's Grass and Yin-Yang codes are external rows when ``pip install chamaeleo`` works.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import numpy as np

from helix_media import plugins
from helix_media.blocks import layout
from helix_media.dna.constraints import check
from helix_media.dna.nucleotides import GC_BASE
from helix_media.resources import sample_clip

LENGTH = 152
SAMPLE = sample_clip()


# -- data ------------------------------------------------------------------------------------
def token_stream(n_bytes: int) -> bytes | None:
    """HOOK: the HELIX tokenizer's GOP bit tensors (T x H x W x B, serialized) once that
    tokenizer exists; ``None`` prints the row group as n/a."""
    return None


def pixel_stream(n_bytes: int) -> bytes | None:
    """8-bit luma of the sample, 4x4-averaged, GOPs of 8 frames serialized T x H x W x B."""
    import av

    if not SAMPLE.exists():
        return None
    with av.open(str(SAMPLE)) as c:
        frames = [f.to_ndarray(format="gray").astype(np.float64) for f in c.decode(video=0)]
    y = np.stack(frames)
    t, h, w = y.shape
    y = y[:, : h - h % 4, : w - w % 4].reshape(t, h // 4, 4, w // 4, 4).mean(axis=(2, 4))
    return np.round(y).astype(np.uint8).tobytes()[:n_bytes]


def bitstream_stream(n_bytes: int) -> bytes | None:
    """The bitstream codec's video packets for the sample clip (what the pipeline stores)."""
    from helix_media.media.video_io import open_video

    if not SAMPLE.exists():
        return None
    source = open_video(str(SAMPLE))
    encoder = plugins.get_codec("bitstream").encoder(source.info)
    packets = [p for f in source.frames() for p in encoder.encode(f)] + encoder.encode(None)
    return b"".join(p.data for p in packets if p.stream == "video")[:n_bytes]


def random_stream(n_bytes: int, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, n_bytes, dtype=np.uint8).tobytes()


def repetitive_stream(n_bytes: int) -> bytes:
    text = b"helix-media: the same header again and again. "
    return (text * (n_bytes // len(text) + 1))[:n_bytes]


DATASETS: list[tuple[str, str, Callable[[int], bytes | None]]] = [
    ("(a)", "HELIX tokenizer bit tensors", token_stream),
    ("(a*)", "raw luma tensors of the sample (correlated stand-in for tokens)", pixel_stream),
    ("(b)", "bitstream codec packets of the sample", bitstream_stream),
    ("(c)", "uniform random bits", random_stream),
    ("(d)", "all-zero bits", lambda n: bytes(n)),
    ("(d')", "repetitive text", repetitive_stream),
]


def blocks_of(data: bytes, bits: int, n: int) -> np.ndarray:
    """The stream's first ``n`` whole blocks of ``bits`` (fewer if the stream is short)."""
    b = layout.bytes_to_blocks(data, bits)
    whole = len(data) * 8 // bits
    return b[: min(n, whole)]


# -- rows ------------------------------------------------------------------------------------
def coder_rows(constraints) -> list[tuple[str, object]]:
    def get(name: str, **kw):
        return plugins.get_coder(name, constraints=constraints, **kw)

    return [
        ("naive", get("naive")),
        ("naive + Kronecker", get("naive", kronecker=True)),
        ("FSM only", get("tk-scone", index_bits=1, mixing=False)),
        ("FSM + fixed Kronecker", get("tk-scone", index_bits=1)),
        ("TK-SCONE, first fit", get("tk-scone", search="first")),
        ("TK-SCONE", get("tk-scone")),
        ("goldman", get("goldman")),
        ("paircode", get("paircode")),
        ("enumerative", get("enumerative")),
    ]


def contexts(n: int) -> tuple[object, np.ndarray]:
    """The helix framer and ``n`` real payload contexts (5' primer + address)."""
    fr = plugins.get_framer("helix")
    enum = plugins.get_coder("enumerative", constraints=fr.constraints)
    zeros = np.zeros((n, enum.capacity(LENGTH)), dtype=np.uint8)
    return fr, fr.frame(np.arange(n), zeros, enum)[:, : fr.o_payload]


def measure(coder, data: bytes, ctx: np.ndarray, constraints) -> dict | None:
    cap = coder.capacity(LENGTH)
    bits = blocks_of(data, cap, len(ctx))
    n = len(bits)
    if n == 0:
        return None
    c = ctx[:n]
    coder.decode(coder.encode(bits[:8], LENGTH, c[:8]), c[:8])  # tables built outside the timing
    t = time.perf_counter()
    bases = coder.encode(bits, LENGTH, c)
    t_enc = time.perf_counter() - t
    t = time.perf_counter()
    back, ok = coder.decode(bases, c)
    t_dec = time.perf_counter() - t
    stats = getattr(coder, "last_stats", None)
    tail = min(c.shape[1], max(len(m) for m in constraints.motifs) - 1)
    return {
        "bits_nt": cap / LENGTH,
        **block_figures(bases, c[:, c.shape[1] - tail :], constraints),
        "pad": 0.0 if stats is None else float(np.mean(LENGTH - stats.data_end)) / LENGTH,
        "fallback": None if stats is None else float(np.mean(stats.index < 0)),
        "enc": n / t_enc,
        "dec": n / t_dec,
        "roundtrip": bool(ok.all() and (back == bits).all()),
        "n": n,
    }


def block_figures(bases: np.ndarray, tail: np.ndarray, constraints) -> dict:
    """GC deviation, longest run and violation share of blocks after context ``tail``."""
    gc = GC_BASE[bases].sum(axis=1) / bases.shape[1]
    whole = np.concatenate([tail, bases], axis=1)
    runs = runs_into(whole, tail.shape[1])
    motifs = check(whole, constraints).motif_hits - check(tail, constraints).motif_hits
    bad = (
        (gc < constraints.gc_min - 1e-12)
        | (gc > constraints.gc_max + 1e-12)
        | (runs > constraints.max_homopolymer)
        | (motifs > 0)
    )
    return {
        "gc_dev": float(np.abs(gc - 0.5).mean()),
        "max_run": int(runs.max()),
        "viol": float(bad.mean()),
    }


def runs_into(strands: np.ndarray, start: int) -> np.ndarray:
    """Longest run that ends at or after column ``start`` (a run through the junction counts
    whole; one inside the context alone does not)."""
    run = np.ones(len(strands), dtype=np.int64)
    best = np.zeros(len(strands), dtype=np.int64)
    for i in range(1, strands.shape[1]):
        run = np.where(strands[:, i] == strands[:, i - 1], run + 1, 1)
        if i >= start:
            np.maximum(best, run, out=best)
    if start == 0:
        np.maximum(best, 1, out=best)
    return best


# -- Chamaeleo (optional) --------------------------------------------------------------------
def external_rows(data: bytes, n: int, ctx: np.ndarray, constraints) -> list[tuple[str, dict]]:
    """Grass et al. and Yin-Yang from Chamaeleo, if installed (pure Python: few blocks)."""
    try:
        from Chamaeleo.methods.fixed import Grass
        from Chamaeleo.methods.flowed import YinYangCode
    except ImportError:
        return []
    from helix_media.dna.nucleotides import from_strings

    n = min(n, 400)
    rows = []
    random.seed(0)  # Yin-Yang pairs blocks at random
    index_bits = max(1, int(n).bit_length())
    for label, code, seg_bits, data_bits in (
        ("grass (Chamaeleo), 144 nt", Grass(), 256, 256),
        ("yin-yang (Chamaeleo)", YinYangCode(), LENGTH, LENGTH - index_bits),
    ):
        bits = blocks_of(data, data_bits, n)
        if not len(bits):
            continue
        idx = (np.arange(len(bits))[:, None] >> np.arange(index_bits - 1, -1, -1)) & 1
        segs = np.concatenate([idx, bits], axis=1) if seg_bits > data_bits else bits
        seg_list = [list(map(int, s)) for s in segs]
        t = time.perf_counter()
        dna = code.encode([list(s) for s in seg_list])
        t_enc = time.perf_counter() - t
        t = time.perf_counter()
        back = code.decode(dna)
        t_dec = time.perf_counter() - t
        got = sorted(tuple(b) for b in back)
        bases = from_strings(["".join(s) for s in dna])
        tail = ctx[: len(bases), -5:]
        rows.append(
            (
                label,
                {
                    "bits_nt": len(bits) * data_bits / bases.size,
                    **block_figures(bases, tail, constraints),
                    "pad": None,
                    "fallback": None,
                    "enc": len(bits) / t_enc,
                    "dec": len(bits) / t_dec,
                    "roundtrip": got == sorted(tuple(s) for s in seg_list),
                    "n": len(bits),
                },
            )
        )
    return rows


# -- library gain ----------------------------------------------------------------------------
def best_fitting_bits(make, data: bytes, ctx: np.ndarray, lo: int = 250) -> int:
    """Highest data bits per block with <= 1 % of blocks in the fallback (bisection)."""
    hi = make(10_000).capacity(LENGTH)  # capped by the fallback's worst-case capacity

    def fits(c: int) -> bool:
        coder = make(c)
        bits = blocks_of(data, c, len(ctx))
        coder.encode(bits, LENGTH, ctx[: len(bits)])
        return float(np.mean(coder.last_stats.index < 0)) <= 0.01

    if not fits(lo):
        return lo - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid - 1)
    return lo


# -- output ----------------------------------------------------------------------------------
HEADER = (
    f"{'method':<26}{'bits/nt':>8}{'GC dev':>7}{'max hom':>8}{'pad %':>6}{'fallb %':>8}"
    f"{'viol %':>7}{'enc/s':>11}{'dec/s':>11}"
)


def _fmt(label: str, r: dict) -> str:
    def pct(v):
        return "-" if v is None else f"{100 * v:.1f}"

    flag = "" if r["roundtrip"] else "  ROUND TRIP FAILED"
    return (
        f"{label:<26}{r['bits_nt']:>8.3f}{r['gc_dev']:>7.3f}{r['max_run']:>8d}{pct(r['pad']):>6}"
        f"{pct(r['fallback']):>8}{pct(r['viol']):>7}{r['enc']:>11,.0f}{r['dec']:>11,.0f}{flag}"
    )


def run(*, strands: int, external: bool = True) -> int:
    """Print both tables on up to ``strands`` blocks per data set; ``external``: Chamaeleo's
    rows too, where it is installed."""
    n = strands
    fr, ctx = contexts(n)
    cons = fr.constraints
    rows = coder_rows(cons)
    n_bytes = n * 2 * LENGTH // 8 + 64
    print(f"Constraint coders, {LENGTH}-nt blocks, up to {n} blocks per data set, helix framer")
    print("contexts (5' primer + address); the paper's Table 3: naive 2.00/0.154/12/0, +Kronecker")
    print("only 2.00/0.048/7/0, +FSM only 1.68/0.112/3/16, TK-SCONE 1.91/0.006/3/0")
    streams = {}
    for key, title, load in DATASETS:
        data = load(n_bytes)
        print()
        if data is None:
            reason = "tokenizer not built yet" if key == "(a)" else "sample clip missing"
            print(f"{key} {title}: n/a ({reason})")
            continue
        streams[f"{key} {title}"] = data
        print(f"{key} {title}")
        print(HEADER)
        for label, coder in rows:
            r = measure(coder, data, ctx, cons)
            if r is not None:
                print(_fmt(label, r))
        if external:
            for label, r in external_rows(data, n, ctx, cons):
                print(_fmt(label, r))
    print()
    print("Library gain: highest data bits per block with <= 1 % fallback (bits/nt)")
    print(f"{'data':<42}{'FSM only':>13}{'fixed':>13}{'library':>13}{'gain':>8}")
    makers = (
        lambda c: plugins.get_coder(
            "tk-scone", constraints=cons, index_bits=1, mixing=False, design_bits=c
        ),
        lambda c: plugins.get_coder("tk-scone", constraints=cons, index_bits=1, design_bits=c),
        lambda c: plugins.get_coder("tk-scone", constraints=cons, search="first", design_bits=c),
    )
    for title, data in streams.items():
        if not any(data):
            continue  # all-zero: linear mixing keeps zero, every configuration falls back
        m = min(n, 1000)
        c = [best_fitting_bits(make, data, ctx[:m]) for make in makers]
        cells = "".join(f"{v:>5d} ({v / LENGTH:.3f})" if v >= 250 else f"{'< 250':>13}" for v in c)
        print(f"{title.split(' (')[0][:41]:<42}{cells}{100 * (c[2] / c[1] - 1):>+7.1f}%")
    return 0
