"""Bits before they become DNA: packets laid out in blocks, the outer erasure code, whitening,
metadata."""
