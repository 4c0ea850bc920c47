"""The HELIX codec: arithmetic coding, masking, strand packing, the ONNX runtime, round trips."""

from __future__ import annotations

import shutil
from fractions import Fraction

import numpy as np
import pytest
from clips import write_lossless
from helix_media_builtins.codecs.helix import encoder as helix_encoder
from helix_media_builtins.codecs.helix import token_strands
from helix_media_builtins.codecs.helix.arith import ArithmeticDecoder, ArithmeticEncoder
from helix_media_builtins.codecs.helix.codec import HelixDecoder, grid_sizes, nearest_fill
from helix_media_builtins.codecs.helix.masking import checkerboard_mask
from helix_media_builtins.codecs.helix.models import (
    FILES,
    LAYER_FILES,
    HelixModels,
    load_models,
    model_dir,
)
from helix_media_builtins.codecs.helix.tiling import HALO, TILE, tiles
from helix_media_builtins.codecs.helix.token_context import (
    CONT_DIM,
    TOKEN_LEVELS,
    check_tables,
    table_mask,
    to_tables,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from helix_media.archive.decode import decode_media
from helix_media.archive.encode import encode_video
from helix_media.archive.parse import read_dna
from helix_media.cli import transcode_main
from helix_media.errors import HelixError
from helix_media.media.codec import VideoInfo
from helix_media.media.metrics import psnr
from helix_media.resources import sample_clip
from helix_media.strandio.strand_files import read_strands, write_strands


@settings(max_examples=60, deadline=None)
@given(
    freqs=st.lists(st.integers(1, 4000), min_size=2, max_size=9),
    picks=st.lists(st.floats(0, 1, exclude_max=True), max_size=200),
)
def test_arithmetic_coder_round_trip_and_size_bound(freqs, picks):
    cum = np.concatenate([[0], np.cumsum(freqs)]).tolist()
    symbols = [min(int(p * len(freqs)), len(freqs) - 1) for p in picks]
    enc = ArithmeticEncoder()
    for s in symbols:
        enc.encode(cum, s)
    bound = enc.bits_if_finished()
    bits = enc.finish()
    assert len(bits) <= bound
    dec = ArithmeticDecoder(bits)
    assert [dec.decode(cum) for _ in symbols] == symbols


def test_checkerboard_mask_is_nested_and_complementary_at_half():
    half = checkerboard_mask(0.5, 2, 16, 16)
    assert half.mean() == 0.5
    assert (half[0] == ~half[1]).all()  # the two time slices complement each other
    assert not (half[0, :, 1:] & half[0, :, :-1]).any()  # no two masked neighbours in a row
    low, high = checkerboard_mask(0.4, 2, 16, 16), checkerboard_mask(0.7, 2, 16, 16)
    assert (low <= half).all() and (half <= high).all()
    assert abs(checkerboard_mask(0.6, 2, 32, 32).mean() - 0.6) < 0.01
    with pytest.raises(ValueError):
        checkerboard_mask(1.0, 2, 4, 4)


def test_committed_models_verify_and_tables_are_valid():
    models = load_models()
    assert set(models.ids) == set(FILES) | set(LAYER_FILES)  # the default set is layered
    assert len(models.id) == 16 and models.id not in models.ids.values()
    with np.load(model_dir() / FILES["context"]) as z:
        check_tables({k: z[k] for k in z.files})


def _random_items(rng, n_tok=300, cont_hw=(5, 8)):
    tok = np.stack([rng.integers(0, n, n_tok) for n in TOKEN_LEVELS], 1)
    cont = rng.integers(0, 16, (CONT_DIM, *cont_hw))
    return {"token": tok, "continuous": token_strands.continuous_items(cont)}


def test_continuous_items_round_trip_by_channel_group():
    cont = np.random.default_rng(0).integers(0, 16, (CONT_DIM, 3, 5))
    items = token_strands.continuous_items(cont)
    assert items.shape == (CONT_DIM // token_strands.CONT_GROUP * 15, token_strands.CONT_GROUP)
    assert (items[1] == cont[: token_strands.CONT_GROUP, 0, 1]).all()  # group 0, position 1
    assert (token_strands.continuous_from_items(items, 3, 5) == cont).all()
    flags = np.zeros(len(items), bool)
    flags[15] = True  # group 1, position 0: channels 4..7 of pixel (0, 0)
    got = token_strands.continuous_from_items(flags, 3, 5)
    assert got[4:8, 0, 0].all() and got.sum() == token_strands.CONT_GROUP


def test_token_tables_follow_the_nearest_counted_mask_ratio():
    assert table_mask(0.0) == 0.0 and table_mask(0.62) == 0.6 and table_mask(0.9) == 0.7
    cum = load_models().cum
    assert load_models().coding_tables(0.62)["token0"] is cum["token0@0.6"]
    assert cum["token0@0"] != cum["token0@0.6"]


def test_slices_fill_one_strand_each_and_decode_on_their_own():
    rng = np.random.default_rng(1)
    items = _random_items(rng)
    cum = load_models().coding_tables(0.6)
    slices = token_strands.pack(items, cum, 296)
    assert all(s.shape == (296,) for s in slices)
    sizes = {k: len(v) for k, v in items.items()}
    got = token_strands.unpack(slices, sizes, cum)
    for k in items:
        assert got[k][1].all()
        assert (got[k][0] == items[k]).all()
    # one slice holds the last tokens and the first continuous items: no part-empty strand
    kinds = [
        {k for k in items if (~token_strands.unpack([s], sizes, cum)[k][1]).sum() < sizes[k]}
        for s in slices
    ]
    assert kinds.count({"token", "continuous"}) == 1
    # lose one token slice: exactly its items are missing, everything else is intact
    lost = token_strands.unpack([None, *slices[1:]], sizes, cum)
    rec = lost["token"][1]
    assert not rec[0] and rec[-1] and 0 < (~rec).sum() < len(rec)
    assert (lost["token"][0][rec] == items["token"][rec]).all()
    assert lost["continuous"][1].all()
    # lose one continuous slice: only its items (some channels of some positions) are missing
    gone = slices[:-2] + [None] + slices[-1:]
    got = token_strands.unpack(gone, sizes, cum)
    rec = got["continuous"][1]
    assert not rec.all() and rec[0] and rec[-1] and got["token"][1].all()
    assert (got["continuous"][0][rec] == items["continuous"][rec]).all()


def _synthetic_cum(seed: int) -> dict:
    """Cumulative tables (mask 0.6 shapes) from random counts: fixed whatever models are
    installed, for golden vectors."""
    rng = np.random.default_rng(seed)
    L = TOKEN_LEVELS
    shapes = {"token0": (L[0] + 1, L[0])}
    shapes.update({f"token{d}": (L[d] + 1, L[d - 1], L[d]) for d in range(1, len(L))})
    shapes["continuous"] = (CONT_DIM, 17, 16)
    tables = to_tables({k: rng.integers(0, 50, s).astype(float) for k, s in shapes.items()})
    return {
        k: np.concatenate([np.zeros(t.shape[:-1] + (1,), np.int64), t.cumsum(-1)], -1).tolist()
        for k, t in tables.items()
    }


# three slices of layout 2 (one kind per slice), as helix params version 2 archives hold them
LAYOUT2_SLICES = (
    "002fdf57cc960440406dc330223721f818f6f14f0a21e5b7251e183b95c5a7b72e77640c40",
    "2e22a2a1c5058c7ad1359134aa34ccc33088ac6555bb7dc986044000000000000000000000",
    "80870f9d98761dc07ed5d21905be7a330a7dd7d00000000000000000000000000000000000",
)


def test_layout_2_slices_of_earlier_archives_still_decode():
    rng = np.random.default_rng(3)
    tok = np.stack([rng.integers(0, n, 40) for n in TOKEN_LEVELS], 1)
    cont = token_strands.continuous_items(rng.integers(0, 16, (CONT_DIM, 1, 2)))
    slices = [np.unpackbits(np.frombuffer(bytes.fromhex(h), np.uint8)) for h in LAYOUT2_SLICES]
    sizes = {"token": 40, "continuous": len(cont)}
    got = token_strands.unpack(slices, sizes, _synthetic_cum(7), layout=2)
    assert got["token"][1].all() and (got["token"][0] == tok).all()
    assert got["continuous"][1].all() and (got["continuous"][0] == cont).all()


def test_nearest_fill_copies_only_from_known_tokens():
    tok = np.zeros((4, 2, 4, 4), np.int64)
    known = np.zeros((2, 4, 4), bool)
    tok[:, 0, 0, 0], known[0, 0, 0] = [3, 1, 2, 4], True
    filled = nearest_fill(tok, known)
    assert (filled == np.array([3, 1, 2, 4]).reshape(4, 1, 1, 1)).all()


@pytest.fixture(scope="module")
def natural_frames():
    from helix_media.media.video_io import open_video

    return np.stack([f.to_ndarray(format="rgb24") for f in open_video(str(sample_clip())).frames()])


@pytest.mark.parametrize("quality", [1, 2])
def test_round_trip_odd_size_and_partial_gop(tmp_path, natural_frames, quality):
    """Level 1 codes the base at full size, level 2 at half size (73 x 39 here) under x265;
    --layers 1 gives the base alone, scaled back to 77 x 145."""
    clip = natural_frames[:11, 40:117, 60:205]  # 77 x 145, 11 frames: one GOP and a partial one
    write_lossless(tmp_path / "in.mkv", clip)
    out = tmp_path / "x.dnapkt"
    r = encode_video(
        str(tmp_path / "in.mkv"), str(out), codec="helix", quality=quality, audio=False
    )
    assert r.metadata["codec"] == "helix"
    assert r.metadata["codec_params"]["mask"] == (0.6 if quality == 1 else 0.4)
    for layers in (None, 1):
        media = decode_media(str(out), layers=layers)
        assert len(media.frames) == 11 and not media.result.concealed_frames
        got = np.stack([f.to_ndarray(format="rgb24") for f in media.frames])
        assert got.shape == clip.shape
        assert np.mean([psnr(a, b) for a, b in zip(clip, got, strict=True)]) > 17


def test_masking_saves_strands_and_losses_degrade_locally(tmp_path, natural_frames):
    write_lossless(tmp_path / "in.mkv", natural_frames[:16, :128, :128])
    masked = tmp_path / "m6.dnapkt"
    r0, r6 = (
        encode_video(
            str(tmp_path / "in.mkv"),
            str(tmp_path / f"m{mask * 10:.0f}.dnapkt"),
            codec="helix",
            quality=1,
            audio=False,
            codec_options={"mask": mask},
            redundancy=0,  # strands of the codec alone, and losses the outer code won't mend
        )
        for mask in (0.0, 0.6)
    )
    assert r6.data_strands <= 0.75 * r0.data_strands
    clean = np.stack([f.to_ndarray(format="rgb24") for f in decode_media(str(masked)).frames])
    header, seqs = read_strands(str(masked))
    keep = np.ones(len(seqs), bool)
    keep[-r6.data_strands :][::10] = False  # lose every 10th data strand
    write_strands(
        str(tmp_path / "lossy.dnapkt"),
        np.stack([s for s, k in zip(seqs, keep, strict=True) if k]),
        header,
    )
    media = decode_media(str(tmp_path / "lossy.dnapkt"))
    assert not media.result.concealed_frames and len(media.frames) == 16
    lossy = np.stack([f.to_ndarray(format="rgb24") for f in media.frames])
    assert psnr(clean, lossy) > 20  # degraded locally, not broken


def test_decoding_is_identical_across_threads_and_optimization_levels(tmp_path, natural_frames):
    write_lossless(tmp_path / "in.mkv", natural_frames[:8, :96, :128])
    out = tmp_path / "x.dnapkt"
    r = encode_video(str(tmp_path / "in.mkv"), str(out), codec="helix", quality=1, audio=False)
    packets = []

    class Recorder(HelixDecoder):
        def frames_from_tokens(self, tok, known, cont, layers=()):
            packets.append((tok.copy(), known.copy()))
            return super().frames_from_tokens(tok, known, cont, layers)

    from helix_media.blocks import layout

    _, meta, blocks, _ = read_dna(str(out))
    video = layout.StreamLayout(**meta["streams"]["video"])
    (packet,), _ = layout.unpack_stream(video, "video", blocks, meta["payload_bits"])
    info = VideoInfo.from_json(meta["video"])
    results = []
    for threads, level in ((1, "none"), (2, "all"), (2, "basic")):
        models = HelixModels(threads=threads, optimization=level)
        dec = Recorder(info, r.metadata["codec_params"], "cpu", "transformer", models=models)
        frames = np.stack([f.to_ndarray(format="rgb24") for f in dec.decode(packet)])
        results.append((packets[-1], frames))
    (tok0, known0), frames0 = results[0]
    for (tok, known), frames in results[1:]:
        assert (tok == tok0).all() and (known == known0).all()
        assert np.abs(frames.astype(int) - frames0).max() <= 2  # float noise only


def test_tampered_model_and_foreign_archive_are_refused(tmp_path):
    for f in model_dir().iterdir():
        shutil.copy(f, tmp_path / f.name)
    data = bytearray((tmp_path / FILES["context"]).read_bytes())
    data[-1] ^= 1
    (tmp_path / FILES["context"]).write_bytes(bytes(data))
    with pytest.raises(HelixError, match="sha256"):
        HelixModels(tmp_path)
    info = VideoInfo(64, 64, Fraction(24), 8)
    params = {"version": 2, "gop": 8, "mask": 0.6, "slice_bytes": 37, "models": "0" * 16}
    with pytest.raises(HelixError, match="other HELIX models"):
        HelixDecoder(info, params, "cpu", "transformer")
    # version 1 archives name each file's id: still checked against the installed files
    ids = {k: v for k, v in load_models().ids.items() if k in FILES}  # the 4 of version 1
    v1 = {**params, "version": 1, "models": {**ids, "predictor": "0" * 16}}
    with pytest.raises(HelixError, match="other HELIX models"):
        HelixDecoder(info, v1, "cpu", "transformer")
    decoder = HelixDecoder(info, {**v1, "models": ids}, "cpu", "transformer")
    assert {k: decoder.models.ids[k] for k in FILES} == ids


def test_cli_helix_round_trip_is_deterministic(tmp_path, natural_frames, capsys):
    write_lossless(tmp_path / "in.mkv", natural_frames[:8, :64, :96])
    a, b = tmp_path / "a.dnapkt", tmp_path / "b.dnapkt"
    for out in (a, b):
        assert (
            transcode_main(
                [
                    str(tmp_path / "in.mkv"),
                    str(out),
                    "--codec",
                    "helix",
                    "--quality",
                    "1",
                    "--mask",
                    "0.5",
                    "-q",
                ]
            )
            == 0
        )
    assert np.array_equal(np.stack(read_strands(str(a))[1]), np.stack(read_strands(str(b))[1]))
    assert transcode_main([str(a), str(tmp_path / "back.mp4"), "-q"]) == 0
    assert (tmp_path / "back.mp4").stat().st_size > 0
    assert (
        transcode_main(
            [
                str(tmp_path / "in.mkv"),
                str(tmp_path / "c.dnapkt"),
                "--codec",
                "helix",
                "--mask",
                "1.5",
                "-q",
            ]
        )
        != 0
    )
    assert "--mask must be in [0, 1)" in capsys.readouterr().err
    assert not (tmp_path / "c.dnapkt").exists()


def test_grid_sizes_match_the_encoder():
    mask, sizes = grid_sizes(145, 77, 0.6, 3)
    assert mask.shape == (2, 12, 20) and sizes == {"token": int((~mask).sum()), "continuous": 60}
    # from version 4, tokens of padding only (rows 10-11, columns 19) are not stored
    mask4, sizes4 = grid_sizes(145, 77, 0.6, 4)
    assert mask4[:, 10:].all() and mask4[:, :, 19:].all()
    assert (mask4[:, :10, :19] == mask[:, :10, :19]).all()
    assert sizes4["token"] == int((~mask[:, :10, :19]).sum())


def test_version_3_archives_without_padding_rule_still_decode(
    tmp_path, natural_frames, monkeypatch
):
    clip = natural_frames[:8, :77, :145]
    write_lossless(tmp_path / "in.mkv", clip)
    strands = {}
    for version in (3, 4):
        monkeypatch.setattr(helix_encoder, "PARAMS_VERSION", version)
        out = tmp_path / f"v{version}.dnapkt"
        r = encode_video(str(tmp_path / "in.mkv"), str(out), codec="helix", quality=1, audio=False)
        assert r.metadata["codec_params"]["version"] == version
        strands[version] = r.data_strands
        monkeypatch.undo()
        got = np.stack([f.to_ndarray(format="rgb24") for f in decode_media(str(out)).frames])
        assert got.shape == clip.shape and psnr(clip, got) > 18
    assert strands[4] < strands[3]  # the padding tokens were stored in version 3


@pytest.mark.parametrize("h, w", [(4, 4), (20, 24), (32, 40), (36, 12)])
def test_predictor_tiles_cover_the_grid_once_on_aligned_windows(h, w):
    covered = np.zeros((h, w), int)
    for (ry, rx), (ky, kx), (dy, dx) in tiles(h, w, align=4):
        assert ry.start % 4 == rx.start % 4 == ry.stop % 4 == rx.stop % 4 == 0
        assert (
            ry.stop - ry.start <= TILE + 2 * HALO + 6 and rx.stop - rx.start <= TILE + 2 * HALO + 6
        )
        run = np.zeros((h, w), int)
        run[ry, rx] = 1
        assert run[dy, dx].all()  # the kept part lies inside the run window...
        assert (ky.start + ry.start, kx.start + rx.start) == (dy.start, dx.start)  # ...at its place
        covered[dy, dx] += 1
    assert (covered == 1).all()


def test_a_picture_beyond_4k_is_refused_before_any_work():
    """Its networks run over the whole claimed picture, so forged metadata claiming 8192^2
    (or an 8K input) is refused by the decoder and the encoder alike."""
    ids = {k: v for k, v in load_models().ids.items() if k in FILES}
    params = {"version": 1, "gop": 8, "mask": 0.6, "slice_bytes": 37, "models": ids}
    for w, h in ((8192, 8192), (7680, 4320), (0, 64)):
        info = VideoInfo(w, h, Fraction(24), 8)
        with pytest.raises(HelixError, match="beyond what it takes"):
            HelixDecoder(info, params, "cpu", "transformer")
        with pytest.raises(HelixError, match="beyond what it takes"):
            helix_encoder.HelixEncoder(info, None, 37, "cpu", None)
    HelixDecoder(VideoInfo(3840, 2160, Fraction(24), 8), params, "cpu", "transformer")
