"""Compiled (numba) Reed-Solomon errors-and-erasures decoding over GF(256), reedsolo's field.

reedsolo's conventions: primitive polynomial 0x11d, generator 2, first consecutive root 0,
codeword = message bytes then parity bytes, highest-degree coefficient first. The decoder is
the textbook one (erasure locator, Forney syndromes, Berlekamp-Massey for the errors, Chien
search, Forney's formula) and accepts a correction only when the result is a codeword within
the bound 2 * errors + erasures <= nsym; such a codeword is unique, so the result equals
reedsolo's wherever reedsolo succeeds. ``tests/test_rs_kernels.py`` compares the two.
"""

from __future__ import annotations

import numba
import numpy as np


def _tables() -> tuple[np.ndarray, np.ndarray]:
    exp = np.zeros(512, dtype=np.int64)
    log = np.zeros(256, dtype=np.int64)
    x = 1
    for i in range(255):
        exp[i] = x
        log[x] = i
        x <<= 1
        if x & 0x100:
            x ^= 0x11D
    exp[255:510] = exp[:255]
    return exp, log


EXP, LOG = _tables()


@numba.njit(cache=True)
def _mul(a, b, exp, log):
    if a == 0 or b == 0:
        return 0
    return exp[log[a] + log[b]]


@numba.njit(cache=True)
def _div(a, b, exp, log):
    if a == 0:
        return 0
    return exp[(log[a] + 255 - log[b]) % 255]


@numba.njit(cache=True)
def _pow_alpha(e, exp):
    return exp[e % 255]


@numba.njit(cache=True)
def _eval_low(poly, n, x, exp, log):
    """poly[0] + poly[1] x + ... (lowest degree first), first ``n`` coefficients."""
    y = 0
    for i in range(n - 1, -1, -1):
        y = _mul(y, x, exp, log) ^ poly[i]
    return y


@numba.njit(cache=True)
def _times_syndromes(poly, degree, synd, nsym, exp, log):
    """poly(x) * S(x) mod x^nsym (both lowest degree first)."""
    out = np.zeros(nsym, dtype=np.int64)
    for j in range(nsym):
        acc = 0
        for d in range(0, min(j, degree) + 1):
            acc ^= _mul(poly[d], synd[j - d], exp, log)
        out[j] = acc
    return out


@numba.njit(cache=True)
def _decode_one(word, erased, nsym, max_weight, exp, log, out):
    """Correct ``word`` (n bytes) in ``out``; returns errata (erasures + errors found), or -1
    (2 * errors + erasures beyond ``max_weight`` = nsym - margin, or not decodable)."""
    n = word.shape[0]
    n_erase = 0
    for i in range(n):
        out[i] = 0 if erased[i] else word[i]  # erased symbols read as 0, as reedsolo does
        if erased[i]:
            n_erase += 1
    if n_erase > nsym:
        return -1
    # syndromes S_j = r(alpha^j), j = 0..nsym-1 (Horner, highest degree first)
    synd = np.zeros(nsym, dtype=np.int64)
    clean = True
    for j in range(nsym):
        x = _pow_alpha(j, exp)
        y = 0
        for i in range(n):
            y = _mul(y, x, exp, log) ^ out[i]
        synd[j] = y
        if y != 0:
            clean = False
    if clean:  # every erasure counts as corrected (reedsolo reports them all)
        return n_erase if n_erase <= max_weight else -1
    # erasure locator Gamma(x) = prod (1 + X_k x), X_k = alpha^(n-1-pos), lowest degree first
    gamma = np.zeros(nsym + 2, dtype=np.int64)
    gamma[0] = 1
    deg_g = 0
    for i in range(n):
        if erased[i]:
            xk = _pow_alpha(n - 1 - i, exp)
            for d in range(deg_g + 1, 0, -1):
                gamma[d] ^= _mul(gamma[d - 1], xk, exp, log)
            deg_g += 1
    # Forney syndromes: T(x) = S(x) Gamma(x) mod x^nsym; errors are found from T[n_erase:]
    t = _times_syndromes(gamma, deg_g, synd, nsym, exp, log)
    # Berlekamp-Massey on T[n_erase .. nsym-1] -> error locator Lambda
    m = nsym - n_erase
    lam = np.zeros(nsym + 2, dtype=np.int64)
    prev = np.zeros(nsym + 2, dtype=np.int64)
    lam[0] = 1
    prev[0] = 1
    ell = 0
    shift = 1
    b = 1
    for r in range(m):
        delta = t[n_erase + r]
        for i in range(1, ell + 1):
            delta ^= _mul(lam[i], t[n_erase + r - i], exp, log)
        if delta == 0:
            shift += 1
            continue
        coef = _div(delta, b, exp, log)
        if 2 * ell <= r:
            old = lam.copy()
            for i in range(nsym + 2 - shift):
                lam[i + shift] ^= _mul(coef, prev[i], exp, log)
            ell = r + 1 - ell
            prev = old
            b = delta
            shift = 1
        else:
            for i in range(nsym + 2 - shift):
                lam[i + shift] ^= _mul(coef, prev[i], exp, log)
            shift += 1
    if 2 * ell + n_erase > max_weight:
        return -1
    # errata locator Psi = Lambda * Gamma
    psi = np.zeros(2 * nsym + 4, dtype=np.int64)
    for i in range(ell + 1):
        if lam[i] == 0:
            continue
        for j in range(deg_g + 1):
            psi[i + j] ^= _mul(lam[i], gamma[j], exp, log)
    deg_psi = ell + deg_g
    # errata evaluator Omega = S * Psi mod x^nsym
    omega = _times_syndromes(psi, deg_psi, synd, nsym, exp, log)
    # Chien search over the n positions: X = alpha^(n-1-i) is a root of Psi(X^-1)
    found = 0
    for i in range(n):
        xinv = _pow_alpha(255 - ((n - 1 - i) % 255), exp)
        if _eval_low(psi, deg_psi + 1, xinv, exp, log) != 0:
            continue
        found += 1
        # Forney (first root 0): e = X * Omega(X^-1) / Psi'(X^-1)
        num = _eval_low(omega, nsym, xinv, exp, log)
        den = 0
        for d in range(1, deg_psi + 1, 2):  # formal derivative: odd terms
            den ^= _mul(psi[d], _pow_alpha((d - 1) * (255 - ((n - 1 - i) % 255)), exp), exp, log)
        if den == 0:
            return -1
        x = _pow_alpha(n - 1 - i, exp)
        out[i] ^= _mul(x, _div(num, den, exp, log), exp, log)
    if found != deg_psi:
        return -1
    # the result must be a codeword
    for j in range(nsym):
        x = _pow_alpha(j, exp)
        y = 0
        for i in range(n):
            y = _mul(y, x, exp, log) ^ out[i]
        if y != 0:
            return -1
    return n_erase + ell


@numba.njit(cache=True)
def decode_words(words, erased, nsym, margin, exp, log):
    """(m, n) uint8 codewords with (m, n) erasure flags -> (corrected words, symbols
    corrected per word, -1 where not decodable)."""
    m, n = words.shape
    out = np.zeros((m, n), dtype=np.int64)
    corrected = np.zeros(m, dtype=np.int64)
    for w in range(m):
        corrected[w] = _decode_one(
            words[w].astype(np.int64), erased[w], nsym, nsym - margin, exp, log, out[w]
        )
    return out.astype(np.uint8), corrected
