"""A PyAV pipeline that reads DNA: strands or sequencing reads in, PyAV frames out.

``helix_media.open`` reads a ``.dnapkt``, FASTA or FASTQ reads like ``av.open`` reads a file;
``decode(video=0)`` yields ``av.VideoFrame`` GOP by GOP, which go on into a plain PyAV
encoder here. Usage: ``python examples/read_dna.py IN.dnapkt|IN.fastq OUT.mp4``
"""

from __future__ import annotations

import argparse

import av

import helix_media


def main() -> None:
    parser = argparse.ArgumentParser(description="DNA strands or reads -> PyAV frames")
    parser.add_argument("input")
    parser.add_argument("output")
    args = parser.parse_args()

    with helix_media.open(args.input) as dna, av.open(args.output, "w") as out:
        src = dna.streams.video[0]
        stream = out.add_stream("libx264", rate=src.average_rate)
        stream.width, stream.height, stream.pix_fmt = src.width, src.height, "yuv420p"
        for frame in dna.decode(video=0):
            out.mux(stream.encode(frame.reformat(format="yuv420p")))
        out.mux(stream.encode(None))
    print(f"{args.output}: {src.frames} frames {src.width}x{src.height}")
    if not dna.report.complete:
        print(dna.report.loss_report())


if __name__ == "__main__":
    main()
