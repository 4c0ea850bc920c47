"""HELIX levels 2-7 with the x265 enhancement at --gop 16 (the default) and 32, per clip:
strands and PSNR as ``helix bench helix`` measures them (first 48 frames, at most 320 wide, no
audio, the default outer codes), and the BD-rate in strands against x265 alone at gop 16 and 32
(CRFs 21-51, no outer code, as in the bench).

    python scripts/helix_gop_probe.py helix_media/data/sample.mp4 data/eval/bigbuckbunny.mp4 \
        data/eval/carphone.mp4
"""

import sys
import tempfile
from pathlib import Path

from helix_media.archive.decode import decode_media
from helix_media.archive.encode import encode_video
from helix_media.benchmarks.helix import (
    BITSTREAM_CRFS,
    bd_rate,
    encode_decode,
    quality,
    reference_clip,
)

GOPS = (16, 32)


def x265_curve(ref_path: Path, ref, tmp: Path, gop: int) -> list[tuple[int, float]]:
    """(strands, PSNR) of x265 alone at the bench's CRFs."""
    out, points = str(tmp / "x265.dnapkt"), []
    for crf in BITSTREAM_CRFS:
        r = encode_video(
            str(ref_path), out, codec="bitstream", quality=crf, audio=False,
            codec_options={"gop": gop, "video_codec": "libx265"},
        )  # fmt: skip
        points.append((r.strands.shape[0], quality(ref, decode_media(out).frames)[0]))
    return points


def main(clips: list[str]) -> None:
    for clip in clips:
        name = Path(clip).name
        with tempfile.TemporaryDirectory() as t:
            tmp = Path(t)
            ref_path = tmp / "ref.mkv"
            ref = reference_clip(clip, ref_path, 48, 320)
            helix = {}
            for gop in GOPS:
                helix[gop] = []
                for level in range(2, 8):
                    r, frames = encode_decode(ref_path, str(tmp / "h.dnapkt"), level, gop=gop)
                    point = (r.strands.shape[0], quality(ref, frames)[0])
                    helix[gop].append(point)
                    print(f"{name} gop {gop} level {level}: {point[0]} strands {point[1]:.2f} dB")
            x265 = {gop: x265_curve(ref_path, ref, tmp, gop) for gop in GOPS}
            for gop in GOPS:
                vs = ", ".join(
                    f"x265 gop {g} {100 * bd_rate(x265[g], helix[gop]):+.1f} %" for g in GOPS
                )
                print(f"{name} helix gop {gop}: BD-rate vs {vs}")
            print(f"{name} x265 gop 32 vs gop 16: {100 * bd_rate(x265[16], x265[32]):+.1f} %")


if __name__ == "__main__":
    main(sys.argv[1:])
