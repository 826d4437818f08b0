"""The event-type catalogue: categories, departments and event types, loaded and validated once."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_CATALOGUE_DIR = Path(__file__).resolve().parents[2] / "data" / "catalogue"
CATEGORIES_FILE = "categories.json"
DEPARTMENTS_FILE = "departments.json"
EVENT_TYPES_FILE = "event_types.json"

Priority = Literal["normal", "urgent"]
CellTag = Literal["old_town", "market", "riverside", "low_lying", "industrial", "residential", "school"]

_ID_PATTERN = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"


class CatalogueError(ValueError):
    """A catalogue file is missing, malformed or inconsistent; the message names file, entry and field."""


class Department(BaseModel):
    """A department (or utility company) that handles dispatched cases."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID_PATTERN, description="Lowercase snake_case key, e.g. 'urban_mgmt'.")
    name_zh: str = Field(min_length=1, description="Full Chinese name, e.g. 区城市管理和综合执法局.")
    name_en: str = Field(min_length=1, description="Full English name.")
    short_zh: str = Field(min_length=1, description="Short Chinese name for tickers and tables.")
    short_en: str = Field(min_length=1, description="Short English name for tickers and tables.")


class Category(BaseModel):
    """One of the five top-level event areas, with its colour on the wall."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID_PATTERN, description="Lowercase snake_case key, e.g. 'city_management'.")
    name_zh: str = Field(min_length=1, description="Chinese name, e.g. 城市管理.")
    name_en: str = Field(min_length=1, description="English name.")
    color: str = Field(
        pattern=r"^#[0-9A-Fa-f]{6}$", description="Hex colour that reads on a dark background."
    )


class EventType(BaseModel):
    """One of the grid system's event types (事件类型) and who handles it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(
        pattern=r"^[A-Z]{2}-\d{4}$", description="Category prefix, subcategory and item, e.g. CM-0101."
    )
    name_zh: str = Field(min_length=1, description="Chinese name, e.g. 占道经营.")
    name_en: str = Field(min_length=1, description="English name.")
    category: str = Field(min_length=1, description="Id of a category in categories.json.")
    subcategory_zh: str = Field(min_length=1, description="Chinese subcategory name.")
    subcategory_en: str = Field(min_length=1, description="English subcategory name.")
    department: str = Field(min_length=1, description="Id of the responsible department in departments.json.")
    priority: Priority = Field(description="'urgent' when the event threatens life or property.")
    weight: float = Field(gt=0, allow_inf_nan=False, description="Relative frequency (events per 1000).")
    cell_tags: tuple[CellTag, ...] = Field(
        default=(), description="Kinds of cell where it tends to happen; empty means anywhere."
    )


@dataclass(frozen=True)
class Catalogue:
    """The validated catalogue, keyed by id / code in file order."""

    departments: dict[str, Department]
    categories: dict[str, Category]
    event_types: dict[str, EventType]

    def event_type(self, code: str) -> EventType:
        """Return the event type with this code; KeyError when there is none."""
        try:
            return self.event_types[code]
        except KeyError:
            raise KeyError(f"unknown event type code {code!r}") from None

    def by_category(self, category_id: str) -> list[EventType]:
        """Return the event types of one category in code order; KeyError for an unknown category."""
        if category_id not in self.categories:
            raise KeyError(f"unknown category {category_id!r}")
        return sorted(
            (t for t in self.event_types.values() if t.category == category_id), key=lambda t: t.code
        )


_Model = TypeVar("_Model", bound=BaseModel)


def _read_entries(path: Path) -> list[Any]:
    """Read a JSON file that must hold a list; CatalogueError otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogueError(f"{path.name}: cannot read {path}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogueError(
            f"{path.name}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    if not isinstance(data, list):
        raise CatalogueError(f"{path.name}: top level must be a JSON list, got {type(data).__name__}")
    return data


def _entry_label(index: int, raw: Any, key: str) -> str:
    """Describe an entry by position and, when present, its key (id or code)."""
    if isinstance(raw, dict) and isinstance(raw.get(key), str):
        return f"entry {index} ({key} {raw[key]!r})"
    return f"entry {index}"


def _parse(path: Path, model: type[_Model], key: str, key_of: Callable[[_Model], str]) -> dict[str, _Model]:
    """Validate every entry of one file against model and index them by key, rejecting duplicates."""
    parsed: dict[str, _Model] = {}
    for index, raw in enumerate(_read_entries(path)):
        label = _entry_label(index, raw, key)
        if not isinstance(raw, dict):
            raise CatalogueError(f"{path.name}: {label}: must be a JSON object, got {type(raw).__name__}")
        try:
            item = model.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(part) for part in err["loc"]) or "(entry)"
            message = " ".join(str(err["msg"]).split())
            if err["type"] == "extra_forbidden":
                message = "unexpected field"
            raise CatalogueError(f"{path.name}: {label}: field '{field}': {message}") from exc
        item_key = key_of(item)
        if item_key in parsed:
            raise CatalogueError(f"{path.name}: {label}: field '{key}': duplicate {key} {item_key!r}")
        parsed[item_key] = item
    if not parsed:
        raise CatalogueError(f"{path.name}: the list is empty")
    return parsed


def load_catalogue(directory: Path = DEFAULT_CATALOGUE_DIR) -> Catalogue:
    """Load and cross-check the three catalogue files in directory; CatalogueError on any problem."""
    categories = _parse(directory / CATEGORIES_FILE, Category, "id", lambda c: c.id)
    departments = _parse(directory / DEPARTMENTS_FILE, Department, "id", lambda d: d.id)
    event_types = _parse(directory / EVENT_TYPES_FILE, EventType, "code", lambda t: t.code)
    for index, event_type in enumerate(event_types.values()):
        label = f"{EVENT_TYPES_FILE}: entry {index} (code {event_type.code!r})"
        if event_type.category not in categories:
            raise CatalogueError(f"{label}: field 'category': unknown category {event_type.category!r}")
        if event_type.department not in departments:
            raise CatalogueError(f"{label}: field 'department': unknown department {event_type.department!r}")
    return Catalogue(departments=departments, categories=categories, event_types=event_types)


@functools.lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """Return the catalogue shipped in data/catalogue, loaded once per process."""
    return load_catalogue(DEFAULT_CATALOGUE_DIR)
