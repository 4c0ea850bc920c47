"""Sequencing reads back to strand estimates: trim, cluster, consensus, paired-end merging."""
