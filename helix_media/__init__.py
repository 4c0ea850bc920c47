"""helix-media: video into synthetic DNA and back.

Data flows one way: frames -> packets (codec) -> bits -> constrained bases (coder)
-> addressed strands (framer) -> container/FASTA, and back.
"""

__version__ = "0.1.0"
