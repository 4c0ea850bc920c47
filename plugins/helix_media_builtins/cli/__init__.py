"""The built-ins' command lines: argument parsing only, each calling its plugin's library code
(``python -m helix_media_builtins.codecs.helix.train``: :mod:`.helix_train`)."""
