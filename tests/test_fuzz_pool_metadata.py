"""What the pool, metadata and header fuzz targets found, each as its minimised input, and a
short pass of those targets (``helix bench fuzz`` runs 10^5 each)."""

from __future__ import annotations

import contextlib
import copy
import json
import zlib
from pathlib import Path

import numpy as np
import pytest

from helix_media.benchmarks import _fuzz_targets as ft
from helix_media.benchmarks._fuzzing import fuzz
from helix_media.blocks import layout
from helix_media.blocks.metadata_schema import check_metadata
from helix_media.errors import HelixError


@pytest.mark.parametrize("target", ["pool", "metadata", "header"])
@pytest.mark.slow
def test_short_pass_has_no_crash_or_hang(target):
    r = fuzz(target, 200, seed=5)
    assert r.inputs == 200 and r.rejected > 0
    assert r.crashes == [] and r.hangs == 0
    # the most one input raised the process's peak: the test process itself may be large
    assert r.max_rss_rise_mb < 256


def _get(tmp_path: Path, meta: dict | bytes, item: str, **rng) -> None:
    """Pool get of ``item`` with its metadata replaced by ``meta`` (strands made by the
    encoder's functions, the catalogue pointing at them)."""
    text = meta if isinstance(meta, bytes) else json.dumps(meta).encode()
    ft.target_metadata(tmp_path, json.dumps({"item": item, **rng}).encode() + b"\n" + text)


def _seed(k: int) -> dict:
    return copy.deepcopy(ft.pool_seed().metas[k])


def test_metadata_nested_thousands_deep_is_unreadable_not_a_recursion_error():
    blocks = layout.bytes_to_blocks(
        layout.metadata_blob(layout.compress_metadata(b"[" * 100_000 + b"]" * 100_000)), 300
    )
    addrs = layout.metadata_address(25, 0, np.arange(len(blocks)))
    assert layout.recover_all_metadata(addrs, blocks, 25) == []


def test_metadata_that_inflates_past_the_limit_is_unreadable():
    body = layout.compress_metadata(b'{"a":"' + b" " * (layout.MAX_METADATA_TEXT + 1) + b'"}')
    assert len(body) < 100_000  # a deflate bomb: tiny on DNA
    with pytest.raises(zlib.error, match="inflates past"):
        layout.decompress_metadata(body)


def test_ranged_get_of_a_video_without_a_frame_count_is_a_clear_error(tmp_path):
    meta = _seed(1)
    del meta["video"]["frames"]  # optional in metadata; a range needs it
    with pytest.raises(HelixError, match="no frame count"):
        _get(tmp_path, meta, "clip.mp4", start=0.1, duration=0.1)


@pytest.mark.parametrize(
    ("where", "value"),
    [("width", float("inf")), ("deflated", -(2**70)), ("gop", float("nan"))],
)
def test_codec_params_only_hold_numbers_a_writer_makes(where, value):
    meta = _seed(0 if where == "deflated" else 1)
    meta["codec_params"][where] = value  # was OverflowError / TypeError in the codec plugin
    with pytest.raises(HelixError, match="codec_params"):
        check_metadata(meta, "x")


def test_raw_codec_deflated_of_the_wrong_type_is_a_clear_error(tmp_path):
    meta = _seed(0)
    meta["codec_params"]["deflated"] = 7  # was: TypeError: object of type 'int' has no len()
    with pytest.raises(HelixError, match="deflated"):
        _get(tmp_path, meta, "notes.txt")


def test_audio_stream_without_a_layout_is_a_clear_error(tmp_path):
    meta = _seed(1)
    meta["streams"]["audio"] = {"first_strand": 14, "strands": 0, "units": [],
                                "params": {"codec": "opus", "sample_rate": 48000}}  # fmt: skip
    with pytest.raises(HelixError, match="audio codec or layout"):  # was KeyError: 'layout'
        _get(tmp_path, meta, "clip.mp4")


@pytest.mark.parametrize(("k", "item"), [(0, "notes.txt"), (1, "clip.mp4")])
def test_metadata_claiming_more_strands_than_the_catalogue_is_refused(tmp_path, k, item):
    """Was: a list of 10^12 rows (MemoryError, or the OOM killer) from a 1 kB input."""
    meta = _seed(k)
    name, n = next(iter(meta["streams"])), 2**45
    meta["streams"][name]["units"] = [[0, 0, 16, 0, n, 0]]
    meta["streams"][name]["strands"] = -(-n * 8 // meta["payload_bits"])
    if "file" in meta:
        meta["streams"][name]["units"] = [[0, 0, n, 0, n, 0]]
        meta["file"]["size"] = n
    del meta["outer_code"]
    with pytest.raises(HelixError, match="lays out .* data strands, the catalogue gives"):
        _get(tmp_path, meta, item)


def test_video_larger_than_8k_is_refused():
    meta = _seed(1)
    meta["video"]["width"] = meta["video"]["height"] = 16384  # FFmpeg refused: av error
    with pytest.raises(HelixError, match="larger than"):
        check_metadata(meta, "x")


def test_codec_picture_size_past_8k_is_refused(tmp_path):
    meta = _seed(1)
    meta["codec_params"]["width"] = 10**9  # was: av ArgumentError resizing the canvas
    with pytest.raises(HelixError, match="codec_params width is larger than"):
        _get(tmp_path, meta, "clip.mp4")


def test_forged_catalogue_and_header_read_cleanly(tmp_path):
    rng = np.random.default_rng(3)
    for mutate in (ft.mutate_pool, ft.mutate_header):
        for _ in range(20):
            with contextlib.suppress(HelixError):
                ft.target_pool(tmp_path, mutate(b"", rng))


def _video_meta() -> dict:
    """The metadata of a real video archive (the bitstream golden's)."""
    golden = Path(__file__).parent / "golden" / "formats-bitstream.json"
    return json.loads(golden.read_text())["metadata"]


def test_a_real_video_archives_metadata_passes():
    assert check_metadata(_video_meta(), "x")["kind"] == "video"


@pytest.mark.parametrize("fps", [[2**40, 1], [24, 2**31], [0, 1]])
def test_a_frame_rate_ffmpeg_cannot_hold_is_damaged_metadata(fps):
    """Found by the metadata fuzzer: 1/fps became a packet time base PyAV could not hold."""
    meta = _video_meta()
    meta["video"]["fps"] = fps
    with pytest.raises(HelixError, match="fps"):
        check_metadata(meta, "x")


def test_a_video_archive_without_a_video_stream_is_damaged_metadata():
    """Found by the metadata fuzzer: a range get looked the video stream up and failed."""
    meta = _video_meta()
    meta["streams"] = {"audio" if k == "video" else k: v for k, v in meta["streams"].items()}
    meta["streams"].pop("audio")
    with pytest.raises(HelixError, match="video stream"):
        check_metadata(meta, "x")


def test_forged_json_text_is_cut_where_readers_stop_without_being_made_whole():
    """Lists repeated 1000 times inside lists repeated 1000 times: a 10 GB text once dumped,
    whose making (not the product reading it) raised the fuzzer's peak to 0.7-3 GB."""
    doc = {"items": [[ft.DEEP, "a" * 5000] * 1000] * 1000}
    text = ft._dumps_capped(doc, 3000)
    assert len(text) == ft.MAX_FORGED_TEXT == layout.MAX_METADATA_TEXT + 1
    assert text.startswith(b'{"items":[[[' + b"[" * 2999)  # DEEP: nested 3000 deep
    small = {"a": [1, 2.5, None, ft.DEEP], "b": "\x1b"}
    assert (
        ft._dumps_capped(small, 2)
        == json.dumps(small, separators=(",", ":")).replace(json.dumps(ft.DEEP), "[[]]").encode()
    )
