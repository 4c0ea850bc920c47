"""Designing sequences: constrained code sets and PCR primers."""
