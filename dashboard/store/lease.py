"""A lease in Redis: one holder at a time among several processes, taken over when it stops renewing."""

from __future__ import annotations

import os
import socket
import uuid
from typing import Any

# 2: taken now, 1: renewed (held already), 0: another holder has it.
_HOLD = """
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end
return 0
"""
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


def new_token(name: str | None = None) -> str:
    """A holder's unique token: its name (default the host), process and a random part."""
    return f"{name or socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    """The lease at ``key`` as seen by the holder ``token``, renewed for ``ttl_ms`` at each ``hold``."""

    def __init__(self, client: Any, key: str, token: str, ttl_ms: int) -> None:
        """Bind to a client; nothing is taken yet."""
        self.r = client
        self.key = key
        self.token = token
        self.ttl_ms = ttl_ms

    def hold(self) -> int:
        """Take or renew the lease: 2 taken now, 1 renewed, 0 held by another."""
        return int(self.r.eval(_HOLD, 1, self.key, self.token, self.ttl_ms))

    def held_by_me(self, pipe: Any) -> bool:
        """Whether this holder has it (read on ``pipe``, e.g. under WATCH of the key)."""
        return bool(pipe.get(self.key) == self.token)

    def release(self) -> None:
        """Hand the lease back at once (when this holder has it)."""
        self.r.eval(_RELEASE, 1, self.key, self.token)
