"""Fixtures shared by the test modules."""

import numpy as np
import pytest
from clips import write_clip, write_lossless

from helix_media.media.video_io import open_video
from helix_media.resources import sample_clip


@pytest.fixture(scope="session")
def gradient_clip(tmp_path_factory):
    """12 frames of a moving gradient, 96x64 at 12 fps (H.264), written once per run."""
    return write_clip(tmp_path_factory.mktemp("clips") / "gradient.mp4")


@pytest.fixture(scope="session")
def sample_crop(tmp_path_factory):
    """16 frames of the sample cropped to 96 x 128 (two HELIX GOPs), written losslessly:
    (path, frames)."""
    frames = np.stack(
        [
            f.to_ndarray(format="rgb24")[60:156, 80:208]
            for f in open_video(str(sample_clip())).frames()
        ][:16]
    )
    path = tmp_path_factory.mktemp("layers") / "in.mkv"
    write_lossless(path, frames)
    return path, frames
