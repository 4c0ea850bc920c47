"""Metadata (valid CRC) claiming a picture its strands do not hold: the picture size must be
one a decoded frame confirms. Before, a 32x32 clip's metadata claiming 8192x8192 made
``pool get`` pad every decoded frame, or conceal every frame with black frames, at
8192x8192 and re-encode them: 1.9-4.7 GB at peak from a 600-strand pool."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helix_media.archive import pool
from helix_media.benchmarks import _fuzz_targets as ft
from helix_media.blocks import layout
from helix_media.blocks.metadata_schema import check_metadata
from helix_media.errors import HelixError

BIG = 8192  # the largest side metadata may claim (MAX_SIDE)


def forged_pool(d: Path, video=None, codec=None, coded=None, data: bool = True) -> Path:
    """The fuzzers' seed pool with clip.mp4's metadata claiming ``video`` (its ``video``
    size), ``codec`` (the codec's picture) and ``coded`` (the codec's coded picture) sizes;
    ``data=False`` leaves the clip's data strands out (every unit lost)."""
    s = ft.pool_seed()
    k = next(i for i, it in enumerate(s.items) if it["name"] == "clip.mp4")
    meta = copy.deepcopy(s.metas[k])
    claims = [
        (video, meta["video"], "width", "height"),
        (codec, meta["codec_params"], "width", "height"),
        (coded, meta["codec_params"], "coded_width", "coded_height"),
    ]
    for size, where, w, h in claims:
        if size is not None:
            where[w] = where[h] = size
    copies = s.items[k]["metadata"][2]
    forged = ft.metadata_strands(json.dumps(meta).encode(), ft.FORGED_CHUNK, copies)
    items = copy.deepcopy(s.items)
    items[k]["metadata"] = [ft.FORGED_CHUNK, len(forged) // copies, copies]
    cat = {"format": "helix-pool", "version": 1, "generation": 0, "items": items}
    strands = [a for i, a in enumerate(s.meta_strands) if i != k] + [forged]
    strands += [a for i, a in enumerate(s.data_strands) if data or i != k]
    strands.append(ft.metadata_strands(json.dumps(cat).encode(), 0, ft.CATALOGUE_COPIES))
    path = d / "forged.dnapkt"
    path.write_bytes(ft.dnapkt(np.concatenate(strands), s.header))
    return path


#: (claims, what ``pool get`` says); each was accepted before (1.9-4.7 GB)
CASES = {
    "frames padded up to the claim": (
        {"video": BIG, "codec": BIG},
        "bitstream codec parameters are damaged: a 8192x8192 picture coded at 64x64",
    ),
    "every frame concealed at the claim": (
        {"video": BIG, "coded": BIG},
        "damaged metadata \\(1 intact video units decode to no 8192x8192 frame",
    ),
    "frames of another size": (
        {"video": BIG},
        "damaged metadata \\(claims a 8192x8192 picture, its frames decode at 32x32\\)",
    ),
    "every unit lost, a huge claim": (
        {"video": BIG, "data": False},
        "the video is lost: every unit of frames 0-\\d+ is lost or damaged, and \\d+ black "
        "8192x8192 frames",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_forged_picture_size_is_a_clear_error_before_any_frame(tmp_path, case):
    claims, said = CASES[case]
    path = forged_pool(tmp_path, **claims)
    with pytest.raises(HelixError, match=said):
        pool.get_item(str(path), "clip.mp4", str(tmp_path / "out.mp4"))
    assert not (tmp_path / "out.mp4").exists()  # nothing written
    # a time range, decoded in memory (its GOPs all lost: said before any decoding)
    with pytest.raises(HelixError, match=f"{said}|no frame of 'clip.mp4' in that range"):
        pool.decode_item(str(path), "clip.mp4", start=0.0, duration=0.3)


def test_every_unit_lost_at_an_ordinary_size_is_still_concealed(tmp_path):
    """Nothing decoded, nothing to refute the claim either: black frames of the metadata's
    size (at most Full HD, 2^27 pixels in all), reported as concealed (exit 3 in the CLI)."""
    path = forged_pool(tmp_path, video=640, data=False)
    r = pool.get_item(str(path), "clip.mp4", str(tmp_path / "out.mp4"))
    assert r.report.concealed_frames == list(range(16)) and not r.report.complete
    assert (tmp_path / "out.mp4").stat().st_size > 0


def test_a_video_unit_holds_a_byte_per_frame():
    """Frames to conceal are bounded by the bytes claimed: before, a few kB of metadata
    strands (a deflated table of 10^5 empty units) claimed 10^9 frames to conceal."""
    meta = copy.deepcopy(ft.pool_seed().metas[1])
    video = meta["streams"]["video"]
    check_metadata(meta, "x")
    n = 10**5
    first = video["units"][0]  # (index, pts, duration, offset, bytes, CRC): the clip's GOP
    video["units"] = layout.expand_units(
        {
            "index": 0,
            "pts": 0,
            "durations": [[first[2], 1], [1000, n]],
            "sizes": [first[4]] + [0] * n,
        }
    )
    video["units"][0][5] = first[5]
    meta["video"]["frames"] = first[2] + 1000 * n
    with pytest.raises(HelixError, match="unit 1 claims 1000 frames in 0 bytes"):
        check_metadata(meta, "x")


#: runs in a child: each forged pool's ``pool get`` (decoding and re-encoding, as the CLI
#: does) and its peak RSS (VmHWM: the child's own, not the parent's that getrusage folds in
#: across fork and exec) before and after
_CHILD = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from test_forged_size import CASES, forged_pool
from helix_media.archive import pool
from helix_media.benchmarks._fuzz_targets import pool_seed
from helix_media.errors import HelixError

def hwm():
    with open("/proc/self/status") as f:
        return int(next(line.split()[1] for line in f if line.startswith("VmHWM:"))) / 1024

pool_seed()
d, out = Path(sys.argv[2]), {}
for case, (claims, _) in CASES.items():
    path, before = forged_pool(d, **claims), hwm()
    try:
        pool.get_item(str(path), "clip.mp4", str(d / "out.mp4"))
        said = None
    except HelixError as exc:
        said = str(exc)
    out[case] = {"said": said, "before": before, "after": hwm()}
print(json.dumps(out))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM")
@pytest.mark.slow
def test_forged_picture_size_costs_no_memory(tmp_path):
    r = subprocess.run(
        [sys.executable, "-c", _CHILD, str(Path(__file__).parent), str(tmp_path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    got = json.loads(r.stdout.splitlines()[-1])
    for case, m in got.items():  # before: accepted, 1560-4430 MB more at peak
        assert m["said"] is not None and m["after"] - m["before"] < 100, f"{case}: {m}"
        assert m["after"] < 1024, f"{case}: {m}"
