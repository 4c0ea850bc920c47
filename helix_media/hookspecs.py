"""Every plugin hook of helix-media, in one module; each docstring documents its hook.

A plugin is a module (or object) with functions marked ``@hookimpl`` and named like the specs
below, registered through the ``helix_media`` entry-point group (or, in-process, with
:func:`helix_media.plugins.register_plugin`). A function named like no spec here is an error
when plugins load, so a misspelled hook fails loudly. Every plugin's implementation of a hook
is called; what one returns never stops the others.

The ``register_*`` hooks fill one registry per kind (coders, framers, codecs): each is called
once per process, the first time a plugin of any kind is looked up (``helix_media.plugins``:
``get_coder``, ``get_framer``, ``get_codec``, ``registrations``; every command does), with a
``register(name, factory)`` callable. ``register`` records ``factory`` under ``name``; it
builds nothing. ``factory(**params)`` is called each time a plugin of that name is needed (so
it should be cheap, and must not depend on being called once) and returns the plugin object;
a class whose constructor takes the parameters is the usual factory.
"""

import pluggy

hookspec = pluggy.HookspecMarker("helix_media")
hookimpl = pluggy.HookimplMarker("helix_media")


@hookspec
def register_coders(register):
    """Register constraint coders: rows of bits <-> rows of bases that obey the synthesis
    constraints (:class:`helix_media.ConstraintCoder`).

    Called once per process, before the first coder, framer or codec is looked up.

    :param register: ``register(name, factory)``: adds the coder ``name``, the name
        ``--coder`` takes and archives record (so decoding finds it again). Names are unique
        across all plugins: a second ``register`` of a name raises
        :class:`helix_media.HelixError` naming both plugins. ``factory(**params)`` is called
        whenever the coder is needed and must return a :class:`helix_media.ConstraintCoder`;
        it receives ``constraints`` (the framer's :class:`helix_media.Constraints`, primers
        included) whenever it encodes or decodes strands (``helix plugins`` passes the
        default framer's), and whatever else a caller of
        :func:`helix_media.plugins.get_coder` passes.

    The return value is ignored.
    """


@hookspec
def register_framers(register):
    """Register framers: payload bits <-> whole addressed strands (primers, address,
    inner code), :class:`helix_media.Framer`.

    Called once per process, before the first coder, framer or codec is looked up.

    :param register: ``register(name, factory)``: adds the framer ``name``, the name
        ``--framer`` takes and archives record. Names are unique across all plugins: a
        second ``register`` of a name raises :class:`helix_media.HelixError`.
        ``factory(**params)`` is called whenever the framer is needed and must return a
        :class:`helix_media.Framer`; it receives the framer parameters an archive records
        (e.g. ``primer5`` and ``primer3``) when one is written or read, none otherwise.
        Decoding strands of unknown origin tries every registered framer, so it must build
        with no parameters.

    The return value is ignored.
    """


@hookspec
def register_codecs(register):
    """Register codecs: video frames <-> packets (:class:`helix_media.Codec`), or whole
    files' bytes <-> packets (:class:`helix_media.FileCodec`).

    Called once per process, before the first coder, framer or codec is looked up.

    :param register: ``register(name, factory)``: adds the codec ``name``, the name
        ``--codec`` takes and archives record. Names are unique across all plugins: a second
        ``register`` of a name raises :class:`helix_media.HelixError`. ``factory()`` is
        called with no parameters whenever the codec is needed (to encode, to decode, to
        describe an archive's settings, to build ``--quality``'s help) and must return a
        :class:`helix_media.Codec` or :class:`helix_media.FileCodec`; settings reach its
        ``encoder`` / ``decoder`` (or ``pack``) instead.

    The return value is ignored.
    """


@hookspec
def add_codec_options(group):
    """Add a codec's own ``helix-transcode`` options, and say which side of the codec each
    one's value goes to.

    Called each time ``helix-transcode``'s argument parser is built, before the command line
    is parsed.

    :param group: an ``argparse`` argument group ("codec options (added by the codec
        plugins)"): add options with ``group.add_argument``. Start each option's help with
        the codec's name (``"helix: ..."``); leave its default ``None``, so that only options
        given on the command line are passed on.

    :return: ``{dest: "encode" | "decode" | "both"}``, for each option added: whether its
        value (when given) goes to the codec's ``encoder(...)``, its ``decoder(...)`` or
        both, as the keyword ``dest``. Every option given reaches whichever codec runs, and
        codecs refuse options they do not know (:class:`helix_media.HelixError`), so an
        option only works with the codec it was written for.
    """
