"""Where each counter path is kept in Redis: the one owner of the read models' field grammar.

The domain addresses counters by paths (``dashboard.domain.counters``): ``("open", "dept", "D01",
"handle")``. Redis keeps them in a few hashes, a field per counter: ``{cb}:rm:open`` field
``dept:D01:handle``. ``location`` maps a path to its (key, field) and ``path_of`` maps back; pages get
the paths themselves (as nested objects), never the field grammar.

| path | key | field |
| --- | --- | --- |
| ``cells, <cell>`` | ``CELL_OPEN`` | ``<cell>`` |
| ``kpi, <name>`` | ``COUNTERS`` | ``<name>`` |
| ``open, <scope>, <id>, <stage>`` | ``OPEN`` | ``<scope>:<id>:<stage>`` |
| ``overdue, <scope>, <id>`` | ``OVERDUE_N`` | ``<scope>:<id>`` |
| ``days, <day>, n, <x>`` | ``day_key(day)`` | ``<x>`` |
| ``days, <day>, by, <scope>, <id>, <x>`` | ``day_key(day)`` | ``<x>:<scope>:<id>`` |
| ``days, <day>, dur, <stage>, <bucket>`` | ``day_key(day)`` | ``dur:<stage>:<bucket>`` |
| ``days, <day>, hdur, <scope>, <id>, <bucket>`` | ``day_key(day)`` | ``hdur:<scope>:<id>:<bucket>`` |
| ``hours, <hour>, n, <x>`` | ``hour_key(hour)`` | ``<x>`` |
| ``hours, <hour>, by, <scope>, <id>, <x>`` | ``hour_key(hour)`` | ``<x>:<scope>:<id>`` |
| ``m5, <slot>, <stage>`` | ``m5_key(slot)`` | ``into:<stage>`` |
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

from dashboard.domain.counters import Path
from dashboard.store import keys

Location = tuple[str, str]  # (hash key, field)

_FIXED: dict[str, str] = {"cells": keys.CELL_OPEN, "kpi": keys.COUNTERS}
_BY_AREA: dict[str, str] = {"open": keys.OPEN, "overdue": keys.OVERDUE_N}
_DATED: dict[str, Any] = {"days": keys.day_key, "hours": keys.hour_key}
_TTL: dict[str, int] = {"days": keys.DAY_TTL_S, "hours": keys.HOUR_TTL_S, "m5": keys.M5_TTL_S}
_DAY_PARTS = ("dur", "hdur")


class PathError(ValueError):
    """A path that names no counter."""


@functools.lru_cache(maxsize=262_144)
def location(path: Path) -> Location:
    """The hash key and field that keep the counter at ``path`` (memoised: the processor's hot path)."""
    head = path[0]
    if head in _FIXED and len(path) == 2:
        return _FIXED[head], path[1]
    if head in _BY_AREA and len(path) >= 3:
        return _BY_AREA[head], ":".join(path[1:])
    if head in _DATED and len(path) >= 4:
        key, kind, rest = _DATED[head](path[1]), path[2], path[3:]
        if kind == "n" and len(rest) == 1:
            return key, rest[0]
        if kind == "by" and len(rest) == 3:
            return key, f"{rest[2]}:{rest[0]}:{rest[1]}"
        if head == "days" and kind in _DAY_PARTS:
            return key, ":".join((kind, *rest))
    if head == "m5" and len(path) == 3:
        return keys.m5_key(path[1]), f"into:{path[2]}"
    raise PathError(f"no counter at {path!r}")


def ttl_of(path: Path) -> int | None:
    """How long the hash of ``path`` lives (seconds), None for hashes kept for ever."""
    return _TTL.get(path[0])


def _field_path(prefix: Path, field: str, dated: bool) -> Path | None:
    """The path of one field of a day or hour hash (None for a field of no known shape)."""
    parts = field.split(":")
    if len(parts) == 1:
        return (*prefix, "n", field)
    if len(parts) == 3 and parts[0] not in _DAY_PARTS:
        return (*prefix, "by", parts[1], parts[2], parts[0])
    if dated and parts[0] in _DAY_PARTS:
        return (*prefix, *parts)
    return None


def path_of(key: str, field: str) -> Path | None:
    """The path of a (key, field) that ``location`` gives (None for anything else)."""
    for head, k in (*_FIXED.items(), *_BY_AREA.items()):
        if key == k:
            return (head, field) if head in _FIXED else (head, *field.split(":"))
    for head, make in _DATED.items():
        prefix = make("")
        if key.startswith(prefix):
            return _field_path((head, key.removeprefix(prefix)), field, head == "days")
    m5 = keys.m5_key("")
    if key.startswith(m5) and field.startswith("into:"):
        return ("m5", key.removeprefix(m5), field.removeprefix("into:"))
    return None


def hash_paths(key: str, fields: Mapping[str, Any]) -> Iterable[tuple[Path, int]]:
    """A hash read from Redis as (path, int value) pairs (fields of no known shape are left out)."""
    for field, value in fields.items():
        p = path_of(key, field)
        if p is not None:
            yield p, int(value)


def nest(pairs: Iterable[tuple[Path, Any]], into: dict[str, Any] | None = None) -> dict[str, Any]:
    """Paths and values as nested objects: ``(("open", "dept", "D01", "handle"), 3)`` ->
    ``{"open": {"dept": {"D01": {"handle": 3}}}}`` (merged into ``into`` when given; leaves replace)."""
    out: dict[str, Any] = {} if into is None else into
    for path, value in pairs:
        node = out
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[path[-1]] = value
    return out


def read_values(client: Any, paths: list[Path]) -> list[int]:
    """The counters at ``paths`` (0 where absent), in order, in one round trip (one HMGET per hash)."""
    where = [location(p) for p in paths]
    by_key: dict[str, list[int]] = {}
    for i, (key, _) in enumerate(where):
        by_key.setdefault(key, []).append(i)
    with client.pipeline(transaction=False) as pipe:
        for key, idx in by_key.items():
            pipe.hmget(key, [where[i][1] for i in idx])
        rows = pipe.execute()
    out = [0] * len(paths)
    for idx, row in zip(by_key.values(), rows, strict=True):
        for i, value in zip(idx, row, strict=True):
            out[i] = int(value or 0)
    return out
