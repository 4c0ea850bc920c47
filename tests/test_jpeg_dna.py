"""JPEG-DNA codec (seed 002), its verbatim coder, the mjpeg transcoding baseline, end to end."""

from fractions import Fraction

import av
import numpy as np
import pytest
from helix_media_builtins.codecs import jpeg_dna, jpeg_dna_image
from helix_media_builtins.coders import goldman, paircode
from test_coders import C, assert_constraints, contexts, structured_bits

from helix_media import plugins
from helix_media.archive.decode import decode_media
from helix_media.cli import main, transcode_main
from helix_media.dna.constraints import longest_runs
from helix_media.media.codec import VideoInfo
from helix_media.media.metrics import psnr
from helix_media.resources import sample_clip
from helix_media.strandio.strand_files import read_strands

SAMPLE = str(sample_clip())
W, H = 64, 48


def sample_frame(width=W, height=H) -> av.VideoFrame:
    with av.open(SAMPLE) as c:
        frame = next(c.decode(video=0))
    return frame.reformat(width=width, height=height, format="yuv420p")


def kinds(width=W, height=H) -> dict[str, av.VideoFrame]:
    rng = np.random.default_rng(3)
    black = np.zeros((height, width, 3), np.uint8)
    noise = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    return {
        "natural": sample_frame(width, height),
        "black": av.VideoFrame.from_ndarray(black, format="rgb24").reformat(format="yuv420p"),
        "noise": av.VideoFrame.from_ndarray(noise, format="rgb24").reformat(format="yuv420p"),
    }


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """Natural, black and noise frames (and again), stored losslessly (FFV1)."""
    path = tmp_path_factory.mktemp("jd") / "clip.mkv"
    frames = list(kinds().values()) * 2
    with av.open(str(path), "w") as out:
        vs = out.add_stream("ffv1", rate=Fraction(12))
        vs.width, vs.height, vs.pix_fmt = W, H, "yuv420p"
        for f in frames:
            f = f.reformat(format="yuv420p")
            f.pts = None
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode(None):
            out.mux(p)
    return path, [f.to_ndarray(format="rgb24") for f in frames]


# -- the paper's code ----------------------------------------------------------------------------
def test_table_one_categories_and_value_words():
    v = np.arange(-7775, 7776)
    cat = jpeg_dna_image.category(v)
    assert cat[v == 0] == 0 and set(cat[v != 0].tolist()) == set(range(2, 9))  # no category 1
    for c, lo, hi in ((2, 1, 5), (3, 6, 25), (4, 26, 75), (5, 76, 275), (8, 2776, 7775)):
        assert (cat[(np.abs(v) >= lo) & (np.abs(v) <= hi)] == c).all()
    for c in range(2, 9):
        sel = v[cat == c]
        idx = jpeg_dna_image.value_index(sel, cat[cat == c])
        assert sorted(idx.tolist()) == list(range(paircode.count(c)))  # a bijection onto words


def test_canonical_ternary_code_is_prefix_free_with_huffman_lengths():
    weights = [50, 20, 20, 9, 5, 3, 2, 1, 1, 1]
    lengths = [len(c) for c in goldman.ternary_huffman(weights)]
    code = goldman.canonical_code(lengths)
    assert [len(c) for c in code] == lengths
    for a in code:
        for b in code:
            assert a is b or a != b[: len(a)]
    with pytest.raises(ValueError):
        goldman.canonical_code([1, 1, 1, 1])  # four 1-trit words do not exist


@pytest.mark.parametrize("kind", ["natural", "black", "noise"])
@pytest.mark.parametrize("quality", [10, 50, 95])
def test_stream_is_dna_that_decodes_exactly(kind, quality):
    frame = kinds(72, 40)[kind]  # sizes that are not whole blocks
    planes = jpeg_dna._planes(frame)
    q = jpeg_dna_image.quant_tables(quality)
    bases = jpeg_dna_image.encode_bases(planes, q)
    assert len(bases) % 4 == 0 and bases.max() <= 3
    assert longest_runs(bases[None])[0] <= 2  # no homopolymer at all beyond 2
    shapes = jpeg_dna._plane_shapes(72, 40)
    zz, ok = jpeg_dna_image.decode_bases(bases, shapes)
    assert ok
    for ci, plane in enumerate(planes):  # the entropy code is lossless
        coef = jpeg_dna_image.DCT @ (jpeg_dna_image._blocks(plane) - 128.0) @ jpeg_dna_image.DCT.T
        want = np.rint(coef / q[min(ci, 1)].reshape(8, 8)).reshape(-1, 64)[:, jpeg_dna_image.ZIGZAG]
        np.testing.assert_array_equal(zz[ci], want)
    back = [jpeg_dna_image.reconstruct(zz[i], q[min(i, 1)], s) for i, s in enumerate(shapes)]
    if kind == "black":  # flat planes come back flat, within half a DC step (step / 8 per pixel)
        for ci, (b, p) in enumerate(zip(back, planes, strict=True)):
            assert b.min() == b.max()
            assert np.abs(b.astype(int) - p).max() <= q[min(ci, 1)][0] / 16 + 1


def test_codec_quality_rate_and_damage():
    codec = plugins.get_codec("jpeg-dna")
    frame = sample_frame(320, 240)
    info = VideoInfo(320, 240, Fraction(24))
    ref = frame.to_ndarray(format="rgb24")
    results = {}
    for q in (25, 75, 95):
        enc = codec.encoder(info, quality=q)
        (pkt,) = enc.encode(frame)
        (out,) = codec.decoder(info, enc.params).decode(pkt)
        results[q] = (len(pkt.data) * 4, psnr(out.to_ndarray(format="rgb24"), ref))
    assert results[25][0] < results[75][0] < results[95][0]
    assert 27 < results[25][1] < results[75][1] < results[95][1]
    assert results[75][1] > 32 and results[95][1] > 38
    # a deletion desynchronizes the rest of the frame: decoding stops, the rest is grey
    enc = codec.encoder(info, quality=75)
    (pkt,) = enc.encode(frame)
    bases = jpeg_dna.unpack_bases(pkt.data)
    cut = np.delete(bases, len(bases) // 2)
    cut = np.append(cut, cut[-1])  # same length: the rest of the stream shifts by one
    pkt.data = jpeg_dna.pack_bases(cut)
    dec = codec.decoder(info, enc.params)
    (out,) = dec.decode(pkt)
    assert not dec.last_ok
    assert psnr(out.to_ndarray(format="rgb24"), ref) < 25


@pytest.mark.parametrize("quality", [0, 101, -3])
def test_bad_quality_is_one_line_error(clip, tmp_path, capsys, quality):
    rc = transcode_main([str(clip[0]), str(tmp_path / "x.dnapkt"), "--codec", "jpeg-dna",
                         "--quality", str(quality), "-q"])  # fmt: skip
    err = capsys.readouterr().err
    assert rc != 0 and "Traceback" not in err


# -- the verbatim coder ----------------------------------------------------------------------------
def test_verbatim_coder_keeps_jpeg_dna_bases_and_every_constraint():
    coder = plugins.get_coder("verbatim", constraints=C)
    assert coder.whiten is False and coder.guarantees_constraints
    cap = coder.capacity(152)
    assert cap == 290
    k = cap // 2
    for kind, frame in kinds(320, 240).items():
        for q in (10, 90):
            s = jpeg_dna_image.encode_bases(jpeg_dna._planes(frame), jpeg_dna_image.quant_tables(q))
            n = len(s) // k
            stream = s[: n * k].reshape(n, k)
            bits = np.stack([stream >> 1, stream & 1], axis=2).reshape(n, 2 * k).astype(np.uint8)
            ctx = contexts(n, seed=q)
            bases = coder.encode(bits, 152, ctx)
            assert_constraints(ctx, bases)
            back, ok = coder.decode(bases, ctx)
            assert ok.all()
            np.testing.assert_array_equal(back, bits)
            fallback = coder.is_fallback(bases, ctx)
            assert fallback.mean() < 0.1, (kind, q)
            # verbatim blocks hold the stream itself, up to the balancing flip of a prefix
            plain = np.flatnonzero(~fallback)
            body = bases[plain, 5 : 5 + k]
            same = (body == stream[plain]) | (body == jpeg_dna_flip(stream[plain]))
            assert same.all()


def jpeg_dna_flip(b):
    return np.array([1, 0, 3, 2], np.uint8)[b]


def test_verbatim_coder_falls_back_on_arbitrary_bits():
    coder = plugins.get_coder("verbatim", constraints=C)
    bits = structured_bits(300, coder.capacity(152))
    ctx = contexts(300)
    bases = coder.encode(bits, 152, ctx)
    assert_constraints(ctx, bases)
    back, ok = coder.decode(bases, ctx)
    assert ok.all()
    np.testing.assert_array_equal(back, bits)
    with pytest.raises(ValueError):
        coder.encode(np.zeros((1, 7), np.uint8), 152, ctx[:1])


# -- end to end ----------------------------------------------------------------------------------
def test_transcode_jpeg_dna_end_to_end_from_dnapkt_fasta_and_reads(clip, tmp_path, capsys):
    path, originals = clip
    dna = tmp_path / "c.dnapkt"
    assert transcode_main([str(path), str(dna), "--codec", "jpeg-dna", "--quality", "60",
                           "-q"]) == 0  # fmt: skip
    header, seqs = read_strands(dna)
    assert header["coder"] == "verbatim" and header["codec"] == "jpeg-dna"
    strands = np.stack(seqs)
    fr = plugins.get_framer()
    report = fr.check(strands)
    assert report.ok(fr.constraints).all()  # GC 45-55 %, runs <= 3, no motif: every strand
    assert report.gc.min() >= 0.45 and report.gc.max() <= 0.55
    assert report.max_homopolymer.max() <= 3
    media = decode_media(str(dna))
    assert not media.result.concealed_frames
    got = [f.to_ndarray(format="rgb24") for f in media.frames]
    # the DNA layer is lossless: frames equal the codec's own decoding of its packets
    codec = plugins.get_codec("jpeg-dna")
    info = VideoInfo(W, H, Fraction(12))
    enc = codec.encoder(info, quality=60)
    dec = codec.decoder(info, enc.params)
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            (direct,) = dec.decode(enc.encode(f)[0])
            np.testing.assert_array_equal(direct.to_ndarray(format="rgb24"), got[i])
    assert psnr(got[0], originals[0]) > 25  # natural frame, downscaled: all detail
    assert psnr(got[1], originals[1]) > 40  # black frame
    # the data strands carry the codec's bases as they are: no whitening
    coder = plugins.get_coder("verbatim", constraints=fr.constraints)
    parsed = fr.parse(strands, coder, key=media.result.metadata["id"])
    first = np.flatnonzero(parsed.ok & (parsed.addresses == 0))[0]
    packet0 = enc_packets_first_bytes(path)
    assert np.packbits(parsed.payload[first]).tobytes()[:16] == packet0[:16]
    # FASTA, and simulated sequencing reads (FASTQ) decode to the same frames
    fasta, fastq = tmp_path / "c.fasta", tmp_path / "reads.fastq"
    assert main(["export", str(dna), str(fasta)]) == 0
    assert main(["simulate", str(fasta), str(fastq), "--coverage", "10", "--seed", "1"]) == 0
    capsys.readouterr()
    for src in (fasta, fastq):
        again = decode_media(str(src))
        assert not again.result.concealed_frames
        for a, b in zip(got, again.frames, strict=True):
            np.testing.assert_array_equal(a, b.to_ndarray(format="rgb24"))
    back = tmp_path / "back.mp4"
    assert transcode_main([str(fastq), str(back), "-q"]) == 0


def enc_packets_first_bytes(path) -> bytes:
    codec = plugins.get_codec("jpeg-dna")
    enc = codec.encoder(VideoInfo(W, H, Fraction(12)), quality=60)
    with av.open(str(path)) as c:
        return enc.encode(next(c.decode(video=0)))[0].data


def test_mjpeg_transcoding_baseline_end_to_end(clip, tmp_path):
    path, originals = clip
    dna = tmp_path / "m.dnapkt"
    assert transcode_main([str(path), str(dna), "--codec", "mjpeg", "--quality", "3",
                           "-q"]) == 0  # fmt: skip
    header, seqs = read_strands(dna)
    assert header["coder"] == "enumerative"
    fr = plugins.get_framer()
    assert fr.check(np.stack(seqs)).ok(fr.constraints).all()
    media = decode_media(str(dna))
    got = [f.to_ndarray(format="rgb24") for f in media.frames]
    assert len(got) == len(originals) and not media.result.concealed_frames
    assert psnr(got[0], originals[0]) > 30


@pytest.mark.slow
def test_bench_prints_both_tables(capsys):
    from helix_media.cli.bench import jpeg_dna as bench

    assert bench.main(["--frames", "2", "--trials", "1"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| jpeg-dna")]
    assert len(rows) == 5  # 4 qualities + the deletion row
    assert all(r.split("|")[7].strip() == "0" for r in rows[:4])  # no strand breaks a rule
    assert "| mjpeg |" in out and "| bitstream |" in out
