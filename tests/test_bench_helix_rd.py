"""The RD summary of ``helix bench helix``: BD-rate and the plot."""

from helix_media.benchmarks.helix import bd_rate, ladder, plot


def test_bd_rate_of_a_curve_needing_twice_the_strands_is_plus_100_percent():
    anchor = [(100, 30.0), (200, 33.0), (400, 36.0), (800, 39.0)]
    test = [(2 * s, p) for s, p in anchor]
    assert abs(bd_rate(anchor, test) - 1.0) < 1e-9
    assert abs(bd_rate(test, anchor) + 0.5) < 1e-9
    assert bd_rate(anchor, [(50, 20.0), (60, 21.0)]) is None  # no common PSNR range


def test_plot_writes_a_png(tmp_path):
    rows = lambda pts: [{"strands": s, "psnr": p, "frames": 48} for s, p in pts]  # noqa: E731
    curves = {
        "clip.mp4": (
            rows([(80, 20.0), (120, 21.0)]),
            rows([(100, 20.5), (200, 22.0)]),
            rows([(200, 26.0), (600, 33.0)]),
        )
    }
    plot(curves, tmp_path / "rd.png")
    data = (tmp_path / "rd.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_x265_at_equal_strands_interpolates_its_curve_and_never_extrapolates():
    from helix_media.benchmarks.helix import x265_at

    curve = [{"strands": s, "psnr": p} for s, p in ((100, 30.0), (400, 36.0))]
    assert abs(x265_at(curve, 200) - 33.0) < 1e-9  # halfway in log strands
    assert x265_at(curve, 50) is None and x265_at(curve, 800) is None


def test_ladder_picks_the_rungs_of_one_setting():
    rows = [
        {"setting": name}
        for name in ("helix q1", "helix q1, mask 0", "helix q1, 5 % strands lost", "helix q12")
    ]
    assert [r["setting"] for r in ladder(rows)] == ["helix q1", "helix q12"]
    assert [r["setting"] for r in ladder(rows, ", mask 0")] == ["helix q1, mask 0"]
