"""A plain PyAV decode loop that feeds helix-media's "bitstream" codec, then decodes its packets.

This is all a program needs to put video through a helix-media codec: PyAV frames in,
:class:`helix_media.media.codec.Packet` out (one per GOP, each decodable alone), and back.

Usage: ``python examples/pyav_loop.py [INPUT] [--quality CRF] [--codec libx265|libx264|libsvtav1]``
"""

from __future__ import annotations

import argparse
from fractions import Fraction
from pathlib import Path

import av

from helix_media.media.codec import Packet, VideoInfo
from helix_media.media.metrics import psnr
from helix_media.plugins import get_codec
from helix_media.resources import sample_clip

SAMPLE = sample_clip()  # the clip bundled with helix-media


def round_trip(
    path: str | Path, quality: int | None = None, video_codec: str = "libx265"
) -> tuple[VideoInfo, list[Packet], list[av.VideoFrame]]:
    """Decode ``path`` with PyAV, encode with the bitstream codec, decode its packets."""
    codec = get_codec("bitstream")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = stream.guessed_rate or stream.average_rate
        if rate is None:
            raise SystemExit(f"{path}: the video has no frame rate")
        fps = Fraction(rate)
        info = VideoInfo(stream.codec_context.width, stream.codec_context.height, fps)
        encoder = codec.encoder(info, quality=quality, video_codec=video_codec)
        packets: list[Packet] = []
        for frame in container.decode(video=0):
            packets += encoder.encode(frame)  # [] until a GOP is complete
        packets += encoder.encode(None)  # flush the last GOP
    decoder = codec.decoder(info, encoder.params)  # params: JSON, stored beside the packets
    frames: list[av.VideoFrame] = []
    for packet in packets:
        frames += decoder.decode(packet)  # pts = frame index, time base 1/fps
    frames += decoder.decode(None)
    return info, packets, frames


def main() -> None:
    parser = argparse.ArgumentParser(description="PyAV -> bitstream codec -> PyAV frames")
    parser.add_argument("input", nargs="?", default=str(SAMPLE))
    parser.add_argument("--quality", type=int, default=None, help="CRF (default: codec's)")
    parser.add_argument("--codec", default="libx265", help="libx265, libx264 or libsvtav1")
    args = parser.parse_args()

    info, packets, frames = round_trip(args.input, args.quality, args.codec)
    for p in packets:
        print(f"GOP {p.index}: frames {p.pts}-{p.pts + p.duration - 1}, {len(p.data)} bytes")
    decoded = {f.pts: f for f in frames}  # a lost GOP would leave holes: match by pts
    with av.open(args.input) as container:
        scores = [
            psnr(s.to_ndarray(format="rgb24"), decoded[i].to_ndarray(format="rgb24"))
            for i, s in enumerate(container.decode(video=0))
            if i in decoded
        ]
    total = sum(len(p.data) for p in packets)
    print(
        f"{info.width}x{info.height} @ {info.fps} fps: {len(frames)} frames, "
        f"{len(packets)} packets, {total} bytes, mean PSNR {sum(scores) / len(scores):.2f} dB"
    )


if __name__ == "__main__":
    main()
