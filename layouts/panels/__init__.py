"""Panels: parts of the screens built from data, each a function (and its callbacks, if any)."""
