"""The DNA layer: nucleotides, synthesis constraints, the constraint-coder and framer APIs,
Reed-Solomon."""
