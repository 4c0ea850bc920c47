"""HELIX's x265 enhancement (the default ladder): levels, strands of its own that decode to
the yardstick's frames, --layers, lost enhancement strands, determinism, and golden archives
of params versions 7 and 8."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from archive_edits import without_streams
from clips import write_clip, write_lossless
from helix_media_builtins.codecs.helix.codec import (
    DEFAULT_QUALITY,
    X265_BASE_MASK,
    X265_BASE_SCALE,
    HelixEncoder,
)
from helix_media_builtins.codecs.helix.x265_layer import CRFS

from helix_media.archive.decode import decode_media
from helix_media.cli import main, transcode_main
from helix_media.media.codec import VideoInfo
from helix_media.media.metrics import psnr
from helix_media.strandio.strand_files import read_strands

GOLDEN = Path(__file__).parent / "golden"


def _encode(sample_crop, out, quality: int, *extra: str) -> None:
    args = [str(sample_crop[0]), str(out), "--codec", "helix", "--quality", str(quality)]
    assert transcode_main([*args, *extra, "-q"]) == 0


def _frames(media) -> np.ndarray:
    return np.stack([f.to_ndarray(format="rgb24") for f in media.frames])


def _psnr(reference, frames) -> float:
    return float(np.mean([psnr(a, b) for a, b in zip(reference, frames, strict=True)]))


def test_levels_above_the_base_add_an_x265_enhancement_at_falling_crf():
    info = VideoInfo(64, 64, Fraction(24))
    levels = [HelixEncoder(info, None, 37, "cpu", q) for q in range(1, len(CRFS) + 2)]
    assert levels[0].x265 is None and "x265" not in levels[0].params
    assert [e.params["x265"]["crf"] for e in levels[1:]] == list(CRFS)
    assert [e.params["x265"]["gop"] for e in levels[1:]] == [16] * len(CRFS)
    assert all(e.layers == 0 for e in levels) and levels[0].mask_ratio == 0.6
    assert all(e.mask_ratio == X265_BASE_MASK for e in levels[1:])
    assert levels[0].base_scale == 1 and "base_scale" not in levels[0].params
    assert X265_BASE_SCALE == 2
    assert all(e.params["base_scale"] == X265_BASE_SCALE for e in levels[1:])
    assert sorted(CRFS, reverse=True) == list(CRFS)


def test_the_default_level_is_x265_at_its_own_default_crf():
    """No --quality: level 6, libx265's default CRF 28; the learned ladder's default stays
    its base alone."""
    info = VideoInfo(64, 64, Fraction(24))
    default = HelixEncoder(info, None, 37, "cpu", None)
    assert default.params["x265"]["crf"] == 28 == CRFS[DEFAULT_QUALITY["x265"] - 2]
    assert default.params == HelixEncoder(info, None, 37, "cpu", 6).params
    learned = HelixEncoder(info, None, 37, "cpu", None, enhancement="learned")
    assert learned.x265 is None and learned.layers == 0 and learned.mask_ratio == 0.6


def test_the_enhancement_has_strands_of_its_own_and_quality_rises(sample_crop, tmp_path):
    """Each level stores more strands and decodes closer to the source; the base layer is
    the same at every level above 1, and --layers 1 gives all its frames."""
    strands, quality, bases = [], [], []
    for q in (1, 2, 5, 7):
        out = tmp_path / f"q{q}.dnapkt"
        _encode(sample_crop, out, q)
        media = decode_media(str(out))
        assert media.result.complete and len(media.frames) == 16
        streams = media.result.metadata["streams"]
        assert [n for n in streams if n.startswith("video")] == (
            ["video"] if q == 1 else ["video", "video.1"]
        )
        strands.append(sum(s["strands"] for s in streams.values()))
        quality.append(_psnr(sample_crop[1], _frames(media)))
        if q > 1:
            bases.append(_frames(decode_media(str(out), layers=1)))
            assert bases[-1].shape == sample_crop[1].shape
            assert _psnr(sample_crop[1], bases[-1]) < quality[-1]
    assert all(np.array_equal(b, bases[0]) for b in bases)
    assert strands == sorted(strands) and quality == sorted(quality)
    assert quality[-1] > quality[0] + 8


@pytest.mark.parametrize("quality", [2, 7])
def test_the_enhancement_decodes_to_the_yardsticks_frames(sample_crop, tmp_path, quality):
    """Simulcast: the enhancement is the bitstream codec's libx265 at the level's CRF, so the
    frames are exactly those x265 in DNA gives at that CRF."""
    helix, x265 = tmp_path / "helix.dnapkt", tmp_path / "x265.dnapkt"
    _encode(sample_crop, helix, quality)
    crf = str(CRFS[quality - 2])
    args = [str(sample_crop[0]), str(x265), "--codec", "bitstream", "--quality", crf, "-q"]
    args += ["--video-codec", "libx265"]  # bitstream's default is SVT-AV1 (docs/cost.md)
    assert transcode_main(args) == 0
    assert np.array_equal(_frames(decode_media(str(helix))), _frames(decode_media(str(x265))))


def test_both_layers_get_an_outer_code_that_repairs_lost_strands(sample_crop, tmp_path):
    out = tmp_path / "x.dnapkt"
    _encode(sample_crop, out, 3)
    clean = decode_media(str(out))
    meta = clean.result.metadata
    assert meta["outer_code"]["redundancy"] == 0.1  # both layers alike: one plain code
    hurt = tmp_path / "hurt.dnapkt"
    without_streams(out, hurt, ["video.1"], count=2, skip=3)
    repaired = decode_media(str(hurt))
    assert repaired.result.complete and repaired.result.stats["strands_recovered"] == 2
    assert np.array_equal(_frames(repaired), _frames(clean))


def test_a_lost_enhancement_strand_costs_only_the_rest_of_its_gop(sample_crop, tmp_path):
    """Without an outer code, a lost strand ends its GOP's enhancement there: the frames
    decoded before it keep theirs, the rest of the GOP shows the base, other GOPs are intact."""
    clip = tmp_path / "in.mkv"  # 32 frames: two enhancement GOPs
    frames = np.concatenate([sample_crop[1], sample_crop[1][::-1]])
    write_lossless(clip, frames)
    out = tmp_path / "x.dnapkt"
    _encode((clip, frames), out, 4, "--stream-redundancy", "video.1=0")
    clean = _frames(decode_media(str(out)))
    base = _frames(decode_media(str(out), layers=1))
    hurt = tmp_path / "hurt.dnapkt"
    without_streams(out, hurt, ["video.1"], count=1, skip=3)  # in the first GOP
    got = _frames(decode_media(str(hurt)))
    assert len(got) == 32
    assert np.array_equal(got[16:], clean[16:])
    changed = [k for k in range(16) if not np.array_equal(got[k], clean[k])]
    assert changed and all(np.array_equal(got[k], base[k]) for k in changed)
    assert _psnr(frames, got) > _psnr(frames, base)


def test_the_same_input_gives_the_same_strands_and_frames(sample_crop, tmp_path):
    for name in ("a", "b"):
        _encode(sample_crop, tmp_path / f"{name}.dnapkt", 3)
    a, b = (read_strands(str(tmp_path / f"{n}.dnapkt"))[1] for n in ("a", "b"))
    assert np.array_equal(a, b)
    one, two = (_frames(decode_media(str(tmp_path / "a.dnapkt"))) for _ in range(2))
    assert np.array_equal(one, two)


def test_probe_says_the_level_and_what_it_stores(sample_crop, tmp_path, capsys):
    for quality, says in (
        (1, "codec: level 1: the learned base (mask 0.6, model set "),
        (4, "codec: level 4: x265 at CRF 36, GOPs of 16, over the learned base (half size, "),
    ):
        _encode(sample_crop, tmp_path / f"q{quality}.dnapkt", quality)
        assert main(["probe", str(tmp_path / f"q{quality}.dnapkt")]) == 0
        assert says in capsys.readouterr().out


def test_an_unknown_enhancement_is_a_one_line_error(sample_crop, tmp_path, capsys):
    out = tmp_path / "x.dnapkt"
    args = [str(sample_crop[0]), str(out), "--codec", "helix", "--enhancement", "dct", "-q"]
    with pytest.raises(SystemExit):
        transcode_main(args)
    assert "invalid choice: 'dct'" in capsys.readouterr().err
    assert not out.exists()
    assert transcode_main([*args[:4], "--quality", str(len(CRFS) + 2), "-q"]) == 1
    assert f"--quality must be 1 to {len(CRFS) + 1}" in capsys.readouterr().err


@pytest.mark.parametrize("version", [7, 8])
def test_the_golden_x265_archives_decode(version):
    """Archives of params version 7 (base at full size) and 8 (base at half size) decode to
    the frames they gave when written (scripts/make_golden.py --x265): x265 exactly, the base
    layer alone (version 8) within float noise."""
    path = GOLDEN / f"helix-x265-v{version}.dnapkt"
    media = decode_media(str(path))
    params = media.result.metadata["codec_params"]
    assert params["version"] == version and params["x265"]["crf"] == CRFS[-1]
    with np.load(path.with_suffix(".frames.npz")) as z:
        expected = dict(z)
    assert np.array_equal(_frames(media), expected["frames"])
    if version >= 8:
        assert params["base_scale"] == 2
        base = _frames(decode_media(str(path), layers=1)).astype(int)
        assert base.shape == expected["base"].shape == expected["frames"].shape
        assert np.abs(base - expected["base"]).max() <= 2


def test_audio_is_protected_like_the_video_unless_told_otherwise(tmp_path):
    """Where the codec gives its streams an outer code, the audio gets the same (a lost audio
    strand costs about a second of sound); --stream-redundancy audio=0 turns it off, and a
    codec that asks for none leaves every stream to the default (auto: one plain code sized
    for 2 % dropout) or to the user (--redundancy 0: none)."""
    clip = write_clip(tmp_path / "a.mp4", frames=16, size=(64, 48), audio=True)

    def ranges(out, *extra) -> dict[str, float]:
        assert transcode_main([str(clip), str(out), *extra, "-q"]) == 0
        meta = decode_media(str(out)).result.metadata
        if "outer_code" not in meta:
            return {}
        if meta["outer_code"]["scheme"] == "rs-cauchy":  # one plain code over every stream
            return {n: meta["outer_code"]["redundancy"] for n in meta["streams"]}
        first = {s["first_strand"]: n for n, s in meta["streams"].items()}
        return {first[f]: r for f, _, r in meta["outer_code"]["ranges"]}

    helix = ["--codec", "helix", "--quality", "2"]
    assert ranges(tmp_path / "h.dnapkt", *helix) == {"video": 0.1, "video.1": 0.1, "audio": 0.1}
    off = ranges(tmp_path / "off.dnapkt", *helix, "--stream-redundancy", "audio=0")
    assert off == {"video": 0.1, "video.1": 0.1}
    plain = ranges(tmp_path / "b.dnapkt", "--codec", "bitstream")
    assert set(plain) == {"video", "audio"} and len(set(plain.values())) == 1
    assert 0 < plain["video"] < 1
    assert ranges(tmp_path / "b0.dnapkt", "--codec", "bitstream", "--redundancy", "0") == {}


def test_gop_sets_the_enhancement_gop_in_multiples_of_the_helix_gop(sample_crop, tmp_path, capsys):
    """--gop 32: one enhancement packet covers four HELIX GOPs and decodes to bitstream's
    frames at the same GOP; other values and level 1 are one-line errors."""
    clip = tmp_path / "in.mkv"
    frames = np.concatenate([sample_crop[1], sample_crop[1][::-1]])  # 32 frames
    write_lossless(clip, frames)
    out = tmp_path / "g.dnapkt"
    _encode((clip, frames), out, 3, "--gop", "32")
    media = decode_media(str(out))
    assert media.result.metadata["codec_params"]["x265"]["gop"] == 32
    ref = tmp_path / "ref.dnapkt"
    args = [str(clip), str(ref), "--codec", "bitstream", "--quality", str(CRFS[1]), "--gop", "32"]
    args += ["--video-codec", "libx265"]  # bitstream's default is SVT-AV1 (docs/cost.md)
    assert transcode_main([*args, "-q"]) == 0
    assert np.array_equal(_frames(media), _frames(decode_media(str(ref))))
    assert len(_frames(decode_media(str(out), layers=1))) == 32
    for bad, says in (("12", "must be a multiple of the HELIX GOP (8 frames)"), ("0", "not 0")):
        assert transcode_main([str(clip), str(tmp_path / "b.dnapkt"), "--codec", "helix",
                               "--quality", "3", "--gop", bad, "-q"]) == 1  # fmt: skip
        assert says in capsys.readouterr().err
    assert transcode_main([str(clip), str(tmp_path / "b.dnapkt"), "--codec", "helix",
                           "--quality", "1", "--gop", "16", "-q"]) == 1  # fmt: skip
    assert "--gop is the x265 enhancement's" in capsys.readouterr().err
    assert not (tmp_path / "b.dnapkt").exists()
