"""Mux frames decoded by helix-media's "bitstream" codec into an ordinary MP4 with plain PyAV.

The decoder's frames carry ``pts`` = frame index in time base 1/fps, so they go straight into
a PyAV output stream opened at that rate.

Usage: ``python examples/mux_to_mp4.py [INPUT] [OUTPUT]`` (default: the sample, into out/).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import av
from pyav_loop import SAMPLE, round_trip  # the sibling example: PyAV -> codec -> frames

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "out" / "sample_bitstream.mp4"


def main() -> None:
    parser = argparse.ArgumentParser(description="bitstream codec round trip into an MP4")
    parser.add_argument("input", nargs="?", default=str(SAMPLE))
    parser.add_argument("output", nargs="?", default=str(DEFAULT_OUT))
    args = parser.parse_args()

    info, packets, frames = round_trip(args.input)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    with av.open(args.output, "w") as container:
        stream = container.add_stream("libx264", rate=info.fps)
        stream.width, stream.height = info.width, info.height
        # 4:2:0 H.264 needs even sizes; 4:4:4 stores odd ones.
        odd = info.width % 2 or info.height % 2
        stream.pix_fmt = "yuv444p" if odd else "yuv420p"
        stream.options = {"crf": "12"}
        for frame in frames:
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    print(f"wrote {args.output}: {len(frames)} frames from {len(packets)} GOP packets")


if __name__ == "__main__":
    main()
