"""``helix bench peers``: our ``raw`` codec side by side with Chamaeleo 1.34's codes, same inputs.

Inputs: N kB of random bytes, of zeros, and of repeated English text. For every method:
net bits per nucleotide (whole strands with 20 + 20 nt primers, and without primers; peers'
strands carry no primers, so 40 nt are added to each for the first figure), the share of
strands inside our synthesis constraints (GC 45-55 %, homopolymer <= 3; no restriction site),
encode and decode seconds, and whether the exact file comes back when 0 / 5 / 10 / 15 % of
the strands are lost at random. Peers run in a child process with a time limit (Chamaeleo's
DNA Fountain never finishes on all-zero input), reported as ``timeout``.
Chamaeleo is optional (``pip install -e ".[bench]"``); without it only our rows are printed.
"""

from __future__ import annotations

import multiprocessing as mp
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

LOSSES = (0.0, 0.05, 0.10, 0.15)
PRIMER_NT = 40
TEXT = b"In the beginning was the word, and the word was stored in DNA for ten thousand years. "


def inputs(kb: int) -> dict[str, bytes]:
    n = kb * 1000
    return {
        "random": np.random.default_rng(0).bytes(n),
        "zeros": bytes(n),
        "text": (TEXT * (n // len(TEXT) + 1))[:n],
    }


def compliance(strands: np.ndarray) -> dict[str, float]:
    """Shares of strands with GC 45-55 %, runs <= 3, and all our constraints."""
    from helix_media.dna.constraints import Constraints, check

    c = Constraints()
    r = check(strands, c)
    gc = (r.gc >= c.gc_min) & (r.gc <= c.gc_max)
    hom = r.max_homopolymer <= c.max_homopolymer
    return {"gc_ok": float(gc.mean()), "hom_ok": float(hom.mean()), "all_ok": float(r.ok(c).mean())}


# -- ours ---------------------------------------------------------------------------------------
def run_ours(data: bytes, redundancy: float, trials: int) -> dict[str, Any]:
    from helix_media import plugins
    from helix_media.archive.decode import file_bytes
    from helix_media.archive.encode import encode_file
    from helix_media.archive.parse import parse_dna, recover_lost
    from helix_media.errors import HelixError

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.bin"
        path.write_bytes(data)
        t = time.perf_counter()
        r = encode_file(str(path), redundancy=redundancy)
        t_enc = time.perf_counter() - t
    fr = plugins.get_framer(None)
    header = {"framer": fr.name, "strand_length": fr.strand_length}

    def decode(strands: np.ndarray) -> bool:
        try:
            _, meta, blocks, stats = parse_dna(header, list(strands), "peers")
            recover_lost(meta, blocks, stats)
            return file_bytes(meta, blocks) == data
        except HelixError:
            return False

    t = time.perf_counter()
    ok0 = decode(r.strands)
    t_dec = time.perf_counter() - t
    n, length = r.strands.shape
    out = {
        "strands": n,
        "nt": length,
        "bits_nt": 8 * len(data) / (n * length),
        "bits_nt_body": 8 * len(data) / (n * (length - PRIMER_NT)),
        **compliance(r.strands),
        "enc_s": t_enc,
        "dec_s": t_dec,
        "loss": {},
    }
    rng = np.random.default_rng(1)
    for loss in LOSSES:
        wins = ok0 if loss == 0 else 0
        if loss:
            for _ in range(trials):
                keep = rng.random(n) >= loss
                wins += decode(r.strands[keep])
        out["loss"][loss] = f"{int(wins)}/{trials if loss else 1}"
    return out


# -- Chamaeleo ------------------------------------------------------------------------------------
def peer_methods() -> dict[str, Any]:
    """Constructors of the peers' codes, by label (empty without Chamaeleo)."""
    try:
        from Chamaeleo.methods.fixed import Goldman, Grass
        from Chamaeleo.methods.flowed import DNAFountain, YinYangCode
    except ImportError:
        return {}
    return {
        "Chamaeleo Goldman": (Goldman, {}, True),
        "Chamaeleo Grass": (Grass, {}, True),
        "Chamaeleo Yin-Yang": (YinYangCode, {}, True),
        "Chamaeleo DNA Fountain 7 %": (DNAFountain, {"redundancy": 0.07}, False),
        "Chamaeleo DNA Fountain 15 %": (DNAFountain, {"redundancy": 0.15}, False),
    }


def _peer_job(label: str, data: bytes, segment: int, trials: int, queue) -> None:
    """Runs in a child process: encode, decode, decode after losses; results to ``queue``."""
    import contextlib
    import io
    import random

    from Chamaeleo.utils.pipelines import TranscodePipeline

    from helix_media.dna.nucleotides import from_strings

    random.seed(0)  # Yin-Yang and the fountain draw from Python's random
    make, kwargs, index = peer_methods()[label]
    kw = {"index": True, "index_length": 16} if index else {"index": False}  # 16-bit aligned
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.bin", Path(tmp) / "out.bin"
        src.write_bytes(data)
        quiet = contextlib.redirect_stdout(io.StringIO())
        with quiet:
            pipe = TranscodePipeline(coding_scheme=make(**kwargs), error_correction=None)
            t = time.perf_counter()
            dna = pipe.transcode(
                direction="t_c", input_path=str(src), segment_length=segment, **kw
            )["dna"]
            t_enc = time.perf_counter() - t
        seqs = ["".join(s) for s in dna]
        strands_nt = sum(len(s) for s in seqs)
        bases = from_strings(seqs) if len({len(s) for s in seqs}) == 1 else None
        comp = (
            compliance(bases)
            if bases is not None
            else {
                k: float(np.mean([compliance(from_strings([s]))[k] for s in seqs]))
                for k in ("gc_ok", "hom_ok", "all_ok")
            }
        )
        queue.put({"strands": len(seqs), "nt": strands_nt / len(seqs), "enc_s": t_enc, **comp})

        def decode(subset: list[str]) -> bool:
            dst.unlink(missing_ok=True)
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    pipe.transcode(
                        direction="t_s",
                        input_string=[list(s) for s in subset],
                        output_path=str(dst),
                        **kw,
                    )
                return dst.exists() and dst.read_bytes() == data
            except (ValueError, IndexError, KeyError, TypeError, ZeroDivisionError):
                return False

        t = time.perf_counter()
        ok0 = decode(seqs)
        queue.put({"dec_s": time.perf_counter() - t, "loss0": ok0})
        rng = np.random.default_rng(1)
        for loss in LOSSES[1:]:
            wins = 0
            for _ in range(trials):
                keep = rng.random(len(seqs)) >= loss
                wins += decode([s for s, k in zip(seqs, keep, strict=True) if k])
            queue.put({"loss": loss, "wins": wins})


def run_peer(label: str, data: bytes, segment: int, trials: int, timeout: float) -> dict:
    """One peer on one input, in a child process killed after ``timeout`` seconds."""
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_peer_job, args=(label, data, segment, trials, queue), daemon=True)
    proc.start()
    out: dict[str, Any] = {"loss": {}}
    deadline = time.monotonic() + timeout
    import queue as queue_mod

    while True:
        try:
            msg = queue.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue_mod.Empty:
            if time.monotonic() >= deadline or not proc.is_alive():
                break
            continue
        if "loss" in msg and "wins" in msg:
            out["loss"][msg["loss"]] = f"{msg['wins']}/{trials}"
        elif "loss0" in msg:
            out["dec_s"] = msg["dec_s"]
            out["loss"][0.0] = f"{int(msg['loss0'])}/1"
        else:
            out.update(msg)
        if len(out["loss"]) == len(LOSSES):
            break
    if proc.is_alive():
        proc.kill()  # our own child, by its handle
        out["timeout"] = True
    proc.join()
    if "strands" in out:
        n, nt = out["strands"], out["nt"]
        out["bits_nt"] = 8 * len(data) / (n * (nt + PRIMER_NT))
        out["bits_nt_body"] = 8 * len(data) / (n * nt)
    return out


# -- output ------------------------------------------------------------------------------------
def _fmt(v: Any, spec: str) -> str:
    return "timeout" if v is None else format(v, spec)


def row(method: str, name: str, r: dict[str, Any]) -> str:
    loss = " / ".join(r["loss"].get(x, "timeout") for x in LOSSES)
    if "strands" not in r:
        return f"| {method} | {name} | timeout | | | | | | {loss} |"
    return (
        f"| {method} | {name} | {r['strands']} × {r['nt']:.0f} | {r['bits_nt']:.3f} | "
        f"{r['bits_nt_body']:.3f} | {100 * r['gc_ok']:.1f} / {100 * r['hom_ok']:.1f} / "
        f"{100 * r['all_ok']:.1f} | {_fmt(r.get('enc_s'), '.2f')} | "
        f"{_fmt(r.get('dec_s'), '.2f')} | {loss} |"
    )


def run(*, kb: int, trials: int, timeout: float, segment: int, external: bool = True) -> int:
    """Print the table on ``kb`` kB inputs; ``external``: Chamaeleo's codes too (when
    installed), each in a child process of at most ``timeout`` seconds per input."""
    data = inputs(kb)
    print(
        "| method | input | strands × nt | bits/nt (with primers) | bits/nt (no primers) | "
        "% GC ok / run ok / all ok | encode s | decode s | exact file at "
        + " / ".join(f"{int(100 * x)}" for x in LOSSES)
        + " % loss |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    run_ours(b"warm-up", 0.1, 1)  # one-time JIT compilation and address tables, not timed
    for label, red in (("helix raw, 10 % outer code", 0.1), ("helix raw, no outer code", 0.0)):
        for name, d in data.items():
            print(row(label, name, run_ours(d, red, trials)), flush=True)
    if external:
        methods = peer_methods()
        if not methods:
            print("(Chamaeleo not installed: pip install -e '.[bench]')")
        for label in methods:
            for name, d in data.items():
                r = run_peer(label, d, segment, trials, timeout)
                print(row(label, name, r), flush=True)
    return 0
