"""Whole archives both ways: videos, files and pools to strands and back, and helix_media.open()."""
