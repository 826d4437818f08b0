"""Value types every part of citybrain shares: identifiers and times (pure, no I/O)."""

from __future__ import annotations

import re
import time
from typing import Annotated, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

Kind: TypeAlias = Literal["case_event", "sensor_reading", "camera_status"]  # the kinds of input record
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}$"
is_ident = re.compile(ID_PATTERN).match  # fast check of an id (1-64 of letters, digits, . _ : -)
Ident = Annotated[str, Field(pattern=ID_PATTERN, description="1-64 chars: letters, digits, . _ : -")]
TS_MIN_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
TS_MAX_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z
EpochMs = Annotated[int, Field(ge=TS_MIN_MS, le=TS_MAX_MS, description="UTC epoch milliseconds, 2000..2100")]


class ConfigModel(BaseModel):
    """Base of every config model: unknown keys are errors, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def epoch_ms() -> int:
    """The wall clock in epoch milliseconds (code that judges time takes it as a parameter)."""
    return int(time.time() * 1000)
