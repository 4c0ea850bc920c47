"""Fixtures shared by the test modules."""

import pytest
from clips import write_clip


@pytest.fixture(scope="session")
def gradient_clip(tmp_path_factory):
    """12 frames of a moving gradient, 96x64 at 12 fps (H.264), written once per run."""
    return write_clip(tmp_path_factory.mktemp("clips") / "gradient.mp4")
