"""HELIX's learned enhancement layers (``--enhancement learned``): layered strands, --layers,
loss of enhancement strands, determinism. The x265 enhancement: test_helix_x265_enhancement."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np
import pytest
from archive_edits import without_streams
from helix_media_builtins.codecs.helix import layer_strands
from helix_media_builtins.codecs.helix.codec import HelixEncoder, layer_positions, layer_symbols
from helix_media_builtins.codecs.helix.models import HelixModels, load_models

from helix_media.archive.decode import decode_media
from helix_media.blocks.outer_code import auto_redundancy
from helix_media.cli import transcode_main
from helix_media.errors import HelixError
from helix_media.media.codec import VideoInfo
from helix_media.media.metrics import psnr
from helix_media.strandio.strand_files import read_strands, write_strands

LEARNED = ("--enhancement", "learned")
RUNGS = load_models().rungs
TOP_LAYERS = load_models().rung_settings[-1][0]  # enhancement layers of the top quality


def _encode(sample_crop, out, quality):
    args = [str(sample_crop[0]), str(out), "--codec", "helix", "--quality", str(quality)]
    assert transcode_main([*args, *LEARNED, "-q"]) == 0


@pytest.fixture(scope="module")
def top_rung(sample_crop, tmp_path_factory):
    """``sample_crop`` at the top quality, every learned layer: an archive the tests only read."""
    out = tmp_path_factory.mktemp("top") / "x.dnapkt"
    _encode(sample_crop, out, RUNGS)
    return out


def _psnr(frames, media) -> float:
    return float(
        np.mean(
            [
                psnr(a, f.to_ndarray(format="rgb24"))
                for a, f in zip(frames, media.frames, strict=True)
            ]
        )
    )


def test_the_default_set_has_a_ladder():
    assert RUNGS >= 5


def test_layer_slices_round_trip_and_a_lost_slice_loses_only_its_run():
    rng = np.random.default_rng(0)
    n, size = 20_000, 31
    counts = np.ones((3, size), np.int64)
    counts[:, 15] = 3000
    counts[:, 14] = counts[:, 16] = 200
    cum = layer_strands.cumulative(counts)
    table_of = rng.integers(0, 3, n)
    p = counts / counts.sum(1, keepdims=True)
    symbols = np.array([rng.choice(size, p=p[t]) for t in table_of])
    slices = layer_strands.pack(symbols, table_of, cum, 296)
    got, received = layer_strands.unpack(list(slices), n, table_of, cum)
    assert received.all() and (got == symbols).all()
    ideal = -np.log2(p[table_of, symbols]).sum()
    assert slices.size < 1.25 * ideal  # headers and termination cost < 25 %
    lossy = list(slices)
    lossy[2] = None
    got, received = layer_strands.unpack(lossy, n, table_of, cum)
    assert (got[received] == symbols[received]).all()
    missing = np.flatnonzero(~received)
    assert len(missing) and missing.max() - missing.min() + 1 == len(missing)  # one run


@pytest.mark.slow
def test_each_layer_has_its_own_strands_and_any_prefix_decodes(sample_crop, top_rung):
    out = top_rung
    media = decode_media(str(out))
    streams = media.result.metadata["streams"]
    names = [f"video.{k}" if k else "video" for k in range(TOP_LAYERS + 1)]
    assert [n for n in streams if n.startswith("video")] == names
    ranges = sorted((s["first_strand"], s["first_strand"] + s["strands"]) for s in streams.values())
    assert all(
        a[1] <= b[0] for a, b in zip(ranges, ranges[1:], strict=False)
    )  # disjoint address ranges
    assert media.result.complete and len(media.frames) == 16
    quality = []
    for k in range(1, TOP_LAYERS + 2):
        part = decode_media(str(out), layers=k)
        assert part.result.complete and len(part.frames) == 16 and not part.result.concealed_frames
        quality.append(_psnr(sample_crop[1], part))
    assert quality[-1] > quality[0] + 3  # the layers add detail
    assert quality[-1] == pytest.approx(_psnr(sample_crop[1], media), abs=1e-6)


def test_only_the_base_layers_strands_decode_every_frame(top_rung, tmp_path, capsys):
    """Sequencing the base layer alone (a cheap preview): --layers 1 is complete; asking for
    every layer reports the enhancement strands lost, and still gives every frame."""
    out = top_rung
    layers = [f"video.{k}" for k in range(1, TOP_LAYERS + 1)]
    without_streams(out, tmp_path / "base.dnapkt", layers)
    assert (
        transcode_main(
            [str(tmp_path / "base.dnapkt"), str(tmp_path / "b.mkv"), "--layers", "1", "-q"]
        )
        == 0
    )
    assert transcode_main([str(tmp_path / "base.dnapkt"), str(tmp_path / "a.mkv"), "-q"]) == 3
    assert "video.1 units lost" in capsys.readouterr().err
    full = decode_media(str(tmp_path / "base.dnapkt"))
    assert len(full.frames) == 16 and not full.result.concealed_frames
    base_only = decode_media(str(out), layers=1)
    # the second layer refines the first: without layer 1's strands it cannot be used
    without_streams(out, tmp_path / "no1.dnapkt", ["video.1"])
    no_first = decode_media(str(tmp_path / "no1.dnapkt"))
    assert len(no_first.frames) == 16
    for a, b in zip(base_only.frames, no_first.frames, strict=True):
        assert (a.to_ndarray(format="rgb24") == b.to_ndarray(format="rgb24")).all()


@pytest.mark.slow
def test_the_base_layer_has_an_outer_code_of_its_own(sample_crop, tmp_path):
    """Levels with layers protect the base layer's strands (which every layer needs) with 0.1
    of their own: as many lost base strands as it has parity cost nothing. The layers get the
    default outer code (auto, sized for 2 % dropout), or none with --redundancy 0."""
    out = tmp_path / "x.dnapkt"
    _encode(sample_crop, out, 2)
    clean = decode_media(str(out))
    meta = clean.result.metadata
    base = meta["streams"]["video"]
    bits = meta["outer_code"]["block_bits"]
    assert meta["outer_code"]["scheme"] == "rs-cauchy-ranges"
    base_range = [base["first_strand"], base["strands"], 0.1]
    layers = [s for k, s in meta["streams"].items() if k != "video"]
    assert meta["outer_code"]["ranges"] == [base_range] + [
        [s["first_strand"], s["strands"], auto_redundancy(s["strands"], bits)] for s in layers
    ]
    parity = -(-base["strands"] // 10)
    without_streams(out, tmp_path / "hurt.dnapkt", ["video"], parity)
    hurt = decode_media(str(tmp_path / "hurt.dnapkt"))
    assert hurt.result.complete and hurt.result.stats["strands_recovered"] == parity
    for a, b in zip(clean.frames, hurt.frames, strict=True):
        assert (a.to_ndarray(format="rgb24") == b.to_ndarray(format="rgb24")).all()
    bare = tmp_path / "bare.dnapkt"
    args = ["--codec", "helix", "--quality", "2", *LEARNED, "--redundancy", "0", "-q"]
    assert transcode_main([str(sample_crop[0]), str(bare), *args]) == 0
    assert decode_media(str(bare)).result.metadata["outer_code"]["ranges"] == [base_range]
    assert transcode_main([str(sample_crop[0]), str(bare), *args, "--stream-redundancy",
                           "video=0"]) == 0  # fmt: skip
    assert "outer_code" not in decode_media(str(bare)).result.metadata
    _encode(sample_crop, bare, 1)  # the base alone: the default outer code
    assert decode_media(str(bare)).result.metadata["outer_code"]["scheme"] == "rs-cauchy"


def test_a_lost_enhancement_strand_costs_little(sample_crop, top_rung, tmp_path):
    out = top_rung
    header, seqs = read_strands(str(out))
    clean = _psnr(sample_crop[1], decode_media(str(out)))
    rng = np.random.default_rng(3)
    keep = rng.random(len(seqs)) >= 0.05
    write_strands(
        str(tmp_path / "lossy.dnapkt"),
        np.stack([s for s, k in zip(seqs, keep, strict=True) if k]),
        header,
    )
    lossy = decode_media(str(tmp_path / "lossy.dnapkt"))
    assert len(lossy.frames) == 16
    assert _psnr(sample_crop[1], lossy) > clean - 3


@pytest.fixture(scope="module")
def sessions_by_setting():
    """The model set under each thread count and graph optimization, loaded once for every
    rung (sessions keep no state between runs)."""
    settings = ((1, "none"), (2, "all"), (2, "basic"))
    return [HelixModels(threads=threads, optimization=level) for threads, level in settings]


@pytest.mark.parametrize("quality", range(2, RUNGS + 1))
def test_layer_symbols_are_identical_across_threads_and_optimization_levels(
    sample_crop, sessions_by_setting, quality
):
    info = VideoInfo(128, 96, Fraction(24))
    results = []
    for models in sessions_by_setting:
        enc = HelixEncoder(info, 0.6, 37, "cpu", quality, enhancement="learned")
        enc.models = enc.base.models = models
        gop = sample_crop[1][:8]
        tok, cont = enc.tokens(gop)
        results.append((tok, enc.code_layers(gop, tok, cont)))
    for tok, layers in results[1:]:
        assert (tok == results[0][0]).all()
        assert layers == results[0][1]


def test_quality_and_layers_are_checked(sample_crop, tmp_path, capsys):
    assert (
        transcode_main(
            [
                str(sample_crop[0]),
                str(tmp_path / "x.dnapkt"),
                "--codec",
                "helix",
                "--quality",
                str(RUNGS + 1),
                *LEARNED,
                "-q",
            ]
        )
        == 1
    )
    assert f"--quality must be 1 to {RUNGS}" in capsys.readouterr().err
    assert (
        transcode_main([str(sample_crop[0]), str(tmp_path / "x.dnapkt"), "--layers", "1", "-q"])
        == 1
    )
    assert "--layers selects layers when decoding" in capsys.readouterr().err
    assert not (tmp_path / "x.dnapkt").exists()
    _encode(sample_crop, tmp_path / "y.dnapkt", 2)
    with pytest.raises(HelixError, match="--layers must be 1 or more"):
        decode_media(str(tmp_path / "y.dnapkt"), layers=0)


def test_refinement_symbols_reconstruct_the_latent_to_the_last_step():
    lt = load_models().layers
    y = np.random.default_rng(0).normal(0, 2, (lt.channels, 2, 3, 4)).astype(np.float32)
    flat = y.transpose(1, 2, 3, 0).reshape(-1)
    q = np.zeros_like(flat, dtype=np.float64)
    for k, s in enumerate(layer_symbols(flat, lt.steps, lt.max_symbol)):
        q += s * lt.steps[k]
        inside = np.abs(flat) < lt.max_symbol * lt.steps[0]
        assert np.abs(q - flat)[inside].max() <= lt.steps[k] / 2 + 1e-6


def test_pool_range_of_a_layered_item_reads_only_its_gops_in_the_layers_asked(
    sample_crop, tmp_path
):
    from helix_media.archive import pool

    p = str(tmp_path / "pool.dnapkt")
    pool.add_items(p, [str(sample_crop[0])], codec="helix", quality=3)  # the x265 enhancement
    whole = pool.decode_item(p, "in.mkv")
    assert len(whole.frames) == 16
    first = pool.decode_item(p, "in.mkv", start=0.0, duration=0.2)  # frames 0..4: GOP 0
    base = pool.decode_item(p, "in.mkv", start=0.0, duration=0.2, layers=1)
    assert len(first.frames) == len(base.frames) == 5
    assert first.stats["units"] == base.stats["units"] == [0]
    assert base.touched["data"] < first.touched["data"] < whole.touched["data"]
    for a, b in zip(first.frames, whole.frames, strict=False):
        assert np.array_equal(a.to_ndarray(format="rgb24"), b.to_ndarray(format="rgb24"))


def test_masked_layers_store_the_unmasked_positions_interleaved():
    lt = dataclasses.replace(load_models().layers, masked=True)
    info = VideoInfo(100, 70, Fraction(24))  # padded to 128 x 96: 3 columns, 3 rows of padding
    keep0, order0 = layer_positions(lt, info, 0.0)
    keep6, order6 = layer_positions(lt, info, 0.6)
    assert keep0.shape == (lt.latent_t, 12, 16)
    assert not keep0[:, 9:].any() and not keep0[:, :, 13:].any() and keep0[:, :9, :13].all()
    assert not (keep6 & ~keep0).any()  # the mask drops positions, nested as the token mask
    assert keep6.sum() == pytest.approx(0.4 * keep0.sum(), rel=0.1)
    for keep, order in ((keep0, order0), (keep6, order6)):
        assert sorted(order) == np.flatnonzero(keep).tolist()  # each stored position once
        t, y, x = np.unravel_index(order, keep.shape)
        # a strand's run of positions is scattered over the GOP, not a patch
        for start in range(0, len(order) - 8, 8):
            run = slice(start, start + 8)
            assert len(set(zip(y[run], x[run], strict=True))) == 8
            assert max(np.ptp(y[run]), np.ptp(x[run])) >= 4
    plain_keep, plain_order = layer_positions(dataclasses.replace(lt, masked=False), info, 0.6)
    assert plain_keep.all() and (plain_order == np.arange(plain_keep.size)).all()


@pytest.mark.skipif(not load_models().layers.masked, reason="the default set's layers are unmasked")
def test_the_layer_mask_drops_enhancement_strands(sample_crop, tmp_path, capsys):
    strands = {}
    for layer_mask in ("0", "0.6"):
        out = tmp_path / f"m{layer_mask}.dnapkt"
        args = ["--codec", "helix", "--quality", "2", *LEARNED, "--layer-mask", layer_mask, "-q"]
        assert transcode_main([str(sample_crop[0]), str(out), *args]) == 0
        media = decode_media(str(out))
        assert media.result.complete and len(media.frames) == 16
        strands[layer_mask] = media.result.metadata["streams"]["video.1"]["strands"]
    assert strands["0.6"] < 0.6 * strands["0"]
    args = ["--codec", "helix", "--quality", "2", *LEARNED, "--layer-mask", "1", "-q"]
    assert transcode_main([str(sample_crop[0]), str(tmp_path / "x.dnapkt"), *args]) == 1
    assert "--layer-mask must be in [0, 1)" in capsys.readouterr().err


@pytest.mark.skipif(not load_models().layers.masked, reason="the default set's layers are unmasked")
def test_each_quality_level_has_its_own_default_masks():
    info = VideoInfo(64, 64, Fraction(24))
    levels = [
        HelixEncoder(info, None, 37, "cpu", q, enhancement="learned") for q in range(1, RUNGS + 1)
    ]
    got = [(e.layers, e.mask_ratio, e.layer_mask) for e in levels]
    assert got[:2] == [(0, 0.6, 0.6), (1, 0.6, 0.6)]  # the base alone, then layer 1 masked
    assert got[2:] == [(k, 0.0, 0.0) for k in range(1, TOP_LAYERS + 1)]  # then all whole
    given = HelixEncoder(info, 0.3, 37, "cpu", 3, layer_mask=0.5, enhancement="learned")
    assert (given.mask_ratio, given.layer_mask) == (0.3, 0.5)
    assert (
        HelixEncoder(info, 0.3, 37, "cpu", 2, enhancement="learned").layer_mask == 0.3
    )  # layers follow the base
    assert given.params["layer_mask"] == 0.5 and given.params["mask"] == 0.3
