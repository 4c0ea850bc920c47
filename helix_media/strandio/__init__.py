"""Strands on disk: the .dnapkt container, FASTA/FASTQ, and atomic writes."""
