"""A short fuzzing pass over every parser of user input (``helix bench fuzz`` runs 10^5 each)."""

import pytest

from helix_media.benchmarks._fuzzing import TARGETS, fuzz, mutate_json
from helix_media.cli import main

SHORT = {"reads": 150}  # the whole read path is slower per input


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.slow
def test_no_crash_and_no_hang(target):
    report = fuzz(target, SHORT.get(target, 400), seed=7)
    assert report.inputs == SHORT.get(target, 400)
    assert report.rejected > 0  # bad inputs were made, and refused with the project's error
    assert report.crashes == [] and report.hangs == 0


def test_json_mutations_change_the_document():
    import json

    import numpy as np

    rng = np.random.default_rng(0)
    seed = json.dumps({"a": [1, 2, {"b": 3}], "c": "x"}).encode()
    outs = {mutate_json(seed, rng) for _ in range(50)}
    assert len(outs - {seed}) > 10


def test_bench_fuzz_prints_a_table(capsys):
    assert main(["bench", "fuzz", "--inputs", "20", "--target", "fasta"]) == 0
    out = capsys.readouterr().out
    assert "| fasta | 20 |" in out


def test_reads_without_any_metadata_candidate_are_a_clear_error(tmp_path):
    """Found by the fuzzer: reads whose every strand estimate looks like data (no metadata
    candidate to parse) crashed the framer on an empty array."""
    import numpy as np

    from helix_media import plugins

    fr = plugins.get_framer("helix")
    assert len(fr.parse(np.zeros((0, 240), np.uint8), fr.metadata_coder).ok) == 0
    coder = plugins.get_coder(None, constraints=fr.constraints)
    bits = np.zeros((3, fr.payload_bits(coder)), np.uint8)
    strands = fr.frame(np.arange(3), bits, coder, key=7)  # data strands only
    path = tmp_path / "data_only.fasta"
    path.write_text(
        "".join(f">r{i}\n{''.join('ACGT'[b] for b in s)}\n" for i, s in enumerate(strands))
    )
    assert main(["verify", str(path)]) == 1
