"""The package's version, in a module of its own: modules that record it in what they write
import it from here, not from ``helix_media`` (whose type-checking imports reach them)."""

__version__ = "0.1.0"
