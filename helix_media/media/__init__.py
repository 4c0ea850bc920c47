"""Frames and packets: the codec API, video and audio I/O, quality metrics."""
