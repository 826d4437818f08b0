"""The delta stream: what changed in the read models, as new values, in consecutive ``seq`` order.

Every writer of a read model that pages show (the processor's batches and deadline checks, its health
and staleness jobs) publishes through ``queue_publish``: one script, run inside the writer's MULTI/EXEC,
applies the counter increments, takes the next ``seq`` and appends one entry holding the **new value**
of every counter it changed. A delta is therefore safe to repeat or merge (the last value wins), and
``seq`` still tells a page that it missed one. Entry fields: ``n`` the seq, ``d`` JSON of the rest
(``ts``, ``k`` the counters' Redis locations in increment order, ``ticker``, ``over``, ``dev``,
``health``), ``v`` the counters' new values in the same order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dashboard.domain.counters import Path
from dashboard.store import keys
from dashboard.store.paths import location, path_of, ttl_of
from dashboard.store.records import text

# KEYS: the seq, the stream, then the hashes the increments touch. ARGV: maxlen, the body, then
# (hash index, field, increment) triplets. Returns the new seq.
_PUBLISH = """
local vals = {}
for i = 3, #ARGV, 3 do
  vals[#vals + 1] = redis.call('HINCRBY', KEYS[tonumber(ARGV[i]) + 2], ARGV[i + 1], ARGV[i + 2])
end
local seq = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', 'n', seq, 'd', ARGV[2],
  'v', '[' .. table.concat(vals, ',') .. ']')
return seq
"""


@dataclass(frozen=True)
class Delta:
    """One entry of the delta stream, decoded."""

    seq: int
    ts: int
    vals: list[tuple[Path, int]] = field(default_factory=list)  # counter path -> its new value
    ticker: list[dict[str, Any]] = field(default_factory=list)  # new case events, oldest first
    overdue_changed: bool = False  # the set of overdue cases changed
    dev: dict[str, str] = field(default_factory=dict)  # device id -> its new status (docs/DEVICES.md)
    health: dict[str, list[Any]] = field(default_factory=dict)  # area id -> [score, colour], where changed

    @classmethod
    def from_fields(cls, fields: Mapping[Any, Any]) -> Delta:
        """Decode a stream entry."""
        f = {text(k): text(v) for k, v in fields.items()}
        body = json.loads(f["d"])
        values = iter(json.loads(f.get("v") or "[]"))
        vals: list[tuple[Path, int]] = []
        for key, names in body.get("k", []):
            for name in names:
                value = next(values)
                p = path_of(key, name)
                if p is not None:
                    vals.append((p, int(value)))
        return cls(
            seq=int(f["n"]),
            ts=int(body["ts"]),
            vals=vals,
            ticker=body.get("ticker", []),
            overdue_changed=bool(body.get("over")),
            dev=body.get("dev", {}),
            health=body.get("health", {}),
        )


def queue_publish(
    pipe: Any,
    ts: int,
    increments: Mapping[Path, int] | None = None,
    *,
    ticker: list[dict[str, Any]] | None = None,
    overdue_changed: bool = False,
    dev: Mapping[str, str] | None = None,
    health: Mapping[str, list[Any]] | None = None,
) -> None:
    """Queue on ``pipe`` (a MULTI pipeline or a client) the increments and one delta entry carrying the
    new values, with everything else the change shows; the dated hashes touched get their TTL."""
    by_key: dict[str, list[tuple[str, int]]] = {}
    ttl: dict[str, int] = {}
    for path, n in (increments or {}).items():
        key, name = location(path)
        names = by_key.get(key)
        if names is None:
            names = by_key[key] = []
            seconds = ttl_of(path)
            if seconds is not None:
                ttl[key] = seconds
        names.append((name, n))
    hashes = list(by_key)
    args: list[str | int] = []
    for i, key in enumerate(hashes):
        for name, n in by_key[key]:
            args += (i + 1, name, n)
    body: dict[str, Any] = {"ts": ts, "k": [[key, [name for name, _ in by_key[key]]] for key in hashes]}
    if ticker:
        body["ticker"] = ticker
    if overdue_changed:
        body["over"] = 1
    if dev:
        body["dev"] = dict(dev)
    if health:
        body["health"] = dict(health)
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    pipe.eval(_PUBLISH, 2 + len(hashes), keys.DELTA_SEQ, keys.STREAM_DELTAS, *hashes, keys.DELTAS_MAXLEN,
              payload, *args)  # fmt: skip
    for key, seconds in ttl.items():
        pipe.expire(key, seconds)


def read_seq(client: Any) -> int:
    """The seq of the newest delta (0 before the first)."""
    return int(client.get(keys.DELTA_SEQ) or 0)
