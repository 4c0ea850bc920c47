"""JPEG-DNA (seed 002) beside its "transcoding" baseline and our video codecs.

    helix bench jpeg-dna [--frames N] [--trials T] [--seed S] [--video PATH]

On the first N frames (default 16) of the sample clip, each codec goes through the whole
pipeline (helix framer, 240-nt strands, no outer code, no audio) and back:

1. The paper's Fig. 3: PSNR (RGB, mean over frames) against the payload nucleotides of the
   data strands (152 nt each; addresses, parity and primers excluded), as nt per pixel and as
   the paper's bits/nt: 24 bits per source pixel over payload nt. ``jpeg-dna`` uses the
   ``verbatim`` coder (its stream is DNA already); ``mjpeg`` (the paper's transcoding: JPEG
   bytes) and ``bitstream`` (x265) use the enumerative coder. ``helix`` runs when installed.
   Every strand is checked against the constraints (viol = strands breaking one).
2. Section IV-B: one deletion at a random place in the payload of one strand of the first
   packet (a frame for the intra codecs, a GOP for bitstream), T trials.
   *unprotected* (the paper's model): the strand keeps its length (the rest of its payload
   shifts by one base), Reed-Solomon and CRC are skipped, the packet is decoded as it is.
   Reported: frames hit and the share of their 8x8 blocks lost (mean |difference| from the
   clean decoding above 10 of 255), and their PSNR. *protected*: our pipeline as it is (a
   239-nt strand is dropped, its packet fails the CRC and its frames are concealed).
"""

from __future__ import annotations

import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from helix_media import plugins
from helix_media.archive.decode import decode_media
from helix_media.archive.encode import encode_video
from helix_media.archive.parse import parse_dna
from helix_media.blocks import layout
from helix_media.blocks.whitening import whiten
from helix_media.media.codec import Packet
from helix_media.media.metrics import psnr
from helix_media.resources import sample_clip
from helix_media.strandio.strand_files import read_strands

SAMPLE = sample_clip()
#: (codec, qualities for the curve, quality for the deletion experiment, codec options)
RUNS: tuple[tuple[str, tuple[int | None, ...], int | None, dict[str, Any]], ...] = (
    ("jpeg-dna", (25, 50, 75, 90), 75, {}),
    ("mjpeg", (16, 8, 4, 2), 4, {}),
    ("bitstream", (34, 28, 22), 28, {"video_codec": "libx265"}),  # x265 CRFs, as documented
    ("helix", (1,), 1, {}),  # level 1: the learned base alone, no x265 in it
)
LOST_MAD = 10.0  # an 8x8 block whose mean |difference| exceeds this is counted as lost


def _clip(source: str, frames: int, path: Path) -> list[np.ndarray]:
    """The first ``frames`` frames of ``source`` written losslessly (FFV1), as RGB arrays."""
    out_frames = []
    with av.open(source) as src, av.open(str(path), "w") as dst:
        vin = src.streams.video[0]
        vs = dst.add_stream("ffv1", rate=Fraction(vin.average_rate or 24))
        vs.width, vs.height, vs.pix_fmt = vin.width, vin.height, "yuv420p"
        for frame in src.decode(video=0):
            if len(out_frames) == frames:
                break
            frame = frame.reformat(format="yuv420p")
            out_frames.append(frame.to_ndarray(format="rgb24"))
            frame.pts = None
            for p in vs.encode(frame):
                dst.mux(p)
        for p in vs.encode(None):
            dst.mux(p)
    return out_frames


def _rgb(frames: list[Any]) -> list[np.ndarray]:
    return [f.to_ndarray(format="rgb24") for f in frames]


def _lost_share(a: np.ndarray, b: np.ndarray) -> float:
    """Share of 8x8 blocks of ``a`` that differ from ``b`` by more than LOST_MAD on average."""
    h, w = a.shape[0] // 8 * 8, a.shape[1] // 8 * 8
    d = np.abs(a[:h, :w].astype(np.int64) - b[:h, :w]).reshape(h // 8, 8, w // 8, 8, -1)
    return float((d.mean(axis=(1, 3, 4)) > LOST_MAD).mean())


def _encode(clip: str, out: str, codec: str, quality: int | None, options: dict) -> dict:
    t0 = time.perf_counter()
    enc = encode_video(  # the codecs' strands alone: no outer code
        clip, out, codec=codec, quality=quality, audio=False, codec_options=options, redundancy=0
    )
    t1 = time.perf_counter()
    media = decode_media(out)
    t2 = time.perf_counter()
    return {"enc": enc, "media": media, "t_enc": t1 - t0, "t_dec": t2 - t1}


def _constraint_violations(strands: np.ndarray) -> int:
    fr = plugins.get_framer()
    return int((~fr.check(strands).ok(fr.constraints)).sum())


def _fallback_share(enc) -> float | None:
    """Share of data strands the verbatim coder wrote by its enumerative fallback."""
    fr = plugins.get_framer()
    coder = plugins.get_coder(enc.metadata["coder"], constraints=fr.constraints)
    if not hasattr(coder, "is_fallback"):
        return None
    data = enc.strands[enc.metadata_strands :]
    o = fr.o_payload
    return float(coder.is_fallback(data[:, o : o + fr.payload_nt], data[:, :o]).mean())


def curve(clip: str, originals: list[np.ndarray], tmp: Path) -> dict[str, dict]:
    """Part 1; returns each codec's run at its deletion-experiment quality."""
    fr = plugins.get_framer()
    h, w, _ = originals[0].shape
    pixels = h * w * len(originals)
    codecs = plugins.registrations("codecs")
    print(
        f"Fig. 3: {len(originals)} frames {w}x{h} of {Path(SAMPLE).name}; payload = "
        f"{fr.payload_nt} nt per data strand; bits/nt = 24 bits per pixel / payload nt"
    )
    print("| codec (coder) | quality | PSNR dB | payload nt/px | bits/nt | data strands | "
          "viol | pipeline enc fps | dec fps |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    keep: dict[str, dict] = {}
    for codec, qualities, q_del, options in RUNS:
        if codec not in codecs:
            print(f"| {codec} | – | n/a (not installed) | | | | | | |")
            continue
        for q in qualities:
            out = str(tmp / f"{codec}-{q}.dnapkt")
            try:
                r = _encode(clip, out, codec, q, options)
            except Exception as exc:  # a foreign codec plugin must not stop the table
                why = str(exc).splitlines()[0].split(": ")[-1][:80]
                print(f"| {codec} | {q} | failed: {why} | | | | | | |")
                break
            enc, media = r["enc"], r["media"]
            got = _rgb(media.frames)
            p = float(np.mean([psnr(a, b) for a, b in zip(originals, got, strict=True)]))
            nt = enc.data_strands * fr.payload_nt
            label = f"{codec} ({enc.metadata['coder']}"
            share = _fallback_share(enc)
            if share is not None:
                label += f", {100 * share:.1f} % fallback"
            print(
                f"| {label}) | {q if q is not None else 'default'}"
                f" | {p:.2f} | {nt / pixels:.3f} | {24 * pixels / nt:.2f} | {enc.data_strands}"
                f" | {_constraint_violations(enc.strands)} | {len(originals) / r['t_enc']:.1f}"
                f" | {len(originals) / r['t_dec']:.1f} |"
            )
            if q == q_del:
                keep[codec] = dict(r, path=out, quality=q, psnr=p)
    return keep


def _unit_bytes(
    meta: dict, blocks: dict[int, np.ndarray], unit: int = 0
) -> tuple[Packet, int, int]:
    """The bytes of video unit ``unit`` from blocks as they are (no CRC check)."""
    s = layout.StreamLayout(**meta["streams"]["video"])
    bits = int(meta["payload_bits"])
    zero = np.zeros(bits, np.uint8)
    rows = [blocks.get(s.first_strand + i, zero)[:bits] for i in range(s.strands)]
    data = layout.blocks_to_bytes(np.stack(rows))
    index, pts, duration, offset, nbytes = s.units[unit][:5]
    first = s.first_strand + offset * 8 // bits
    last = s.first_strand + ((offset + nbytes) * 8 - 1) // bits
    return Packet(data[offset : offset + nbytes], "video", index, pts, duration), first, last


def deletion(run: dict, originals: list[np.ndarray], trials: int, seed: int) -> list[str]:
    """Part 2 for one codec: table cells for the unprotected and protected models."""
    fr = plugins.get_framer()
    path = run["path"]
    header, seqs = read_strands(path)
    _, meta, blocks, _ = parse_dna(header, seqs, path)
    coder = plugins.get_coder(meta["coder"], constraints=fr.constraints)
    codec = plugins.get_codec(meta["codec"])
    info = run["media"].info
    clean = _rgb(run["media"].frames)
    packet, first, last = _unit_bytes(meta, blocks)
    n_meta = run["enc"].metadata_strands
    rng = np.random.default_rng(seed)
    hit, area, quality = [], [], []
    o, L = fr.o_payload, fr.payload_nt
    for _ in range(trials):
        addr = int(rng.integers(first, last + 1))
        strand = np.asarray(seqs[n_meta + addr])
        pos = int(rng.integers(0, L))
        region = np.delete(strand[o : o + L], pos)
        region = np.append(region, region[-1])  # the strand keeps its length
        bits, _ = coder.decode(region[None, :], strand[None, :o])
        bits = whiten(np.array([addr]), bits, meta["seed"], fr, coder)
        damaged = dict(blocks)
        damaged[addr] = bits[0]
        pk, _, _ = _unit_bytes(meta, damaged)
        dec = codec.decoder(info, meta["codec_params"])
        frames = {f.pts: f for f in dec.decode(pk) + dec.decode(None)}
        span = range(pk.pts, min(pk.pts + max(pk.duration, 1), len(clean)))
        shares, psnrs = [], []
        for i in span:
            f = frames.get(i)
            if f is None:
                shares.append(1.0)
                continue
            rgb = f.to_ndarray(format="rgb24")
            shares.append(_lost_share(rgb, clean[i]))
            psnrs.append(psnr(rgb, originals[i]))
        h = [s for s in shares if s > 0]
        hit.append(len(h))
        area.append(float(np.mean(h)) if h else 0.0)
        quality.append(float(np.mean(psnrs)) if psnrs else float("nan"))
    # protected: the pipeline itself, the 239-nt strand among the others
    addr = (first + last) // 2
    bad = list(seqs)
    bad[n_meta + addr] = np.delete(np.asarray(bad[n_meta + addr]), o + L // 2)
    media = decode_media(path, parsed=parse_dna(header, bad, path))
    got = _rgb(media.frames)
    p = float(np.mean([psnr(a, b) for a, b in zip(originals, got, strict=True)]))
    frames_in_unit = packet.duration or 1
    return [
        f"{np.mean(hit):.1f} of {frames_in_unit}",
        f"{100 * np.mean(area):.0f} % ({100 * min(area):.0f}–{100 * max(area):.0f})",
        f"{np.nanmean(quality):.1f}" if not np.isnan(quality).all() else "no frame",
        f"{len(media.result.concealed_frames)} concealed, clip {p:.2f} dB "
        f"(clean {run['psnr']:.2f})",
    ]


def run(*, frames: int, trials: int, seed: int, video: str) -> int:
    """Print both parts on the first ``frames`` frames of ``video``, ``trials`` deletions."""
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        clip = str(tmp / "clip.mkv")
        originals = _clip(video, frames, Path(clip))
        keep = curve(clip, originals, tmp)
        print()
        print(
            f"Section IV-B: one deletion in the payload of one strand of the first packet, "
            f"{trials} trials (unprotected: the paper's model) / the pipeline (protected)"
        )
        print("| codec | quality | frames hit | blocks lost in them | their PSNR dB | "
              "protected (our pipeline) |")  # fmt: skip
        print("|---|---|---|---|---|---|")
        for codec, _, _, _ in RUNS:
            if codec not in keep:
                continue
            cells = deletion(keep[codec], originals, trials, seed)
            q = keep[codec]["quality"]
            print(f"| {codec} | {q if q is not None else 'default'} | " + " | ".join(cells) + " |")
        if "jpeg-dna" in keep:
            _codec_speed(clip, keep["jpeg-dna"]["quality"], len(originals))
    return 0


def _codec_speed(clip: str, quality: int, n: int) -> None:
    """The jpeg-dna codec alone (no strands): frames per second each way."""
    from helix_media.media.video_io import open_video

    source = open_video(clip)
    frames = list(source.frames())
    codec = plugins.get_codec("jpeg-dna")
    enc = codec.encoder(source.info, quality=quality)
    t0 = time.perf_counter()
    packets = [p for f in frames for p in enc.encode(f)] + enc.encode(None)
    t1 = time.perf_counter()
    dec = codec.decoder(source.info, enc.params)
    for p in packets:
        dec.decode(p)
    t2 = time.perf_counter()
    nt = sum(len(p.data) for p in packets) * 4
    print(
        f"\njpeg-dna codec alone, quality {quality}: {n / (t1 - t0):.0f} fps encode, "
        f"{n / (t2 - t1):.0f} fps decode (one core); its own stream {nt / n:.0f} nt per frame"
    )
