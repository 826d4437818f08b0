"""The four warning levels of the Chinese warning system (预警级别), described as data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

LevelKey: TypeAlias = Literal["blue", "yellow", "orange", "red"]


@dataclass(frozen=True)
class Level:
    """One warning level: its key, rank (1 = lowest), Roman grade, names and colour."""

    key: LevelKey
    rank: int
    grade: str  # the Roman numeral of the grade: IV is the lowest, I the highest
    name_zh: str
    name_en: str
    label_zh: str  # how a warning of this level is called, e.g. 黄色预警
    colour: str  # CSS colour of the level on screen


LEVELS: tuple[Level, ...] = (
    Level("blue", 1, "IV", "一般", "General", "蓝色预警", "#1e6fd9"),
    Level("yellow", 2, "III", "较重", "Serious", "黄色预警", "#f2c200"),
    Level("orange", 3, "II", "严重", "Severe", "橙色预警", "#f47b20"),
    Level("red", 4, "I", "特别严重", "Extremely severe", "红色预警", "#d7191c"),
)
LEVEL_BY_KEY: dict[str, Level] = {lv.key: lv for lv in LEVELS}
LEVEL_KEYS: tuple[LevelKey, ...] = tuple(lv.key for lv in LEVELS)


def rank(key: str) -> int:
    """The rank of a level key (1 = blue ... 4 = red); KeyError for an unknown key."""
    return LEVEL_BY_KEY[key].rank


def higher(a: LevelKey, b: LevelKey) -> LevelKey:
    """The more severe of two levels."""
    return a if rank(a) >= rank(b) else b
