"""``helix bench helix``: the HELIX quality ladder per clip, against the ``bitstream`` codec.

For each clip (first ``--frames`` frames, scaled to at most ``--max-width``) and each helix
quality level (rung) of its enhancement (``--enhancement``: x265, the default, or learned):
strands (per layer), nucleotides and dollars per frame, RGB PSNR and MS-SSIM at the rung's
default masks, at mask 0 (base and layers), with 5 % of all strands deleted at random (mean of
three draws; with the outer codes helix puts on its streams at levels with enhancements, and
with every stream's outer code off) and decoded from the base layer's strands alone
(``--layers 1``); x265's curve over CRFs 21-51 (and at three CRFs with 5 % of strands lost: it
has no outer code either), x265's PSNR at each rung's strand count, and the BD-rate in strands
(``--plot FILE.png`` draws the curves); then encode and decode speed per rung at 256x256.
Clips: the bundled sample (``helix_media/data/sample.mp4``) and every ``data/eval/*.mp4`` of
the current directory (made there by ``python -m helix_media_builtins.codecs.helix.train prepare``),
or ``--clips``.
"""

from __future__ import annotations

import re
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
from helix_media.media.metrics import ms_ssim, psnr
from helix_media.media.video_io import open_video
from helix_media.resources import sample_clip
from helix_media.strandio.strand_files import read_strands, write_strands

BITSTREAM_CRFS = (21, 24, 27, 30, 33, 36, 39, 42, 45, 48, 51)
LOSS_SEEDS = (1, 2, 3)
X265_LOSS_CRFS = (45, 36, 24)  # x265 with 5 % of strands lost: low, middle, top


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


def lost_quality(out: str, tmp: Path, ref: list[np.ndarray]) -> tuple[tuple, str]:
    """Quality with 5 % of the strands of ``out`` deleted at random, averaged over
    ``LOSS_SEEDS`` draws (one draw moves PSNR by a few tenths of a dB) -> (quality, note)."""
    lossy = str(tmp / "lossy.dnapkt")
    qs, dropped, concealed = [], 0, 0
    for seed in LOSS_SEEDS:
        dropped += drop_strands(out, lossy, 0.05, seed)
        media = decode_media(lossy)
        qs.append(quality(ref, media.frames))
        concealed += len(media.result.concealed_frames)
    n = len(LOSS_SEEDS)
    note = f"{dropped / n:.0f} strands deleted, {concealed / n:.1f} frames concealed ({n} draws)"
    return tuple(np.mean(qs, axis=0)), note


def encode_decode(
    ref_path: Path, out: str, quality: int, stream_redundancy=None, **options
) -> tuple:
    """Encode the reference with helix at ``quality``, decode it -> (encode result, frames);
    the outer codes are helix's own (redundancy 0: none of the default's on other streams)."""
    r = encode_video(
        str(ref_path),
        out,
        codec="helix",
        quality=quality,
        audio=False,
        redundancy=0,
        stream_redundancy=stream_redundancy,
        codec_options=options,
    )
    return r, decode_media(out).frames


def bench_clip(
    path: str, tmp: Path, frames: int, max_width: int, enhancement: str
) -> tuple[list[dict], list]:
    """One clip: per quality level (rung) of helix, the rung at its default mask, at mask 0,
    with 5 % of strands lost (with helix's outer codes and without any) and from the
    base layer's strands alone; then x265's curve."""
    ref_path = tmp / "ref.mkv"
    ref = reference_clip(path, ref_path, frames, max_width)
    n = len(ref)
    out = str(tmp / "x.dnapkt")
    rows = []
    helix = plugins.get_codec("helix")
    for q in range(1, rungs(enhancement) + 1):
        r, decoded = encode_decode(ref_path, out, q, enhancement=enhancement)
        layers = {k: v["strands"] for k, v in r.metadata["streams"].items()}
        rows.append(row(f"helix q{q}", r, n, quality(ref, decoded), layer_note(layers)))
        rows.append(row(f"helix q{q}, 5 % strands lost", r, n, *lost_quality(out, tmp, ref)))
        bare = {k: 0.0 for k in helix.stream_redundancy(q, enhancement=enhancement)}
        r, decoded = encode_decode(
            ref_path, out, q, stream_redundancy=bare, enhancement=enhancement
        )
        rows.append(row(f"helix q{q}, no outer code", r, n, quality(ref, decoded)))
        rows.append(
            row(f"helix q{q}, no outer code, 5 % strands lost", r, n, *lost_quality(out, tmp, ref))
        )
        if q > 1:
            media = decode_media(out, layers=1)
            rows.append(
                row(
                    f"helix q{q}, base layer only",
                    r,
                    n,
                    quality(ref, media.frames),
                    f"--layers 1: {len(media.frames)} frames, "
                    f"{len(media.result.concealed_frames)} concealed",
                )
            )
        r, decoded = encode_decode(
            ref_path, out, q, mask=0.0, layer_mask=0.0, enhancement=enhancement
        )
        rows.append(row(f"helix q{q}, mask 0", r, n, quality(ref, decoded)))
    x265 = []
    for crf in BITSTREAM_CRFS:
        r = encode_video(  # the yardstick (x265, not bitstream's default) without an outer
            str(ref_path),  # code, as the helix rows without one
            out,
            codec="bitstream",
            quality=crf,
            audio=False,
            redundancy=0,
            codec_options={"video_codec": "libx265"},
        )
        x265.append(row(f"bitstream x265 CRF {crf}", r, n, quality(ref, decode_media(out).frames)))
        if crf in X265_LOSS_CRFS:  # the yardstick's own loss, for the rows above
            name = f"bitstream x265 CRF {crf}, 5 % strands lost"
            rows.append(row(name, r, n, *lost_quality(out, tmp, ref)))
    return rows, x265


def rungs(enhancement: str) -> int:
    """helix's quality levels with the installed models and this enhancement."""
    return plugins.get_codec("helix").rungs(enhancement=enhancement)


def layer_note(strands: dict[str, int]) -> str:
    """Strands per layer, base first."""
    return "layers: " + " + ".join(str(v) for k, v in strands.items() if k.startswith("video"))


def x265_at(x265: list[dict], strands: float) -> float | None:
    """x265's PSNR at ``strands``, interpolated on its curve (log strands); None outside it."""
    pts = sorted((np.log(r["strands"]), r["psnr"]) for r in x265)
    xs, ys = zip(*pts, strict=True)
    x = np.log(strands)
    return float(np.interp(x, xs, ys)) if xs[0] <= x <= xs[-1] else None


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


def plot(curves: dict[str, tuple[list[dict], list[dict], list[dict]]], path: Path) -> None:
    """RD plot: strands per frame against PSNR, helix (its quality levels at their default
    mask and at mask 0) and x265 (CRFs)."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for k, (clip, (helix, helix0, x265)) in enumerate(curves.items()):
        color = f"C{k}"
        for rows, style, label in (
            (helix, "o-", "helix quality 1…R"),
            (helix0, "^:", "helix, mask 0"),
            (x265, "s--", "x265"),
        ):
            pts = sorted((r["strands"] / r["frames"], r["psnr"]) for r in rows)
            ax.plot(*zip(*pts, strict=True), style, color=color, label=f"{clip}: {label}")
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1, 2, 5)))
    ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("strands per frame (240 nt each)")
    ax.set_ylabel("RGB PSNR, dB")
    ax.set_title("helix and x265 in DNA (helix bench helix)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)


def ladder_effects(rows: list[dict], enhancement: str) -> list[tuple]:
    """Per rung: (rung, strands, PSNR, strands change of default masks vs 0, its PSNR change, PSNR
    change with 5 % of strands lost, strands change without any outer code, PSNR change with 5 %
    of those strands lost, PSNR from the base layer alone)."""
    by = {r["setting"]: r for r in rows}
    out = []
    for q in range(1, rungs(enhancement) + 1):
        m, m0 = by[f"helix q{q}"], by[f"helix q{q}, mask 0"]
        lost = by[f"helix q{q}, 5 % strands lost"]
        bare = by[f"helix q{q}, no outer code"]
        bare_lost = by[f"helix q{q}, no outer code, 5 % strands lost"]
        base = by.get(f"helix q{q}, base layer only")
        out.append(
            (
                q,
                m["strands"],
                m["psnr"],
                m["strands"] / m0["strands"] - 1,
                m["psnr"] - m0["psnr"],
                lost["psnr"] - m["psnr"],
                bare["strands"] / m["strands"] - 1,
                bare_lost["psnr"] - bare["psnr"],
                base["psnr"] if base else m["psnr"],
            )
        )
    return out


def speed(path: str, tmp: Path, frames: int, enhancement: str) -> list[tuple[int, float, float]]:
    """Per rung: (rung, encode fps, decode fps) of helix on a 256 x 256 crop."""
    ref_path = tmp / "speed.mkv"
    n = len(reference_clip(path, ref_path, frames, 0, size=256))
    out = str(tmp / "speed.dnapkt")
    encode_video(str(ref_path), out, codec="helix", quality=1, audio=False)  # warm-up: models
    result = []
    for q in range(1, rungs(enhancement) + 1):
        t = time.perf_counter()
        encode_video(
            str(ref_path),
            out,
            codec="helix",
            quality=q,
            audio=False,
            codec_options={"enhancement": enhancement},
        )
        enc = time.perf_counter() - t
        t = time.perf_counter()
        decode_media(out)
        result.append((q, n / enc, n / (time.perf_counter() - t)))
    return result


def run(
    *,
    clips: list[str] | None,
    frames: int,
    max_width: int,
    plot_path: Path | None = None,
    enhancement: str,
) -> int:
    """Print the tables for ``clips`` (None: the sample and ``data/eval/*.mp4``); ``plot_path``:
    draw the RD curves there."""
    clips = clips or [str(sample_clip()), *map(str, sorted(Path("data/eval").glob("*.mp4")))]
    print(
        "| clip | setting | strands | data strands | nt/frame | $/frame | PSNR dB | MS-SSIM "
        "| note |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    curves = {}
    with tempfile.TemporaryDirectory() as tmp:
        for clip in clips:
            rows, x265 = bench_clip(clip, Path(tmp), frames, max_width, enhancement)
            curves[Path(clip).name] = (rows, x265)
            for r in rows + x265:
                print(
                    f"| {Path(clip).name} | {r['setting']} | {r['strands']} | "
                    f"{r['data_strands']} | {r['nt_per_frame']:.0f} | {r['usd_per_frame']:.3f} | "
                    f"{r['psnr']:.2f} | {r['ms_ssim']:.4f} | {r['note']} |",
                    flush=True,
                )
        print(
            "\n| clip | quality | strands | PSNR dB | x265 at equal strands | default masks vs 0: "
            "strands, PSNR | 5 % strands lost | no outer code: strands, 5 % lost "
            "| base layer alone |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for name, (rows, x265) in curves.items():
            for q, strands, db, dstrands, ddb, dlost, bstrands, blost, base in ladder_effects(
                rows, enhancement
            ):
                x = x265_at(x265, strands)
                print(
                    f"| {name} | {q} | {strands} | {db:.2f} | "
                    f"{'—' if x is None else f'{x:.2f}'} | {dstrands:+.1%}, {ddb:+.2f} dB | "
                    f"{dlost:+.2f} dB | {bstrands:+.1%}, {blost:+.2f} dB | {base:.2f} |"
                )
        print(
            "\n| clip | helix quality 1 → top, PSNR dB | BD-rate in strands, helix vs x265 "
            "| the same at mask 0 | the same without outer code (as x265) |"
        )
        print("|---|---|---|---|---|")
        for name, (rows, x265) in curves.items():
            helix = ladder(rows)
            bds = [
                bd_rate(*([(r["strands"], r["psnr"]) for r in rs] for rs in (x265, curve)))
                for curve in (helix, ladder(rows, ", mask 0"), ladder(rows, ", no outer code"))
            ]
            span = f"{helix[0]['psnr']:.1f} → {helix[-1]['psnr']:.1f}"
            cells = " | ".join("—" if bd is None else f"{bd:+.0%}" for bd in bds)
            print(f"| {name} | {span} | {cells} |")
        if plot_path:
            plot(
                {
                    k: (ladder(rows), ladder(rows, ", mask 0"), x265)
                    for k, (rows, x265) in curves.items()
                },
                plot_path,
            )
            print(f"\nRD plot: {plot_path}")
        print(f"\n| quality | encode fps | decode fps |  (256 x 256, CPU, {Path(clips[0]).name})")
        print("|---|---|---|")
        for q, enc, dec in speed(clips[0], Path(tmp), frames, enhancement):
            print(f"| {q} | {enc:.1f} | {dec:.1f} |")
    return 0


def ladder(rows: list[dict], variant: str = "") -> list[dict]:
    """The rungs at their default mask (or ``variant``, e.g. ", mask 0"), lowest first."""
    return [r for r in rows if re.fullmatch(rf"helix q\d+{re.escape(variant)}", r["setting"])]
