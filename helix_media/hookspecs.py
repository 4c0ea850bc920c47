"""Every plugin hook of helix-media, in one module; each docstring documents its hook.

A plugin is a module (or object) with functions marked ``@hookimpl`` and named like the specs
below, registered through the ``helix_media`` entry-point group. Each ``register_*`` hook gets a
``register(name, factory)`` callable; ``factory(**params)`` must return the plugin object.
"""

import pluggy

hookspec = pluggy.HookspecMarker("helix_media")
hookimpl = pluggy.HookimplMarker("helix_media")


@hookspec
def register_coders(register):
    """Register constraint coders (bits <-> bases): ``helix_media.dna.coder.ConstraintCoder``."""


@hookspec
def register_framers(register):
    """Register framers (payload bits <-> whole addressed strands): ``helix_media.dna.framer``."""


@hookspec
def register_codecs(register):
    """Register video codecs (frames <-> packets), see ``helix_media.media.codec.Codec``."""


@hookspec
def register_read_processors(register):
    """Register read clustering / consensus stages (reads -> strand estimates)."""


@hookspec
def add_codec_options(group):
    """Add a codec's own ``helix-transcode`` options to ``group`` (an argparse argument
    group); return ``{dest: "encode" | "decode" | "both"}`` saying which coder side each
    option's value is passed to (as a keyword, when given). Unknown options are an error for
    every codec, so an option reaches only the codec it was written for."""
