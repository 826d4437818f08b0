"""Imports every feed module so that each registers its config model and collector by type."""

# ruff: noqa: F401  (the imports are for their side effect: registration)
from __future__ import annotations

# One line per pluggable feed module (feeds/<module>.py), nothing else here.
import feeds.camera_poll
import feeds.mqtt
