"""The one way a role opens Redis: text replies that cannot crash on bad bytes, retries on a dropped
connection.

Replies are decoded as UTF-8 with ``surrogateescape``: bytes that are not UTF-8 (a legacy feed writing
GBK) come back as lone surrogates instead of raising in the middle of a batch read, and the readers
refuse such text record by record (``has_bad_text``; the processor dead-letters it). Such a string cannot
be written back (hiredis encodes strictly), so code that copies a raw entry escapes it first
(``json.dumps`` with ``ensure_ascii``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

ENCODING_ERRORS = "surrogateescape"
_SURROGATE = re.compile("[\ud800-\udfff]")


def connect(url: str, **options: Any) -> redis.Redis:
    """A text client on ``url``: bad bytes read as lone surrogates, a dropped connection retried three
    times with backoff (a role's own loop retries for longer), idle connections checked every 30 s."""
    kwargs: dict[str, Any] = {
        "decode_responses": True,
        "encoding_errors": ENCODING_ERRORS,
        "health_check_interval": 30,
        "retry": Retry(ExponentialBackoff(cap=1.0, base=0.05), 3),
        "retry_on_error": [redis.ConnectionError, redis.TimeoutError],
    }
    kwargs.update(options)
    return redis.Redis.from_url(url, **kwargs)


def bad_text(value: str) -> int | None:
    """The index of the first character that was not UTF-8 on the wire (or a lone surrogate), else None."""
    m = _SURROGATE.search(value)
    return m.start() if m else None


def has_bad_text(fields: Mapping[Any, Any]) -> str | None:
    """Why a stream entry's fields are not UTF-8 text (naming the field and the first bad byte), else None."""
    for k, v in fields.items():
        for what, s in (("name", k), ("value", v)):
            if isinstance(s, str) and (at := bad_text(s)) is not None:
                byte = ord(s[at]) - 0xDC00 if 0xDC80 <= ord(s[at]) <= 0xDCFF else None
                shown = f"byte 0x{byte:02X}" if byte is not None else f"U+{ord(s[at]):04X}"
                field = k.encode("ascii", "backslashreplace").decode() if isinstance(k, str) else str(k)
                return f"field {field!r} {what} is not UTF-8 text ({shown} at character {at})"
    return None
