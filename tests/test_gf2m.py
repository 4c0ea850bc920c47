"""The outer code's compiled GF(2^m) kernels give galois's results, for every symbol size."""

from __future__ import annotations

import galois
import numpy as np
import pytest

from helix_media.blocks import gf2m


@pytest.mark.parametrize("m", sorted(gf2m.POLYNOMIALS))
def test_products_and_cauchy_matrices_are_galois(m: int) -> None:
    gf = galois.GF(2**m)
    assert int(gf.irreducible_poly) == gf2m.POLYNOMIALS[m]
    rng = np.random.default_rng(m)
    a = rng.integers(0, 2**m, (7, 40))
    b = rng.integers(0, 2**m, (40, 5))
    a[:, :3] = 0  # zeros take the other branch
    assert np.array_equal(gf2m.matmul(a, b, m), np.asarray(gf(a) @ gf(b)))
    x, y = gf(np.arange(40, 47)), gf(np.arange(40))
    assert np.array_equal(gf2m.cauchy(7, 40, m), np.asarray(np.reciprocal(x[:, None] + y)))
    rows, cols = [0, 2, 3, 6], [1, 4, 20, 39]  # a square Cauchy submatrix: invertible
    c = gf2m.cauchy(7, 40, m)[np.ix_(rows, cols)]
    rhs = b[:4]
    assert np.array_equal(gf2m.solve(c, rhs, m), np.asarray(np.linalg.solve(gf(c), gf(rhs))))
