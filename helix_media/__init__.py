"""helix-media: video into synthetic DNA and back.

Data flows one way: frames -> packets (codec) -> bits -> constrained bases (coder)
-> addressed strands (framer) -> container/FASTA, and back.
"""

__version__ = "0.1.0"


def open(path, mode: str = "r", **options):  # noqa: A001 - shaped like av.open
    """DNA as a PyAV-shaped container; see :mod:`helix_media.archive.dna_av`."""
    from helix_media.archive.dna_av import open as _open

    return _open(path, mode, **options)
