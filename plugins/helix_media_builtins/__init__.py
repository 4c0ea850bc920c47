"""helix-media's built-in plugins. They register through entry points like any third-party
package (see pyproject.toml); the core never imports this package.

One subpackage per kind of plugin, each module that registers a plugin beside the helpers only
it (or its kind) uses: :mod:`.codecs` (``register_codecs``), :mod:`.coders`
(``register_coders``), :mod:`.framers` (``register_framers``). A plugin may import another
kind's plugin module (the helix framer codes with the enumerative coder, jpeg-dna's image
coder with goldman and paircode, helix's enhancement layer with bitstream); no helper is
shared between kinds, so there is no common module. :mod:`.cli` holds the command lines of
the built-ins' tools (the HELIX training recipe), the only place here that uses argparse."""
