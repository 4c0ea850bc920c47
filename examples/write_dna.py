"""A PyAV pipeline that writes DNA: decode any video with PyAV, mux it into a DNA container.

Exactly the shape of a PyAV transcoding loop; only the output container is helix-media's.
Usage: ``python examples/write_dna.py INPUT OUT.dnapkt [--codec bitstream|helix] [--redundancy R]``
"""

from __future__ import annotations

import argparse

import av

import helix_media


def main() -> None:
    parser = argparse.ArgumentParser(description="PyAV frames -> DNA strands")
    parser.add_argument("input")
    parser.add_argument("output", help="OUT.dnapkt or OUT.fasta")
    parser.add_argument("--codec", default="bitstream")
    parser.add_argument("--redundancy", type=float, default=0.1)
    args = parser.parse_args()

    with (
        av.open(args.input) as source,
        helix_media.open(args.output, "w", redundancy=args.redundancy) as dna,
    ):
        video = dna.add_stream_from_template(source.streams.video[0], codec=args.codec)
        for frame in source.decode(video=0):
            dna.mux(video.encode(frame))
        dna.mux(video.encode(None))
    r = dna.result
    print(f"{args.output}: {len(r.strands)} strands for {video.frames} frames ({args.codec})")


if __name__ == "__main__":
    main()
