"""An example third-party plugin: the plain 2-bits-per-base mapping as a constraint coder.

It guarantees nothing (``helix probe`` flags what it breaks); it shows the whole plugin
contract: one module, one ``@hookimpl``, one entry point in group ``helix_media``.
"""

import numpy as np

from helix_media.dna.coder import ConstraintCoder
from helix_media.hookspecs import hookimpl


class TwoBitCoder(ConstraintCoder):
    name = "twobit-example"
    guarantees_constraints = False

    def capacity(self, length, context=None):
        return 2 * length

    def encode(self, bits, length, context):
        b = np.asarray(bits, dtype=np.uint8).reshape(len(bits), length, 2)
        return (b[:, :, 0] << 1) | b[:, :, 1]

    def decode(self, bases, context):
        b = np.asarray(bases, dtype=np.uint8)
        bits = np.stack([b >> 1, b & 1], axis=2).reshape(len(b), -1)
        return bits, np.ones(len(b), dtype=bool)


@hookimpl
def register_coders(register):
    register("twobit-example", TwoBitCoder)
