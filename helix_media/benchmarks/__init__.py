"""Benchmarks: each public module measures one thing on this machine and prints a table.

A module's ``run(**options)`` (or, for ``channel``, one function per sweep) takes its options
as keyword arguments and returns an exit code; ``helix bench NAME [options]`` parses them in
:mod:`helix_media.cli.bench` (``available()``, ``run(name, argv)``). Figures are measured each
time, nothing cached. Modules whose name starts with ``_`` are helpers of the benchmarks, not
benchmarks.
"""
