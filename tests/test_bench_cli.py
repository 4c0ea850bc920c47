"""``helix bench``: one command line per benchmark in ``helix_media/cli/bench/``, each the
options of a library function in ``helix_media/benchmarks/``; ``helix bench --help`` lists them."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from helix_media import benchmarks
from helix_media.cli import bench as bench_cli
from helix_media.cli import main


def test_every_benchmark_has_its_command_and_every_command_a_benchmark():
    library = {m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name[0] != "_"}
    assert {n.replace("-", "_") for n in bench_cli.available()} == library
    assert "fuzz" in bench_cli.available() and "channel-fit" in bench_cli.available()


def test_bench_help_lists_every_benchmark_with_a_line_each(capsys):
    with pytest.raises(SystemExit) as done:
        main(["bench", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: helix bench NAME [options]")
    for name in bench_cli.available():
        line = next(x for x in out.splitlines() if x.split()[:1] == [name])
        assert len(line.split(maxsplit=1)[1]) > 20, line
    assert "  cost  " in out and "What a minute of video costs in DNA" in out  # no ``prefix``


@pytest.mark.parametrize("name", bench_cli.available())
def test_each_benchmarks_own_help(name, capsys):
    with pytest.raises(SystemExit) as done:
        main(["bench", name, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: helix bench {name} ")
    module = importlib.import_module(f"helix_media.benchmarks.{name.replace('-', '_')}")
    assert module.__doc__.splitlines()[0] in " ".join(out.split())  # its description


def test_bench_without_a_name_or_with_an_unknown_one_is_a_one_line_error(capsys):
    assert main(["bench"]) == 1
    assert "helix bench --help" in capsys.readouterr().err
    assert main(["bench", "nope"]) == 1
    assert "unknown benchmark 'nope'" in capsys.readouterr().err


def test_bench_channel_times_a_profiles_reads(capsys):
    assert main(["bench", "channel", "--reads", "1500", "--profile", "nanopore-r10"]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert "(150 strands, nanopore-r10 10x) -> " in first and int(first.split()[-3]) > 100
    assert "reads/s; " in out and "CPU, reading and read path" in out
    assert main(["bench", "channel", "--reads", "10", "--coverages", "x"]) == 1
    assert "--coverages takes numbers" in capsys.readouterr().err
