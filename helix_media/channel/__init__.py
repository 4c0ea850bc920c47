"""What synthesis, storage and sequencing do to strands: models for simulation and benchmarks."""
