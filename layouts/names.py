"""Names of the catalogue's and the geography's entries in the page language, for every screen."""

from __future__ import annotations

import re

from dashboard.domain.catalogue import Catalogue, default_catalogue
from dashboard.domain.geo import Area
from dashboard.domain.i18n import Lang

_EN_SUFFIX = re.compile(r"\s+(Town Subdistrict|Subdistrict|Town)$")


def area_name(area: Area, lang: Lang) -> str:
    """An area's full name."""
    return area.name_zh if lang == "zh-CN" else area.name_en


def area_short(area: Area, lang: Lang) -> str:
    """A subdistrict's name for tight lines: 石湾镇街道 stays whole, "Shiwan Town Subdistrict" is "Shiwan"."""
    return area.name_zh if lang == "zh-CN" else _EN_SUFFIX.sub("", area.name_en)


def type_name(code: str, lang: Lang, cat: Catalogue | None = None) -> str:
    """An event type's name; the code itself when the catalogue does not know it."""
    et = (cat or default_catalogue()).event_types.get(code)
    if et is None:
        return code
    return et.name_zh if lang == "zh-CN" else et.name_en


def dept_short(dept_id: str | None, lang: Lang, cat: Catalogue | None = None) -> str:
    """A department's short name; the id when unknown, "" for none."""
    if not dept_id:
        return ""
    d = (cat or default_catalogue()).departments.get(dept_id)
    if d is None:
        return dept_id
    return d.short_zh if lang == "zh-CN" else d.short_en


def category_name(cat_id: str, lang: Lang, cat: Catalogue | None = None) -> str:
    """A category's name; the id when unknown."""
    c = (cat or default_catalogue()).categories.get(cat_id)
    if c is None:
        return cat_id
    return c.name_zh if lang == "zh-CN" else c.name_en


def catalogue_names(lang: Lang, cat: Catalogue | None = None) -> dict[str, object]:
    """What a page's JS needs to name things: event types, departments, categories (name, colour)."""
    cat = cat or default_catalogue()
    return {
        "types": {code: type_name(code, lang, cat) for code in cat.event_types},
        "depts": {d: dept_short(d, lang, cat) for d in cat.departments},
        "cats": {c.id: [category_name(c.id, lang, cat), c.color] for c in cat.categories.values()},
    }
