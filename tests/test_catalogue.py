"""Tests for the event-type catalogue data and its loader."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from dashboard.domain.catalogue import (
    CATEGORIES_FILE,
    DEFAULT_CATALOGUE_DIR,
    DEPARTMENTS_FILE,
    EVENT_TYPES_FILE,
    Catalogue,
    CatalogueError,
    default_catalogue,
    load_catalogue,
)

CJK = re.compile(r"[\u4e00-\u9fff]")
PREFIXES = {
    "disputes": "DS",
    "public_security": "PS",
    "public_safety": "SF",
    "public_services": "SV",
    "city_management": "CM",
}
# Target share of all events by weight, and the tolerance allowed around it.
WEIGHT_SHARES = {
    "city_management": 0.45,
    "public_services": 0.20,
    "public_safety": 0.15,
    "disputes": 0.12,
    "public_security": 0.08,
}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    """The committed catalogue."""
    return load_catalogue()


def _builder() -> ModuleType:
    """Import data/catalogue/build_catalogue.py (it is a script, not a package module)."""
    path = DEFAULT_CATALOGUE_DIR / "build_catalogue.py"
    spec = importlib.util.spec_from_file_location("build_catalogue", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------------------------------
# The committed data
# ------------------------------------------------------------------------------------------------


def test_counts(catalogue: Catalogue) -> None:
    assert len(catalogue.event_types) == 247
    assert set(catalogue.categories) == set(PREFIXES)
    assert 40 <= len(catalogue.departments) <= 50


def test_codes_unique_and_prefixed_by_category(catalogue: Catalogue) -> None:
    raw = json.loads((DEFAULT_CATALOGUE_DIR / EVENT_TYPES_FILE).read_text(encoding="utf-8"))
    codes = [entry["code"] for entry in raw]
    assert len(codes) == len(set(codes)) == 247
    for event_type in catalogue.event_types.values():
        assert event_type.code.startswith(PREFIXES[event_type.category] + "-"), event_type.code


def test_subcategory_part_of_code_matches_subcategory(catalogue: Catalogue) -> None:
    by_sub: dict[tuple[str, str], set[str]] = {}
    for event_type in catalogue.event_types.values():
        by_sub.setdefault((event_type.code[:5], event_type.category), set()).add(event_type.subcategory_zh)
    assert all(len(names) == 1 for names in by_sub.values())


def test_references_resolve_and_every_department_used(catalogue: Catalogue) -> None:
    used = {t.department for t in catalogue.event_types.values()}
    assert used == set(catalogue.departments)
    assert {t.category for t in catalogue.event_types.values()} == set(catalogue.categories)


def test_department_ids_are_snake_case_and_unique() -> None:
    raw = json.loads((DEFAULT_CATALOGUE_DIR / DEPARTMENTS_FILE).read_text(encoding="utf-8"))
    ids = [entry["id"] for entry in raw]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", i) for i in ids)


def test_names_present_and_zh_names_are_chinese(catalogue: Catalogue) -> None:
    for dept in catalogue.departments.values():
        assert dept.name_en.strip() and dept.short_en.strip()
        assert CJK.search(dept.name_zh) and CJK.search(dept.short_zh), dept.id
        assert len(dept.short_zh) <= len(dept.name_zh)
    for cat in catalogue.categories.values():
        assert cat.name_en.strip() and CJK.search(cat.name_zh)
    for et in catalogue.event_types.values():
        assert et.name_en.strip() and et.subcategory_en.strip(), et.code
        assert CJK.search(et.name_zh) and CJK.search(et.subcategory_zh), et.code
        assert not CJK.search(et.name_en + et.subcategory_en), et.code


def test_names_unique_within_category(catalogue: Catalogue) -> None:
    pairs = Counter((t.category, t.name_zh) for t in catalogue.event_types.values())
    assert [p for p, n in pairs.items() if n > 1] == []
    pairs_en = Counter((t.category, t.name_en) for t in catalogue.event_types.values())
    assert [p for p, n in pairs_en.items() if n > 1] == []


def test_category_colours_distinct(catalogue: Catalogue) -> None:
    colours = [c.color.lower() for c in catalogue.categories.values()]
    assert len(set(colours)) == len(colours)


def test_urgent_share(catalogue: Catalogue) -> None:
    urgent = [t for t in catalogue.event_types.values() if t.priority == "urgent"]
    assert 0.05 <= len(urgent) / len(catalogue.event_types) <= 0.20
    assert any(t.name_zh == "燃气泄漏" for t in urgent)
    assert all(t.priority == "normal" for t in catalogue.event_types.values() if t.name_zh == "占道经营")


def test_category_weight_shares(catalogue: Catalogue) -> None:
    totals: Counter[str] = Counter()
    for event_type in catalogue.event_types.values():
        totals[event_type.category] += event_type.weight
    grand = sum(totals.values())
    for category, share in WEIGHT_SHARES.items():
        assert totals[category] / grand == pytest.approx(share, abs=0.03), category
    assert max(totals, key=lambda c: totals[c]) == "city_management"


def test_cell_tags_point_the_simulator_the_right_way(catalogue: Catalogue) -> None:
    def tagged(tag: str) -> list[str]:
        return [t.name_zh for t in catalogue.event_types.values() if tag in t.cell_tags]

    assert "占道经营" in tagged("market")
    assert "低洼地段水浸" in tagged("low_lying")
    assert "老旧房屋消防隐患" in tagged("old_town")
    assert "邻里纠纷" in tagged("old_town")
    for tag in ("old_town", "market", "riverside", "low_lying", "industrial", "residential", "school"):
        assert tagged(tag), tag


def test_lookup_methods(catalogue: Catalogue) -> None:
    assert catalogue.event_type("CM-0101").name_zh == "占道经营"
    with pytest.raises(KeyError):
        catalogue.event_type("XX-9999")
    disputes = catalogue.by_category("disputes")
    assert disputes and all(t.category == "disputes" for t in disputes)
    assert [t.code for t in disputes] == sorted(t.code for t in disputes)
    assert sum(len(catalogue.by_category(c)) for c in catalogue.categories) == 247
    with pytest.raises(KeyError):
        catalogue.by_category("weather")


def test_default_catalogue_is_cached() -> None:
    assert default_catalogue() is default_catalogue()


# ------------------------------------------------------------------------------------------------
# The generator
# ------------------------------------------------------------------------------------------------


def test_committed_files_match_the_generator(tmp_path: Path) -> None:
    builder = _builder()
    assert builder.main(["--out", str(tmp_path / "a")]) == 0
    assert builder.main(["--out", str(tmp_path / "b")]) == 0
    for name in (CATEGORIES_FILE, DEPARTMENTS_FILE, EVENT_TYPES_FILE):
        first = (tmp_path / "a" / name).read_bytes()
        assert first == (tmp_path / "b" / name).read_bytes(), f"{name} differs between two runs"
        committed = (DEFAULT_CATALOGUE_DIR / name).read_bytes()
        assert first == committed, f"{name} drifted from build_catalogue.py: rerun the script"
    load_catalogue(tmp_path / "a")


# ------------------------------------------------------------------------------------------------
# The loader rejects broken catalogues
# ------------------------------------------------------------------------------------------------

Edit = Callable[[dict[str, list[dict[str, Any]]]], None]


def _broken_copy(tmp_path: Path, edit: Edit) -> Path:
    """Copy the committed catalogue to tmp_path, apply edit to the parsed files and write them back."""
    files: dict[str, list[dict[str, Any]]] = {}
    for name in (CATEGORIES_FILE, DEPARTMENTS_FILE, EVENT_TYPES_FILE):
        files[name] = json.loads((DEFAULT_CATALOGUE_DIR / name).read_text(encoding="utf-8"))
    edit(files)
    for name, records in files.items():
        (tmp_path / name).write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return tmp_path


def _set(file: str, index: int, field: str, value: Any) -> Edit:
    def edit(files: dict[str, list[dict[str, Any]]]) -> None:
        files[file][index][field] = value

    return edit


def _duplicate_code(files: dict[str, list[dict[str, Any]]]) -> None:
    files[EVENT_TYPES_FILE][10]["code"] = files[EVENT_TYPES_FILE][3]["code"]


def _duplicate_department(files: dict[str, list[dict[str, Any]]]) -> None:
    files[DEPARTMENTS_FILE].append(dict(files[DEPARTMENTS_FILE][0]))


def _drop_field(files: dict[str, list[dict[str, Any]]]) -> None:
    del files[EVENT_TYPES_FILE][5]["department"]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            _duplicate_code,
            [EVENT_TYPES_FILE, "entry 10", "'code'", "duplicate code 'DS-0104'"],
            id="duplicate-code",
        ),
        pytest.param(
            _duplicate_department,
            [DEPARTMENTS_FILE, "entry 45", "'id'", "duplicate id"],
            id="duplicate-department",
        ),
        pytest.param(
            _set(EVENT_TYPES_FILE, 0, "department", "no_such_dept"),
            [EVENT_TYPES_FILE, "entry 0", "DS-0101", "'department'", "unknown department 'no_such_dept'"],
            id="unknown-department",
        ),
        pytest.param(
            _set(EVENT_TYPES_FILE, 1, "category", "weather"),
            [EVENT_TYPES_FILE, "entry 1", "DS-0102", "'category'", "unknown category 'weather'"],
            id="unknown-category",
        ),
        pytest.param(
            _set(EVENT_TYPES_FILE, 2, "priority", "critical"),
            [EVENT_TYPES_FILE, "entry 2", "DS-0103", "'priority'", "'normal' or 'urgent'"],
            id="bad-priority",
        ),
        pytest.param(
            _set(EVENT_TYPES_FILE, 4, "colour", "red"),
            [EVENT_TYPES_FILE, "entry 4", "DS-0105", "'colour'", "unexpected field"],
            id="extra-field-event-type",
        ),
        pytest.param(
            _set(DEPARTMENTS_FILE, 2, "phone", "12345"),
            [DEPARTMENTS_FILE, "entry 2", "'phone'", "unexpected field"],
            id="extra-field-department",
        ),
        pytest.param(
            _set(EVENT_TYPES_FILE, 6, "weight", 0),
            [EVENT_TYPES_FILE, "entry 6", "'weight'", "greater than 0"],
            id="zero-weight",
        ),
        pytest.param(
            _set(EVENT_TYPES_FILE, 7, "cell_tags", ["moon"]),
            [EVENT_TYPES_FILE, "entry 7", "'cell_tags.0'"],
            id="unknown-cell-tag",
        ),
        pytest.param(
            _set(CATEGORIES_FILE, 0, "color", "yellow"),
            [CATEGORIES_FILE, "entry 0", "'color'"],
            id="bad-colour",
        ),
        pytest.param(
            _drop_field,
            [EVENT_TYPES_FILE, "entry 5", "'department'", "Field required"],
            id="missing-field",
        ),
    ],
)
def test_loader_rejects_broken_catalogue(tmp_path: Path, edit: Edit, expected: list[str]) -> None:
    directory = _broken_copy(tmp_path, edit)
    with pytest.raises(CatalogueError) as info:
        load_catalogue(directory)
    message = str(info.value)
    assert "\n" not in message
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"


def test_loader_rejects_missing_file_and_bad_json(tmp_path: Path) -> None:
    for name in (CATEGORIES_FILE, DEPARTMENTS_FILE):
        shutil.copy(DEFAULT_CATALOGUE_DIR / name, tmp_path / name)
    with pytest.raises(CatalogueError, match=EVENT_TYPES_FILE):
        load_catalogue(tmp_path)
    (tmp_path / EVENT_TYPES_FILE).write_text("[{", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"event_types\.json: invalid JSON"):
        load_catalogue(tmp_path)
    (tmp_path / EVENT_TYPES_FILE).write_text('{"code": "CM-0101"}', encoding="utf-8")
    with pytest.raises(CatalogueError, match="must be a JSON list"):
        load_catalogue(tmp_path)
    (tmp_path / EVENT_TYPES_FILE).write_text('["CM-0101"]', encoding="utf-8")
    with pytest.raises(CatalogueError, match="entry 0: must be a JSON object"):
        load_catalogue(tmp_path)


def test_catalogue_error_is_a_value_error() -> None:
    assert issubclass(CatalogueError, ValueError)
