"""The plugin manager: loads entry points of group ``helix_media`` and keeps one registry per kind.

The core never imports the built-ins: they arrive through their entry points like any
third-party package (they are the entry points of this package's own distribution,
``helix-media``). Set ``HELIX_MEDIA_PLUGINS`` to a comma-separated list of distribution names
to load only those third-party plugins (an empty value: none), e.g. to debug a misbehaving
plugin; the built-ins always load.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import pluggy

from helix_media import hookspecs
from helix_media.errors import HelixError

#: the kinds of plugin, each filled by its ``register_<kind>`` hook (:mod:`helix_media.hookspecs`)
KINDS = ("coders", "framers", "codecs")

#: The default codec is the one users should pick: of every codec and setting that reaches
#: 35 dB on the bundled sample, the one with the fewest strands (``helix bench helix`` prints
#: both; ``helix bench cost`` every bitstream setting). Today that is bitstream (SVT-AV1 at
#: preset 1) at its default CRF; helix takes over when one of its settings gets there with
#: fewer strands.
DEFAULTS = {"coders": "enumerative", "framers": "helix", "codecs": "bitstream"}


@dataclass(frozen=True)
class Registration:
    kind: str
    name: str
    factory: Callable[..., Any]
    plugin: str  # the name of the plugin (distribution / module) that registered it


_pm: pluggy.PluginManager | None = None
_registry: dict[str, dict[str, Registration]] | None = None


#: the distribution whose entry points are the built-ins (this package's own)
CORE_DISTRIBUTION = "helix-media"


def _normalized(name: str) -> str:
    """A distribution name as packaging compares them (PEP 503): ``Helix_Plugin.x`` is
    ``helix-plugin-x``."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    allowed = os.environ.get("HELIX_MEDIA_PLUGINS")
    allow = None if allowed is None else {_normalized(n) for n in allowed.split(",") if n.strip()}
    for ep in metadata.entry_points(group="helix_media"):
        dist = _normalized(ep.dist.name if ep.dist else ep.name)
        if allow is not None and dist != CORE_DISTRIBUTION and dist not in allow:
            continue
        if pm.get_plugin(ep.name) is not None:
            continue
        pm.register(ep.load(), name=ep.name)


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, loaded on first use."""
    global _pm
    if _pm is None:
        pm = pluggy.PluginManager("helix_media")
        pm.add_hookspecs(hookspecs)
        _load_entry_points(pm)
        try:
            pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise HelixError(f"a plugin implements an unknown hook: {exc}") from exc
        _pm = pm
    return _pm


def _collect() -> dict[str, dict[str, Registration]]:
    global _registry
    if _registry is None:
        pm = get_plugin_manager()
        reg: dict[str, dict[str, Registration]] = {k: {} for k in KINDS}
        for kind in KINDS:
            hook = getattr(pm.hook, f"register_{kind}")
            for impl in hook.get_hookimpls():
                plugin_name = pm.get_name(impl.plugin) or repr(impl.plugin)

                def register(name: str, factory, _k=kind, _p=plugin_name) -> None:
                    if name in reg[_k]:
                        raise HelixError(
                            f"{_k[:-1]} {name!r} registered twice "
                            f"(by {reg[_k][name].plugin} and {_p})"
                        )
                    reg[_k][name] = Registration(_k, name, factory, _p)

                impl.function(register=register)
        _registry = reg
    return _registry


def reset() -> None:
    """Forget loaded plugins (tests use this after installing or registering one)."""
    global _pm, _registry
    _pm = None
    _registry = None


def register_plugin(plugin: object, name: str | None = None) -> None:
    """Register an in-process plugin object (tests, notebooks); entry points are loaded too."""
    global _registry
    get_plugin_manager().register(plugin, name=name)
    get_plugin_manager().check_pending()
    _registry = None


def unregister_plugin(name: str) -> None:
    global _registry
    get_plugin_manager().unregister(name=name)
    _registry = None


def registrations(kind: str) -> dict[str, Registration]:
    return dict(_collect()[kind])


def create(kind: str, name: str | None = None, **params: Any) -> Any:
    """Build the plugin object ``name`` of ``kind`` (``coders``, ``framers``, ``codecs``...)."""
    name = name or DEFAULTS.get(kind)
    regs = _collect()[kind]
    if name not in regs:
        known = ", ".join(sorted(regs)) or "none"
        raise HelixError(f"unknown {kind[:-1]} {name!r} (registered: {known})")
    return regs[name].factory(**params)


def get_coder(name: str | None = None, **params: Any):
    return create("coders", name, **params)


def get_framer(name: str | None = None, **params: Any):
    return create("framers", name, **params)


def get_codec(name: str | None = None, **params: Any):
    return create("codecs", name, **params)


def add_codec_options(group) -> dict[str, str]:
    """Every plugin's codec options, added to argparse ``group``: {dest: role} (see the
    ``add_codec_options`` hook)."""
    roles: dict[str, str] = {}
    for answer in get_plugin_manager().hook.add_codec_options(group=group):
        roles.update(answer or {})
    return roles


def quality_help() -> str:
    """What ``quality`` is for each registered codec, in its own words
    (:meth:`.Codec.quality_help`): "bitstream: CRF, ...; helix: level 1-7, higher is better
    (6); ...", the help of ``--quality``. Codecs with nothing to say, or that cannot be built,
    are left out."""
    parts = []
    for name in sorted(registrations("codecs")):
        try:
            text = get_codec(name).quality_help()
        except Exception:  # noqa: BLE001 - one broken plugin must not break every command's help
            continue
        if text:
            parts.append(f"{name}: {text}")
    return "; ".join(parts)
