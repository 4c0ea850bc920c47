"""User-facing errors: the CLI prints them as one line and exits non-zero."""


class HelixError(Exception):
    """An error caused by the user's input or environment, not by a bug."""
