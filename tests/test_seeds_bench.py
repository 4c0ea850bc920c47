"""``helix bench seeds`` runs both parts and prints the tables the README quotes."""

import pytest

from helix_media.benchmarks import seeds
from helix_media.cli.bench import seeds as seeds_cli


@pytest.mark.slow
def test_bench_seeds_small(capsys):
    argv = ["--blocks", "40", "--trials", "1", "--seconds", "0.2", "--max-length", "6"]
    assert seeds_cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "| fountain | 336 bits / 240 nt |" in out
    assert "| DNA Fountain (published) |" in out and "1.57" in out
    for label, _, _ in seeds.CONFIGS:  # every framer setting round-trips all inputs
        row = next(line for line in out.splitlines() if line.startswith(f"| {label} | "))
        assert "all-zero ok, repetitive ok, random ok" in row
    assert "| hidden-address | 1/1 (100.0 %) |" in out  # no dropout: full decode
    table = [line for line in out.splitlines() if line.startswith("| 4 | 3 |")]
    assert table and table[0].split("|")[3].strip() == "12"  # N=4, D=3: 12 words, as EORS
    assert "| NO |" not in out
