"""Mutations of fuzzing inputs (bytes, JSON) and the metadata round trip the fuzz targets
share; apart so that the fuzzer and its targets need not import each other."""

from __future__ import annotations

import copy
import json

import numpy as np


def mutate(seed: bytes, rng: np.random.Generator) -> bytes:
    """One to four random edits of ``seed``."""
    data = bytearray(seed)
    for _ in range(int(rng.integers(1, 5))):
        op = int(rng.integers(6))
        n = len(data)
        at = int(rng.integers(0, n + 1))
        if op == 0 and n:  # flip a bit
            data[min(at, n - 1)] ^= 1 << int(rng.integers(8))
        elif op == 1 and n:  # overwrite a run with random bytes
            k = int(rng.integers(1, 9))
            data[at : at + k] = rng.integers(0, 256, k, dtype=np.uint8).tobytes()
        elif op == 2:  # cut
            data = data[: int(rng.integers(0, n + 1))]
        elif op == 3:  # insert random bytes
            k = int(rng.integers(1, 17))
            data[at:at] = rng.integers(0, 256, k, dtype=np.uint8).tobytes()
        elif op == 4 and n:  # repeat a chunk
            k = int(rng.integers(1, min(64, n) + 1))
            src = int(rng.integers(0, n - k + 1))
            data[at:at] = data[src : src + k]
        elif op == 5 and n:  # interesting values: zeros, 0xFF runs, a huge length
            data[min(at, n - 1) : min(at, n - 1) + 4] = [b"\0\0\0\0", b"\xff" * 4][
                int(rng.integers(2))
            ]
    return bytes(data)


_ODD_VALUES = (None, -1, 0, 2**70, 1.5, "", "x", [], {}, [0], [[0, 0, 0, 0, 0, 0]], True)


def mutate_json(seed: bytes, rng: np.random.Generator) -> bytes:
    """One to four structural edits of a JSON document: a value replaced by an odd one (wrong
    type, negative, huge, empty) or a key removed; byte-level edits otherwise."""
    if rng.random() < 0.2:
        return mutate(seed, rng)
    doc = json.loads(seed)
    for _ in range(int(rng.integers(1, 5))):
        node = doc
        while True:  # walk down to a random (container, key)
            if not isinstance(node, (dict, list)) or not node:
                node = None
                break
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            key = keys[int(rng.integers(len(keys)))]
            child = node[key]
            if not isinstance(child, (dict, list)) or not child or rng.random() < 0.3:
                break
            node = child
        if node is None:
            continue
        if isinstance(node, dict) and rng.random() < 0.3:
            node.pop(key, None)
        else:
            node[key] = copy.deepcopy(_ODD_VALUES[int(rng.integers(len(_ODD_VALUES)))])
    return json.dumps(doc).encode()


def metadata_round(data: bytes):
    """Metadata JSON (as a writer with a bug or a grudge might make it, CRC and all) ->
    blocks -> the decoder's metadata."""
    from helix_media.blocks import layout

    blob = layout.metadata_blob(layout.compress_metadata(data))
    blocks = layout.bytes_to_blocks(blob, 300)
    addrs = np.array([layout.metadata_address(25, 0, c) for c in range(len(blocks))])
    return layout.recover_all_metadata(addrs, blocks, 25)
