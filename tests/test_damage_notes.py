"""A salvaged ``.dnapkt`` says what was damaged: a header read around, packets left out."""

from __future__ import annotations

from helix_media.cli import main, transcode_main


def _archive(tmp_path):
    src = tmp_path / "notes.txt"
    src.write_bytes(b"the archive's own words, " * 200)
    out = tmp_path / "a.dnapkt"
    assert transcode_main([str(src), str(out), "-q"]) == 0
    return src, out


def test_a_damaged_header_is_read_around_and_noted(tmp_path, capsys):
    src, arc = _archive(tmp_path)
    data = bytearray(arc.read_bytes())
    data[30] ^= 0xFF  # inside the header's JSON: its CRC fails
    arc.write_bytes(bytes(data))
    capsys.readouterr()
    assert transcode_main([str(arc), str(tmp_path / "back.txt")]) == 0
    assert (tmp_path / "back.txt").read_bytes() == src.read_bytes()
    err = capsys.readouterr().err
    assert "damaged header" in err and "found from the strands" in err
    assert "bad packets" not in err
    assert main(["verify", str(arc)]) == 0
    assert "note: damaged header" in capsys.readouterr().out


def test_damaged_packets_are_counted_in_the_note_and_by_verify(tmp_path, capsys):
    src, arc = _archive(tmp_path)
    data = bytearray(arc.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 40] = bytes(40)
    arc.write_bytes(bytes(data))
    capsys.readouterr()
    transcode_main([str(arc), str(tmp_path / "back.txt")])
    assert "bad packets were left out" in capsys.readouterr().err
    main(["verify", str(arc)])
    assert "damaged packets:" in capsys.readouterr().out
