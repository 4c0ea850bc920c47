"""Wrong blocks found by the outer code's spare parity (errors-and-erasures decoding).

The inner code passes a strand on as right when its Reed-Solomon decode succeeds, and on
rare occasions that decode is a miscorrection: a wrong block (1 in 34,000 strands of a 1 MB
file read at nanopore-r9 10x). An erasure-only decode copies such a block into every strand
it rebuilds. But a segment usually has more parity strands than it lost, and each spare one
is a check: after solving for the lost strands with as many parity strands as were lost,
the next ``DETECT`` parity strands must agree with the solution (so a clean decode costs
little more than before); where they do not, the next ``CHECKS`` are used.

Where they do not, the wrong blocks are located as in subspace decoding: a wrong block at
position j adds ``h_j * e_c`` to the checks' residual of symbol column c (``h_j``: column j
of the parity-check matrix with the lost strands eliminated; ``e_c``: the error's symbol),
so the residuals of all columns span exactly the space of the wrong blocks' ``h_j``. With
``t`` wrong blocks (the residuals' rank) and at least ``t + 2`` checks, the positions whose
``h_j`` lie in that span are the wrong ones (any other one does so with probability
``2^-(m (checks - t))``); if more than ``t`` positions do, nothing is changed. The located
blocks are then treated as lost.
"""

from __future__ import annotations

import numpy as np

from helix_media.blocks import gf2m

DETECT = 2  # spare parity strands that check every segment (a wrong block passes both with
# probability 2^-(2 m) per symbol column, so never in practice)
CHECKS = 16  # ... and that locate wrong blocks where those see one (so up to 14 of them)
MARGIN = 2  # checks beyond the number of wrong blocks needed to locate them


def residual(y: np.ndarray, cauchy: np.ndarray, rows: list[int], lost: list[int], m: int):
    """Solve for the lost data symbols with the first ``len(lost)`` of ``rows`` (available
    parity rows; ``y``: their values with the known data's share added) and return
    (solution, residual of the other rows), integer symbols of GF(2^m). Characteristic 2:
    minus is plus."""
    f = len(lost)
    if not f:
        return None, y
    z = gf2m.solve(cauchy[np.ix_(rows[:f], lost)], y[:f], m)
    return z, y[f:] ^ gf2m.matmul(cauchy[np.ix_(rows[f:], lost)], z, m)


def locate(res, cauchy, rows: list[int], lost: list[int], known: list[int]):
    """The wrong blocks behind a nonzero residual ``res`` (checks x symbols): (data columns,
    parity rows) of the segment, or None where they cannot be told apart."""
    gf = type(res)
    f = len(lost)
    head, checks = rows[:f], rows[f:]
    t = int(np.linalg.matrix_rank(res))
    if len(checks) - t < MARGIN:
        return None
    h_data = cauchy[np.ix_(checks, known)]
    h_head = gf.Zeros((len(checks), f))
    if f:  # M = C[checks, lost] C[head, lost]^-1 carries an error through the solution
        a = cauchy[np.ix_(head, lost)]
        m = np.linalg.solve(a.T, cauchy[np.ix_(checks, lost)].T).T
        h_data = h_data + m @ cauchy[np.ix_(head, known)]
        h_head = m
    h = np.concatenate([h_data, h_head, gf.Identity(len(checks))], axis=1)
    null = res.left_null_space()
    hits = np.flatnonzero(~np.asarray(null @ h).any(axis=0))
    if len(hits) != t:
        return None
    parity = [*head, *checks]
    nk = len(known)
    return [known[j] for j in hits if j < nk], [parity[j - nk] for j in hits if j >= nk]
