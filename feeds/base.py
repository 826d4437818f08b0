"""Feeds: the collectors of the feeds process. A feed only collects: it validates, normalises to a
record and hands it to its ``Sink`` (``dashboard.store.sink``).

A pluggable feed type is one module (feeds/<module>.py, listed in feeds/plugins.py): a config model
subclassing ``FeedConfig`` with ``type: Literal["<type_key>"]``, decorated with ``register_feed_config``,
and a ``Feed`` subclass with the same ``type_key`` implementing ``from_config`` and ``run``.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from pydantic import Field

from dashboard.domain.types import ConfigModel
from dashboard.store.sink import IngestEnv, Sink


class FeedConfig(ConfigModel):
    """Base of a pluggable feed's config: ``type`` picks the module (feeds/<module>.py) that serves it."""

    type: str = Field(description="The feed type (registered by its module).")
    name: str | None = Field(None, description="Name in health reports; default: the type.")
    enabled: bool = Field(True, description="Run this feed in the feeds role.")

    @property
    def feed_name(self) -> str:
        """The name used in health reports and logs."""
        return self.name or self.type


FEED_TYPES: dict[str, type[FeedConfig]] = {}


def register_feed_config(cls: type[FeedConfig]) -> type[FeedConfig]:
    """Class decorator: make a feed config known by its ``type`` literal."""
    default = cls.model_fields["type"].default
    if not isinstance(default, str):
        raise TypeError(f"{cls.__name__}.type needs a Literal default, e.g. type: Literal['mqtt'] = 'mqtt'")
    FEED_TYPES[default] = cls
    return cls


class Feed(ABC):
    """A source of records. Subclasses set ``type_key`` and implement ``run``; they register by type.

    A pluggable feed also declares its config model (a ``FeedConfig`` subclass with
    ``type: Literal["<type_key>"]``, decorated with ``register_feed_config``) and implements
    ``from_config``; feeds/plugins.py imports its module.
    """

    type_key: ClassVar[str]
    by_type: ClassVar[dict[str, type[Feed]]] = {}

    def __init_subclass__(cls, **kw: Any) -> None:
        """Register every concrete feed class by its ``type_key``."""
        super().__init_subclass__(**kw)
        key = getattr(cls, "type_key", None)
        if key:
            Feed.by_type[key] = cls

    def __init__(self, name: str, sink: Sink) -> None:
        """A feed named ``name`` writing through ``sink``."""
        self.name = name
        self.sink = sink

    @classmethod
    def from_config(cls, cfg: FeedConfig, env: IngestEnv) -> Feed:
        """Build the feed its config describes (pluggable feeds override this)."""
        raise NotImplementedError(f"{cls.__name__} is not configured through feeds:")

    @abstractmethod
    def run(self, stop: threading.Event) -> None:
        """Produce records until ``stop`` is set."""
