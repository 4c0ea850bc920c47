"""``helix bench helix``: the HELIX codec per clip, against the ``bitstream`` codec.

For each clip (first ``--frames`` frames, scaled to at most ``--max-width``): strands,
nucleotides and dollars per frame, RGB PSNR and MS-SSIM for helix at masks 0 / 0.4 / 0.6 /
0.7, mask 0.6 without the transformer (missing tokens copied from the nearest received one),
mask 0.6 with 5 % of all strands deleted at random (no outer code), and the bitstream codec at
the CRF whose strand count comes closest to helix at mask 0.6; x265's curve over CRFs 30-51
and the BD-rate in strands (``--plot FILE.png`` draws both curves); then what masking (0.6 against
0) saves in strands (all, and data strands only: the per-file metadata strands do not grow
with the video) and costs in PSNR; then encode and decode speed at 256x256.
Clips: ``examples/sample.mp4`` and every ``data/eval/*.mp4`` (made by
``python -m helix_media_builtins.helix.train prepare``), or ``--clips``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from helix_media import plugins
from helix_media.archive.decode import decode_media
from helix_media.archive.encode import encode_video
from helix_media.archive.probe import DEFAULT_PRICE_PER_STRAND
from helix_media.media.codec import VideoInfo
from helix_media.media.metrics import ms_ssim, psnr
from helix_media.media.video_io import open_video
from helix_media.strandio.strand_files import read_strands, write_strands

MASKS = (0.0, 0.4, 0.6, 0.7)
BITSTREAM_CRFS = (30, 33, 36, 39, 42, 45, 48, 51)


def reference_clip(src: str, out: Path, frames: int, max_width: int, size=None) -> list[np.ndarray]:
    """The first ``frames`` frames of ``src`` (scaled to ``max_width``, or to size x size), written
    losslessly (FFV1) to ``out``; returns them as RGB arrays, the reference for every metric."""
    video = open_video(src)
    imgs = []
    for f in video.frames():
        if size:
            imgs.append(f.reformat(width=size, height=size, format="rgb24").to_ndarray())
        else:
            w = min(max_width, f.width) // 2 * 2
            h = round(f.height * w / f.width) // 2 * 2
            imgs.append(f.reformat(width=w, height=h, format="rgb24").to_ndarray())
        if len(imgs) == frames:
            break
    with av.open(str(out), "w") as c:
        s = c.add_stream("ffv1", rate=Fraction(24))
        s.width, s.height, s.pix_fmt = imgs[0].shape[1], imgs[0].shape[0], "bgr0"
        for a in imgs:
            c.mux(s.encode(av.VideoFrame.from_ndarray(a, format="rgb24")))
        c.mux(s.encode(None))
    return imgs


def quality(ref: list[np.ndarray], frames: list) -> tuple[float, float]:
    out = [f.to_ndarray(format="rgb24") for f in frames]
    return (
        float(np.mean([psnr(a, b) for a, b in zip(ref, out, strict=True)])),
        float(np.mean([ms_ssim(a, b) for a, b in zip(ref, out, strict=True)])),
    )


def row(name: str, r, n_frames: int, q, extra: str = "") -> dict:
    """One table row for encode result ``r`` of ``n_frames`` frames with quality ``q``."""
    strands, strand_nt = r.strands.shape
    return {
        "setting": name,
        "strands": strands,
        "data_strands": r.data_strands,
        "nt_per_frame": strands * strand_nt / n_frames,
        "usd_per_frame": strands * DEFAULT_PRICE_PER_STRAND / n_frames,
        "psnr": q[0],
        "ms_ssim": q[1],
        "note": extra,
        "frames": n_frames,
    }


def drop_strands(src: str, dst: str, share: float, seed: int) -> int:
    header, seqs = read_strands(src)
    rng = np.random.default_rng(seed)
    keep = rng.random(len(seqs)) >= share
    write_strands(dst, np.stack([s for s, k in zip(seqs, keep, strict=True) if k]), header)
    return int((~keep).sum())


def bench_clip(path: str, tmp: Path, frames: int, max_width: int) -> tuple[list[dict], list]:
    """The table's rows for one clip, and its (token, continuous) slices per GOP at mask 0
    and 0.6."""
    ref_path = tmp / "ref.mkv"
    ref = reference_clip(path, ref_path, frames, max_width)
    n = len(ref)
    rows = []
    out = str(tmp / "x.dnapkt")
    helix_strands = {}
    for mask in MASKS:
        r = encode_video(
            str(ref_path), out, codec="helix", audio=False, codec_options={"mask": mask}
        )
        helix_strands[mask] = len(r.strands)
        media = decode_media(out)
        rows.append(row(f"helix mask {mask}", r, n, quality(ref, media.frames)))
        if mask == 0.6:
            media = decode_media(out, decoder_options={"fill": "naive"})
            rows.append(
                row(
                    "helix mask 0.6, no transformer",
                    r,
                    n,
                    quality(ref, media.frames),
                    "nearest received token",
                )
            )
            lossy = str(tmp / "lossy.dnapkt")
            dropped = drop_strands(out, lossy, 0.05, seed=1)
            media = decode_media(lossy)
            rows.append(
                row(
                    "helix mask 0.6, 5 % strands lost",
                    r,
                    n,
                    quality(ref, media.frames),
                    f"{dropped} strands deleted, {len(media.result.concealed_frames)} "
                    "frames concealed",
                )
            )
    best, x265 = None, []
    for crf in BITSTREAM_CRFS:
        r = encode_video(str(ref_path), out, codec="bitstream", quality=crf, audio=False)
        q = quality(ref, decode_media(out).frames)
        x265.append(row(f"bitstream x265 CRF {crf}", r, n, q))
        gap = abs(len(r.strands) - helix_strands[0.6])
        if best is None or gap < best[0]:
            best = (gap, len(x265) - 1)
    rows.append({**x265[best[1]], "note": "CRF closest to helix 0.6 in strands"})
    return rows, [slices_per_gop(ref, m) for m in (0.0, 0.6)], x265


def bd_rate(anchor: list[tuple[float, float]], test: list[tuple[float, float]]) -> float | None:
    """Bjontegaard delta rate: how many more strands (as a fraction) ``test`` needs than
    ``anchor`` for the same PSNR, averaged over the PSNR range both cover; points are
    (strands, PSNR). None when the ranges do not overlap."""
    if len(anchor) < 2 or len(test) < 2:
        return None
    lo = max(min(p for _, p in anchor), min(p for _, p in test))
    hi = min(max(p for _, p in anchor), max(p for _, p in test))
    if hi <= lo:
        return None

    def mean_log_rate(points):
        psnr_, rate = np.array([p for _, p in points]), np.log([s for s, _ in points])
        fit = np.polyint(np.polyfit(psnr_, rate, min(3, len(points) - 1)))
        return (np.polyval(fit, hi) - np.polyval(fit, lo)) / (hi - lo)

    return float(np.exp(mean_log_rate(test) - mean_log_rate(anchor)) - 1)


def plot(curves: dict[str, tuple[list[dict], list[dict]]], path: Path) -> None:
    """RD plot: strands per frame against PSNR, helix (its masks) and x265 (its CRFs)."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for k, (clip, (helix, x265)) in enumerate(curves.items()):
        color = f"C{k}"
        for rows, style, label in ((helix, "o-", "helix, mask 0.7…0"), (x265, "s--", "x265")):
            pts = sorted((r["strands"] / r["frames"], r["psnr"]) for r in rows)
            ax.plot(*zip(*pts, strict=True), style, color=color, label=f"{clip}: {label}")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.xaxis.set_minor_formatter(matplotlib.ticker.ScalarFormatter())
    ax.set_xlabel("strands per frame (240 nt each)")
    ax.set_ylabel("RGB PSNR, dB")
    ax.set_title("helix and x265 in DNA (helix bench helix)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)


def slices_per_gop(ref: list[np.ndarray], mask: float) -> tuple[float, float, float]:
    """(slices, slices holding tokens, slices holding continuous items) per GOP of helix at
    ``mask``: each slice is one strand, and one slice per GOP may hold both kinds."""
    info = VideoInfo(ref[0].shape[1], ref[0].shape[0], Fraction(24), len(ref))
    encoder = plugins.get_codec("helix").encoder(info, mask=mask)
    for a in ref:
        encoder.encode(av.VideoFrame.from_ndarray(a, "rgb24"))
    encoder.encode(None)
    return tuple(np.mean(encoder.slice_kinds, axis=0).tolist())


def masking_gain(rows: list[dict]) -> tuple[float, float, float]:
    """Mask 0.6 against mask 0: relative change of all strands (metadata included) and of
    data strands (what grows with the video's length), and the PSNR change."""
    by = {r["setting"]: r for r in rows}
    m0, m6 = by["helix mask 0.0"], by["helix mask 0.6"]
    return (
        m6["strands"] / m0["strands"] - 1,
        m6["data_strands"] / m0["data_strands"] - 1,
        m6["psnr"] - m0["psnr"],
    )


def speed(path: str, tmp: Path, frames: int) -> tuple[float, float, int]:
    """Encode and decode frames per second of helix (mask 0.6) on a 256x256 crop."""
    ref_path = tmp / "speed.mkv"
    n = len(reference_clip(path, ref_path, frames, 0, size=256))
    out = str(tmp / "speed.dnapkt")
    encode_video(str(ref_path), out, codec="helix", audio=False)  # warm-up: load models
    t = time.perf_counter()
    encode_video(str(ref_path), out, codec="helix", audio=False)
    enc = time.perf_counter() - t
    t = time.perf_counter()
    decode_media(out)
    dec = time.perf_counter() - t
    return n / enc, n / dec, n


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="helix bench helix", description=__doc__.split("\n")[0])
    p.add_argument("--clips", nargs="*")
    p.add_argument("--frames", type=int, default=48)
    p.add_argument("--max-width", type=int, default=320)
    p.add_argument("--plot", type=Path, help="write the RD plot (PNG; needs matplotlib)")
    a = p.parse_args(argv)
    root = Path(__file__).resolve().parents[2]
    clips = a.clips or [
        str(root / "examples/sample.mp4"),
        *map(str, sorted((root / "data/eval").glob("*.mp4"))),
    ]
    print(
        "| clip | setting | strands | data strands | nt/frame | $/frame | PSNR dB | MS-SSIM "
        "| note |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    masking, curves = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for clip in clips:
            rows, kinds, x265 = bench_clip(clip, Path(tmp), a.frames, a.max_width)
            helix = [
                r for r in rows if r["setting"].startswith("helix mask") and "," not in r["setting"]
            ]
            curves[Path(clip).name] = (helix, x265)
            for r in rows:
                print(
                    f"| {Path(clip).name} | {r['setting']} | {r['strands']} | "
                    f"{r['data_strands']} | {r['nt_per_frame']:.0f} | {r['usd_per_frame']:.3f} | "
                    f"{r['psnr']:.2f} | {r['ms_ssim']:.4f} | {r['note']} |",
                    flush=True,
                )
            masking.append((Path(clip).name, *masking_gain(rows), kinds))
        print(
            "\n| clip | strands, mask 0.6 vs 0 | data strands | PSNR change dB "
            "| data strands per GOP, mask 0 → 0.6 | with tokens | with continuous items |"
        )
        print("|---|---|---|---|---|---|---|")
        for name, total, data, dpsnr, ((s0, t0, c0), (s6, t6, c6)) in masking:
            print(
                f"| {name} | {total:+.1%} | {data:+.1%} | {dpsnr:+.2f} | {s0:.1f} → {s6:.1f} "
                f"| {t0:.1f} → {t6:.1f} ({t6 / t0 - 1:+.0%}) | {c0:.1f} → {c6:.1f} |"
            )
        print("\n| clip | x265 CRF → strands, PSNR dB | BD-rate in strands, helix vs x265 |")
        print("|---|---|---|")
        for name, (helix, x265) in curves.items():
            bd = bd_rate(*([(r["strands"], r["psnr"]) for r in rs] for rs in (x265, helix)))
            span = ", ".join(
                f"{r['setting'].split()[-1]}: {r['strands']}, {r['psnr']:.1f}" for r in x265
            )
            top = max(r["psnr"] for r in helix)
            low = min(r["psnr"] for r in x265)
            verdict = (
                f"{bd:+.0%}"
                if bd is not None
                else f"no common PSNR range (helix at most {top:.1f} dB, x265 at least {low:.1f})"
            )
            print(f"| {name} | {span} | {verdict} |")
        if a.plot:
            plot(curves, a.plot)
            print(f"\nRD plot: {a.plot}")
        enc, dec, n = speed(clips[0], Path(tmp), a.frames)
        print(
            f"\nspeed at 256x256 ({n} frames, {Path(clips[0]).name}, mask 0.6, CPU): "
            f"encode {enc:.1f} fps, decode {dec:.1f} fps"
        )
    return 0
