"""Imports every feed module so that each registers its config model and collector by type."""

from __future__ import annotations

# One line per pluggable feed module (feeds/<module>.py), nothing else here.
