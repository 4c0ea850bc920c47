"""helix-media's built-in plugins. They register through entry points like any third-party
package (see pyproject.toml); the core never imports this package."""
