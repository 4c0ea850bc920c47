"""The compiled RS decoder gives reedsolo's results: same corrections, same failures."""

import numpy as np
import pytest
import reedsolo

from helix_media.dna import rs


def _reedsolo_decode(msgs, pars, erasures, margin):
    """The reference: reedsolo's own decoder, word by word, with rs.decode's rules."""
    codec = reedsolo.RSCodec(pars.shape[1])
    k, nsym = msgs.shape[1], pars.shape[1]
    out, ok, corrected = msgs.copy(), [], []
    for i in range(len(msgs)):
        erase = np.flatnonzero(erasures[i]).tolist()
        if len(erase) > nsym:
            erase = [j for j in erase if j >= k][:nsym]
        if not erase and (rs.parity(msgs[i : i + 1], nsym)[0] == pars[i]).all():
            ok.append(True), corrected.append(0)
            continue
        try:
            fixed, _, errata = codec.decode(
                bytearray(msgs[i].tobytes() + pars[i].tobytes()), erase_pos=erase or None
            )
        except reedsolo.ReedSolomonError:
            ok.append(False), corrected.append(-1)
            continue
        if 2 * (len(errata) - len(erase)) + len(erase) > nsym - margin:
            ok.append(False), corrected.append(-1)
            continue
        out[i] = np.frombuffer(bytes(fixed), np.uint8)
        ok.append(True), corrected.append(len(errata))
    return out, np.array(ok), np.array(corrected)


@pytest.mark.parametrize("margin", [0, 1])
def test_compiled_decoder_matches_reedsolo(margin):
    rng = np.random.default_rng(margin)
    k, nsym, n = 42, 6, 3000
    msgs = rng.integers(0, 256, (n, k), dtype=np.uint8)
    words = np.concatenate([msgs, rs.parity(msgs, nsym)], axis=1)
    erasures = np.zeros(words.shape, dtype=bool)
    weight = np.zeros(n, dtype=int)  # 2 * errors + erasures
    for i in range(n):  # 0-4 errors, 0-8 erasures (some beyond what the code fills)
        n_err, n_era = rng.integers(0, 5), rng.integers(0, 9)
        pos = rng.choice(k + nsym, n_err + n_era, replace=False)
        words[i, pos[:n_err]] ^= rng.integers(1, 256, n_err, dtype=np.uint8)
        erasures[i, pos[n_err:]] = True
        flip = pos[n_err:][rng.random(n_era) < 0.5]
        words[i, flip] ^= rng.integers(1, 256, len(flip), dtype=np.uint8)
        weight[i] = 2 * n_err + n_era
    got = rs.decode(words[:, :k], words[:, k:], erasures, margin=margin)
    want = _reedsolo_decode(words[:, :k], words[:, k:], erasures, margin)
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[2], want[2])
    np.testing.assert_array_equal(got[0][got[1]], want[0][want[1]])
    assert 0.2 < got[1].mean() < 0.9  # both outcomes were exercised
    within = weight <= nsym - margin  # what the code promises: corrected, and right
    assert got[1][within].all()
    np.testing.assert_array_equal(got[0][within], msgs[within])
