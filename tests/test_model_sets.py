"""Every HELIX model set the package ever wrote with stays installed, and its archives decode."""

from pathlib import Path

import numpy as np
import pytest
from helix_media_builtins.codecs.helix.models import installed_sets, load_models, models_root

from helix_media.archive.decode import decode_media
from helix_media.errors import HelixError

GOLDEN = Path(__file__).parent / "golden"


def test_default_names_an_installed_set_and_each_folder_is_its_id():
    sets = installed_sets()
    assert (models_root() / "DEFAULT").read_text().strip() in sets
    for name in sets:
        assert load_models(model_set=name).id == name


@pytest.mark.parametrize("model_set", installed_sets())
def test_a_golden_archive_of_every_model_set_decodes(model_set):
    """Each set ships with an archive it wrote (tests/golden/helix-<set>.dnapkt) and that
    archive's frames as decoded when the set was added."""
    archive = GOLDEN / f"helix-{model_set}.dnapkt"
    assert archive.exists(), f"add a golden archive for model set {model_set}"
    media = decode_media(str(archive))
    assert media.result.metadata["codec_params"]["models"] == model_set
    got = np.stack([f.to_ndarray(format="rgb24") for f in media.frames]).astype(int)
    with np.load(GOLDEN / f"helix-{model_set}.frames.npz") as z:
        expected = z["frames"].astype(int)
    assert got.shape == expected.shape and np.abs(got - expected).max() <= 2  # float noise


def test_an_archive_of_a_set_not_installed_names_it():
    with pytest.raises(HelixError, match="model set 0123456789abcdef, which this installation"):
        load_models(model_set="0123456789abcdef")
