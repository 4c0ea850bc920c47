"""Simulated nanopore reads against real ones, side by side (the ``nanopore-r9`` profile's fit).

    helix bench channel-fit [--split valid|test] [--profile P] [--seed S] [--plot FILE.png]

Takes the references of Microsoft's Clustered Nanopore Reads (``shared/data/nanopore-cnr``,
or ``$HELIX_NANOPORE_DATA``; skipped when absent), simulates as many reads of each as it has
real ones through the profile (reads oriented as the reference, kept only at 106-115 nt as the
dataset's were), aligns real and simulated reads to their references with edlib and prints both:
edit-operation mix, mean edit distance, edit-distance histogram, error rates by homopolymer run
and along the strand. The profile was fitted on ``valid`` (the default); ``--split test`` shows
the same on clusters the fit never saw.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from helix_media.channel.errorstats import (
    EDIT_HIST,
    ErrorStats,
    load_clusters,
    measure,
    nanopore_data,
    reads_like,
)
from helix_media.channel.profiles import profile_channel

LENGTHS = (106, 115)  # the dataset's reads were trimmed and kept at 106-115 nt


def compare(
    clusters: list[tuple[str, list[str]]], profile: str = "nanopore-r9", seed: int = 1
) -> tuple[ErrorStats, ErrorStats]:
    """(real, simulated) statistics of the clusters' reads and as many simulated ones."""
    refs = [ref for ref, _ in clusters]
    counts = [len(reads) for _, reads in clusters]
    channel = profile_channel(profile, seed=seed)
    sim = reads_like(refs, counts, channel, LENGTHS)
    real = measure((r, ref) for ref, reads in clusters for r in reads)
    return real, measure((r, ref) for ref, rs in zip(refs, sim, strict=True) for r in rs)


def table(real: ErrorStats, sim: ErrorStats) -> str:
    """The side-by-side table, as text."""

    def pct(x: float) -> str:
        return f"{100 * x:6.2f}"

    lines = [f"{'':<26}{'real':>10}{'simulated':>11}"]

    def row(label: str, a: str, b: str) -> None:
        lines.append(f"{label:<26}{a:>10}{b:>11}")

    row("reads", f"{real.reads:,}", f"{sim.reads:,}")
    row(
        "mean read length, nt",
        f"{real.read_bases / real.reads:.2f}",
        f"{sim.read_bases / sim.reads:.2f}",
    )
    for k, name in enumerate(("substitutions", "insertions", "deletions")):
        row(f"{name} % per base", pct(real.rates()[k]), pct(sim.rates()[k]))
    row("all edits % per base", pct(real.rates().sum()), pct(sim.rates().sum()))
    row("mean edit distance", f"{real.mean_edit():.3f}", f"{sim.mean_edit():.3f}")
    row("exact reads %", pct(real.edit_share()[0]), pct(sim.edit_share()[0]))
    row("insertions 1/2/3/4+ nt %", _join(real.ins_length_share()), _join(sim.ins_length_share()))
    row("transitions % of subs", pct(_transitions(real)), pct(_transitions(sim)))
    lines.append("\nedit distance histogram, % of reads")
    lines.append(f"{'distance':<10}" + "".join(f"{d:>6}" for d in _edit_labels()))
    lines.append(f"{'real':<10}" + "".join(f"{100 * x:6.1f}" for x in real.edit_share()))
    lines.append(f"{'simulated':<10}" + "".join(f"{100 * x:6.1f}" for x in sim.edit_share()))
    lines.append("\nby homopolymer run length, % per base: real / simulated")
    lines.append(f"{'run':<6}{'sub':>16}{'ins':>16}{'del':>16}{'all':>16}")
    hr, hs = real.homopolymer_rates(), sim.homopolymer_rates()
    for c, label in enumerate(("1", "2", "3", "4+")):
        cells = [f"{pct(hr[k, c])} /{pct(hs[k, c])}" for k in range(3)]
        cells.append(f"{pct(hr[:, c].sum())} /{pct(hs[:, c].sum())}")
        lines.append(f"{label:<6}" + "".join(f"{x:>16}" for x in cells))
    lines.append("\nalong the strand (10 bins, 5' to 3'), % per base: real / simulated")
    lines.append(f"{'bin':<6}{'sub':>16}{'ins':>16}{'del':>16}{'all':>16}")
    pr, ps = real.position_rates(), sim.position_rates()
    for b in range(real.bins):
        cells = [f"{pct(pr[k, b])} /{pct(ps[k, b])}" for k in range(3)]
        cells.append(f"{pct(pr[:, b].sum())} /{pct(ps[:, b].sum())}")
        lines.append(f"{b:<6}" + "".join(f"{x:>16}" for x in cells))
    return "\n".join(lines)


def _join(x: np.ndarray) -> str:
    return "/".join(f"{100 * v:.0f}" for v in x)


def _transitions(st: ErrorStats) -> float:
    m = st.sub_matrix
    return (m[0, 2] + m[2, 0] + m[1, 3] + m[3, 1]) / max(1, m.sum())


def _edit_labels() -> list[str]:
    return [str(d) for d in range(EDIT_HIST - 1)] + [f"{EDIT_HIST - 1}+"]


def plot(real: ErrorStats, sim: ErrorStats, path: str, title: str) -> None:
    """A 2x2 figure: edit distances, operation mix, homopolymer and position profiles."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(2, 2, figsize=(11, 7.5))
    x = np.arange(EDIT_HIST)
    w = 0.4
    for k, (st, label) in enumerate(((real, "real"), (sim, "simulated"))):
        ax[0, 0].bar(x + (k - 0.5) * w, 100 * st.edit_share(), w, label=label)
        ax[0, 1].bar(np.arange(3) + (k - 0.5) * w, 100 * st.rates(), w, label=label)
    ax[0, 0].set_xticks(x, _edit_labels())
    ax[0, 0].set(xlabel="edit distance to the reference", ylabel="% of reads")
    ax[0, 1].set_xticks(np.arange(3), ["substitutions", "insertions", "deletions"])
    ax[0, 1].set(ylabel="% per base")
    colors = ("C0", "C1", "C2")
    for k, op in enumerate(("sub", "ins", "del")):
        for st, style, label in ((real, "-o", "real"), (sim, "--x", "simulated")):
            ax[1, 0].plot(
                [1, 2, 3, 4],
                100 * st.homopolymer_rates()[k],
                style,
                color=colors[k],
                label=f"{op} {label}",
            )
            ax[1, 1].plot(
                np.arange(st.bins),
                100 * st.position_rates()[k],
                style,
                color=colors[k],
                label=f"{op} {label}",
            )
    ax[1, 0].set_xticks([1, 2, 3, 4], ["1", "2", "3", "4+"])
    ax[1, 0].set(xlabel="homopolymer run length", ylabel="% per base")
    ax[1, 1].set(xlabel="position bin along the strand (5' to 3')", ylabel="% per base")
    for a in ax.ravel():
        a.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(
    *, split: str, profile: str, seed: int, data: str | None = None, plot_path: str | None = None
) -> int:
    """Print the comparison on the ``split`` clusters (folder ``data``, default
    :func:`~helix_media.channel.errorstats.nanopore_data`; skipped, exit 0, when absent);
    ``plot_path``: draw it too."""
    folder = Path(data) if data else nanopore_data()
    path = None if folder is None else folder / f"{split}.json"
    if path is None or not path.is_file():
        print("skipped: the real nanopore reads (shared/data/nanopore-cnr) are absent")
        return 0
    clusters = load_clusters(path)
    real, sim = compare(clusters, profile, seed)
    print(
        f"{path.name}: {len(clusters)} references; {profile} simulates as many reads of "
        f"each (seed {seed}), kept at {LENGTHS[0]}-{LENGTHS[1]} nt like the real ones;"
    )
    print("both aligned to the references with edlib\n")
    print(table(real, sim))
    if plot_path:
        plot(real, sim, plot_path, f"{profile} vs real reads ({path.name})")
        print(f"\n{plot_path}: written")
    return 0
