"""``helix bench cost``: what a minute of video costs in DNA, per codec setting.

For each clip (the bundled sample and every ``data/eval/*.mp4`` of the current directory, made
there by ``python -m helix_media_builtins.codecs.helix.train prepare``, or ``--clips``; the first
``--frames`` frames, scaled to at most ``--max-width``, at the clip's own frame rate) and each
codec setting of :data:`SETTINGS`: an RD curve over CRFs (helix: its quality levels 2-7)
measured in real strands, each point a real archive made by the normal encode path
(:func:`helix_media.archive.encode.encode_video`, audio off, every setting with the same outer
code, ``--redundancy``, helix with the outer codes it puts on its streams) and decoded back
(RGB PSNR against the frames encoded). Each curve is interpolated piecewise linearly in log
strands against PSNR (never extrapolated) at 33, 35 and 38 dB: strands, nucleotides and
dollars per minute of video (``--usd-per-nt``, an assumption), and the saving against the
reference, 1032ac2's default ``bitstream`` (x265 medium), at 35 dB. ``--plot FILE.png`` draws
the curves. Then each setting's encode speed (the codec alone) on a 640x360 clip (an
evaluation clip that wide scaled down, else the sample scaled up), and ``--target-psnr`` per
clip with the default settings. ``--quick``: the reference and the default only, 3 CRFs, 16
frames, the first clip (the tests run it).
"""

from __future__ import annotations

import functools
import os
import tempfile
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from helix_media import plugins
from helix_media.archive.decode import decode_media
from helix_media.archive.encode import encode_video
from helix_media.archive.probe import DEFAULT_PRICE_PER_STRAND
from helix_media.media.codec import VideoInfo
from helix_media.media.metrics import psnr
from helix_media.resources import sample_clip

TARGETS = (33.0, 35.0, 38.0)
#: $ per nucleotide: the project's price of a strand (DEFAULT_PRICE_PER_STRAND, $0.014 an oligo
#: of up to ~300 nt as the HELIX paper quotes it) spread over the 240-nt strand. An
#: assumption: vendors' prices for oligo pools differ by an order of magnitude and fall
#: every year, so set your own with --usd-per-nt.
USD_PER_NT = DEFAULT_PRICE_PER_STRAND / 240
X265_CRFS = (16, 20, 24, 28, 32, 36)
SVT_CRFS = (24, 32, 40, 48, 56, 63)
HELIX_LEVELS = (2, 3, 4, 5, 6, 7)
SPEED_SIZE = (640, 360)
CRF_RANGE = {"libx265": (0, 51), "libx264": (0, 51), "libsvtav1": (1, 63)}


@dataclass(frozen=True)
class Setting:
    """One codec setting: the codec, its options, the CRFs (helix: levels) of its curve."""

    name: str
    options: dict = field(default_factory=dict)
    crfs: tuple[int, ...] = SVT_CRFS
    codec: str = "bitstream"
    quick: bool = False  # in --quick

    @property
    def default(self) -> bool:
        """True for the bitstream codec's default settings (as its encoder records them)."""
        return self.codec == "bitstream" and encoder_settings(self.options) == encoder_settings({})


@functools.cache
def _settings(options: tuple) -> tuple:
    enc = plugins.get_codec("bitstream").encoder(VideoInfo(64, 64, Fraction(24)), **dict(options))
    params = enc.params
    enc.encode(None)
    return tuple(params.get(k) for k in ("video_codec", "preset", "pix_fmt", "gop"))


def encoder_settings(options: dict) -> tuple:
    """(video codec, preset, pixel format, GOP) that bitstream records for ``options``."""
    return _settings(tuple(sorted(options.items())))


def _svt(preset: int, **extra) -> dict:
    return {"video_codec": "libsvtav1", "preset": str(preset), **extra}


SETTINGS = (
    Setting("x265 medium (1032ac2's default)", {"video_codec": "libx265"}, X265_CRFS, quick=True),
    Setting("x265 slower", {"video_codec": "libx265", "preset": "slower"}, X265_CRFS),
    Setting("x265 veryslow", {"video_codec": "libx265", "preset": "veryslow"}, X265_CRFS),
    Setting("x265 medium, GOP 32", {"video_codec": "libx265", "gop": 32}, X265_CRFS),
    Setting("SVT-AV1 preset 8", _svt(8)),
    Setting("SVT-AV1 preset 4", _svt(4)),
    Setting("SVT-AV1 preset 3", _svt(3)),
    Setting("SVT-AV1 preset 2", _svt(2)),
    Setting("SVT-AV1 preset 1", _svt(1), quick=True),
    Setting("SVT-AV1 preset 0", _svt(0)),
    Setting("SVT-AV1 preset 3, 10-bit", _svt(3, pix_fmt="yuv420p10le")),
    Setting("SVT-AV1 preset 1, 10-bit", _svt(1, pix_fmt="yuv420p10le")),
    Setting("SVT-AV1 preset 1, GOP 32", _svt(1, gop=32)),
    Setting("SVT-AV1 preset 1, GOP 64", _svt(1, gop=64)),
    Setting("helix levels 2-7 (x265 medium over the base)", {}, HELIX_LEVELS, codec="helix"),
)
REFERENCE = SETTINGS[0].name


def reference_clip(src: str, out: Path, frames: int, max_width: int, size=None) -> tuple:
    """The first ``frames`` frames of ``src`` (at most ``max_width`` wide, or exactly
    ``size``), written losslessly (FFV1, RGB) to ``out`` at the clip's own rate -> (RGB
    arrays, the rate)."""
    imgs = []
    with av.open(src) as c:
        stream = c.streams.video[0]
        rate = Fraction(stream.average_rate or 24).limit_denominator(1001)
        for f in c.decode(stream):
            if size is None:
                w = min(max_width, f.width) // 2 * 2
                h = round(f.height * w / f.width) // 2 * 2
            else:
                w, h = size
            imgs.append(f.reformat(width=w, height=h, format="rgb24").to_ndarray())
            if len(imgs) == frames:
                break
    with av.open(str(out), "w") as c:
        s = c.add_stream("ffv1", rate=rate)
        s.width, s.height, s.pix_fmt = imgs[0].shape[1], imgs[0].shape[0], "bgr0"
        for a in imgs:
            c.mux(s.encode(av.VideoFrame.from_ndarray(a, format="rgb24")))
        c.mux(s.encode(None))
    return imgs, rate


def point(setting: Setting, crf: int, ref_path: Path, ref: list, tmp: Path, redundancy: float):
    """One archive: (strands, nt, PSNR dB)."""
    out = str(tmp / "point.dnapkt")
    if setting.codec == "helix":
        r = encode_video(  # with helix's own outer codes (0.1 on each layer), no other
            str(ref_path), out, codec="helix", quality=crf, audio=False, redundancy=0
        )
    else:
        r = encode_video(
            str(ref_path),
            out,
            codec="bitstream",
            quality=crf,
            audio=False,
            redundancy=redundancy,
            codec_options=setting.options,
        )
    frames = decode_media(out).frames
    return int(r.strands.shape[0]), int(r.strands.size), mean_psnr(ref, frames)


def mean_psnr(ref: list[np.ndarray], frames: list) -> float:
    """Mean RGB PSNR of the decoded ``frames`` against the reference arrays."""
    pairs = zip(ref, frames, strict=True)
    return float(np.mean([psnr(a, f.to_ndarray(format="rgb24")) for a, f in pairs]))


def curve(setting: Setting, ref_path, ref, tmp, redundancy, crfs) -> list[tuple]:
    """(CRF, strands, nt, PSNR) over ``crfs``, extended (bitstream) until it spans the
    targets: lower CRFs while the best PSNR is under the top target, higher ones while the
    worst is over the bottom one."""
    pts = {c: point(setting, c, ref_path, ref, tmp, redundancy) for c in crfs}
    if setting.codec == "bitstream" and len(crfs) > 3:
        min_crf, max_crf = CRF_RANGE.get(encoder_settings(setting.options)[0], (0, 51))
        step = crfs[1] - crfs[0]
        for _ in range(3):
            lo, hi = min(pts), max(pts)
            if max(p[2] for p in pts.values()) < TARGETS[-1] + 0.3 and lo > min_crf:
                c = max(min_crf, lo - step)
                pts[c] = point(setting, c, ref_path, ref, tmp, redundancy)
            elif min(p[2] for p in pts.values()) > TARGETS[0] - 0.3 and hi < max_crf:
                c = min(max_crf, hi + step)
                pts[c] = point(setting, c, ref_path, ref, tmp, redundancy)
    return [(c, *pts[c]) for c in sorted(pts)]


def strands_at(points: list[tuple], db: float) -> float | None:
    """Strands at ``db`` on a curve of (CRF, strands, nt, PSNR): piecewise linear in log
    strands against PSNR over the points whose PSNR rises with strands; None outside."""
    xs, ys = [], []
    for _, strands, _, q in sorted(points, key=lambda p: p[1]):
        if not xs or q > xs[-1]:
            xs.append(q)
            ys.append(np.log(strands))
    if len(xs) < 2 or not xs[0] <= db <= xs[-1]:
        return None
    return float(np.exp(np.interp(db, xs, ys)))


def speed(setting: Setting, path: Path, frames: int) -> tuple[float, float] | None:
    """(frames per second, CPU seconds per frame, all threads) of the setting's encoder alone
    on the 640x360 clip ``path``, at the middle of its CRFs (helix: not measured here, see
    helix bench helix). The CPU time does not depend on what else the machine runs; the
    frame rate does."""
    if setting.codec != "bitstream":
        return None
    with av.open(str(path)) as c:
        src = list(c.decode(video=0))[:frames]
    info = VideoInfo(src[0].width, src[0].height, Fraction(24), len(src))
    crf = setting.crfs[len(setting.crfs) // 2]
    t, cpu = time.perf_counter(), time.process_time()
    enc = plugins.get_codec("bitstream").encoder(info, quality=crf, **setting.options)
    for f in src:
        enc.encode(f)
    enc.encode(None)
    return len(src) / (time.perf_counter() - t), (time.process_time() - cpu) / len(src)


def speed_clip(clips: list[str], tmp: Path, frames: int) -> tuple[Path, str]:
    """A 640x360 clip: the first clip at least that wide, scaled down, else the first clip
    scaled to it."""
    wide = [c for c in clips if _width(c) >= SPEED_SIZE[0]] or clips[:1]
    out = tmp / "speed.mkv"
    reference_clip(wide[0], out, frames, 0, size=SPEED_SIZE)
    return out, Path(wide[0]).name


def _width(path: str) -> int:
    with av.open(path) as c:
        return c.streams.video[0].width


def per_minute(strands: float, frames: int, rate: Fraction, nt_per_strand: int) -> tuple:
    """Strands, nt of a minute of video at the clip's rate."""
    s = strands / frames * float(rate) * 60
    return s, s * nt_per_strand


def plot(
    curves: dict[str, dict[str, list[tuple]]], frames: dict[str, int], defaults, path: Path
) -> None:
    """One panel per clip: PSNR against strands per frame (log), every setting; x265 dashed,
    SVT-AV1 solid (10-bit dash-dotted, longer GOPs dotted), helix dotted, the default bold."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(4.6 * len(curves) + 3, 4.6), dpi=100)
    names = list(next(iter(curves.values())))
    colors = {n: plt.get_cmap("tab20")(k % 20) for k, n in enumerate(names)}
    for ax, (clip, by_setting) in zip(np.atleast_1d(axes), curves.items(), strict=True):
        for name, pts in by_setting.items():
            ls = "--" if name.startswith("x265") else ":" if "GOP" in name else "-"
            ls = "-." if "10-bit" in name else ls
            ls, marker = (":", "^") if name.startswith("helix") else (ls, ".")
            color, width = ("black", 1.5) if name == REFERENCE else (colors[name], 1.2)
            width = 2.8 if name in defaults else width
            label = f"{name} (default)" if name in defaults else name
            xs = [p[1] / frames[clip] for p in pts]
            ax.plot(xs, [p[3] for p in pts], ls=ls, marker=marker, color=color, lw=width,
                    label=label)  # fmt: skip
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1, 2, 5)))
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        for db in TARGETS:
            ax.axhline(db, color="grey", lw=0.5)
        ax.set_title(f"{clip} ({frames[clip]} frames)")
        ax.set_xlabel("strands per frame (metadata and outer code included)")
        ax.set_ylabel("RGB PSNR, dB")
        ax.grid(True, which="both", alpha=0.3)
        ax.set_ylim(30, 41)
    handles, labels = np.atleast_1d(axes)[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize=7)
    fig.suptitle("helix bench cost: RD curves in DNA strands")
    fig.tight_layout(rect=(0, 0, 1 - 2.9 / (4.6 * len(curves) + 3), 1))
    fig.savefig(path)


def run(
    *,
    clips: list[str] | None,
    frames: int | None,
    max_width: int,
    redundancy: float,
    usd_per_nt: float,
    only: list[str] | None = None,
    target_psnr: float,
    plot_path: Path | None = None,
    quick: bool = False,
) -> int:
    """Print the tables (see the module's text). ``clips`` None: the sample and
    ``data/eval/*.mp4``; ``frames`` None: 48 (16 with ``quick``); ``only``: the settings
    whose name contains one of these (and the reference); ``target_psnr`` 0: no target run;
    ``plot_path``: draw the curves there."""
    frames = frames or (16 if quick else 48)
    clips = clips or [str(sample_clip()), *map(str, sorted(Path("data/eval").glob("*.mp4")))]
    chosen = [s for s in SETTINGS if not quick or s.quick]
    if only:
        keep = (REFERENCE, *only)
        chosen = [s for s in chosen if any(k in s.name for k in keep)]
    if quick:
        clips = clips[:1]
    os.environ.setdefault("SVT_LOG", "1")
    curves: dict[str, dict[str, list[tuple]]] = {}
    info: dict[str, tuple] = {}
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        for clip in clips:
            name = Path(clip).name
            ref_path = tmp / f"{Path(clip).stem}.mkv"
            ref, rate = reference_clip(clip, ref_path, frames, max_width)
            info[name] = (len(ref), rate, ref[0].shape, ref_path, ref)
            curves[name] = {}
            for s in chosen:
                crfs = s.crfs[1::2] if quick else s.crfs
                curves[name][s.name] = curve(s, ref_path, ref, tmp, redundancy, crfs)
                pts = " ".join(f"{c}: {n} / {q:.2f}" for c, n, _, q in curves[name][s.name])
                print(f"{name} | {s.name} | CRF: strands / dB | {pts}", flush=True)
        first = next(iter(next(iter(curves.values())).values()))[0]
        nt_per_strand = first[2] // first[1]
        print(
            f"\nPer minute of video at each clip's size and rate ({nt_per_strand}-nt strands, "
            f"bitstream with --redundancy {redundancy:g}, helix with its own outer codes); "
            f"$ at an assumed ${usd_per_nt:.3g} per nt (--usd-per-nt)"
        )
        print_table(curves, info, chosen, usd_per_nt, nt_per_strand)
        if plot_path:
            defaults = {s.name for s in chosen if s.default}
            plot(curves, {k: v[0] for k, v in info.items()}, defaults, plot_path)
            print(f"\nRD plot: {plot_path}")
        path, source = speed_clip(clips, tmp, 8 if quick else 48)
        load = os.getloadavg()[0]
        print(
            f"\n| setting | encode fps at 640x360 | CPU s per frame |  ({source} scaled, "
            f"codec alone, {os.cpu_count()} cores, load average {load:.1f} before)"
        )
        print("|---|---|---|")
        for s in chosen:
            fps = speed(s, path, 8 if quick else 48)
            cells = "— | —" if fps is None else f"{fps[0]:.1f} | {fps[1]:.3f}"
            print(f"| {s.name}{' (default)' if s.default else ''} | {cells} |", flush=True)
        if target_psnr:
            target_runs(curves, info, chosen, target_psnr, redundancy, tmp)
    return 0


def print_table(curves, info, settings, usd_per_nt: float, nt_per_strand: int) -> None:
    """Per clip and setting: strands, nt and $ per minute at each target, saving at 35 dB."""
    heads = " | ".join(f"{db:g} dB: strands/min, Mnt/min, $/min" for db in TARGETS)
    print(f"\n| clip | setting | {heads} | vs reference at 35 dB |")
    print("|---|---|" + "---|" * (len(TARGETS) + 1))
    for clip, by_setting in curves.items():
        n, rate = info[clip][:2]
        ref35 = strands_at(by_setting.get(REFERENCE, []), 35.0) if REFERENCE in by_setting else None
        for s in settings:
            cells = []
            for db in TARGETS:
                x = strands_at(by_setting[s.name], db)
                if x is None:
                    cells.append("—")
                    continue
                per_min, nt = per_minute(x, n, rate, nt_per_strand)
                cells.append(f"{per_min:,.0f}, {nt / 1e6:.2f}, ${nt * usd_per_nt:,.0f}")
            x35 = strands_at(by_setting[s.name], 35.0)
            saving = "—" if x35 is None or ref35 is None else f"{x35 / ref35 - 1:+.1%}"
            label = f"{s.name}{' (default)' if s.default else ''}"
            print(f"| {clip} | {label} | {' | '.join(cells)} | {saving} |", flush=True)


def target_runs(curves, info, settings, target: float, redundancy: float, tmp: Path) -> None:
    """``target_psnr`` per clip with the default settings: PSNR reached (measured here, and as
    the encoder reports it), strands, and the default setting's strands at that PSNR on its
    fixed-CRF curve."""
    default = next((s for s in settings if s.default), None)
    print(
        f"\n| clip | --target-psnr {target:g}: PSNR dB (encoder's) | strands | CRFs per GOP "
        "| the default's fixed-CRF curve at that PSNR | encode s |"
    )
    print("|---|---|---|---|---|---|")
    for clip, (_, _, _, ref_path, ref) in info.items():
        out = str(tmp / "target.dnapkt")
        t = time.perf_counter()
        r = encode_video(
            str(ref_path),
            out,
            codec="bitstream",
            audio=False,
            redundancy=redundancy,
            codec_options={"target_psnr": target},
        )
        dt = time.perf_counter() - t
        frames = decode_media(out).frames
        q = mean_psnr(ref, frames)
        params = r.metadata["codec_params"]
        crfs = ", ".join(f"{c}×{k}" for c, k in params["crf"])
        fixed = strands_at(curves[clip][default.name], q) if default else None
        cell = "—" if fixed is None else f"{fixed:.0f} ({len(r.strands) / fixed - 1:+.1%})"
        print(
            f"| {clip} | {q:.2f} ({params['psnr']:.2f}) | {len(r.strands)} | {crfs} | {cell} "
            f"| {dt:.1f} |",
            flush=True,
        )
