"""Component ids live in one module (layouts/ids.py): the page's JS receives them as data and never
spells one. This scans every JS file of ours under assets/ for string literals equal to an id."""

from __future__ import annotations

from pathlib import Path

import pytest

from layouts import ids

ASSETS = Path(__file__).resolve().parent.parent / "assets"
VENDOR = ASSETS / "vendor"  # third-party code (socket.io-client): not ours to scan
BOOTSTRAP: frozenset[str] = frozenset()  # ids the JS may spell to find its data: none is needed
MIN_PART = 4  # a template's fixed part ("fresh-" of "fresh-{}") this long counts as an id too


def forbidden() -> dict[str, str]:
    """Every string the JS must not spell, with the constant it comes from: each id, and each fixed part
    of a template id (``"flow-open-"`` of ``"flow-open-{}"``)."""
    out: dict[str, str] = {}
    for name, value in vars(ids).items():
        if not name.isupper() or not isinstance(value, str) or value in BOOTSTRAP:
            continue
        if "{}" in value:
            for part in value.split("{}"):
                if len(part) >= MIN_PART:
                    out[part] = name
        else:
            out[value] = name
    return out


_REGEX_BEFORE = set("(,=:[!&|?{};+-*%<>~^")


def string_literals(source: str) -> list[tuple[int, str]]:
    """(line, value) of every string literal in JS source ('…', "…", `…` without ${}); comments and
    regular expression literals are skipped. Escapes are kept as written."""
    out: list[tuple[int, str]] = []
    i, n, line, prev = 0, len(source), 1, ""
    while i < n:
        ch = source[i]
        if ch == "\n":
            line += 1
        if source.startswith("//", i):
            i = source.find("\n", i)
            i = n if i < 0 else i
            continue
        if source.startswith("/*", i):
            end = source.find("*/", i + 2)
            end = n if end < 0 else end + 2
            line += source.count("\n", i, end)
            i = end
            continue
        if ch == "/" and (prev in _REGEX_BEFORE or prev == ""):  # a regular expression literal
            j = i + 1
            while j < n and source[j] != "/" and source[j] != "\n":
                j += 2 if source[j] == "\\" else 1
            i, prev = j + 1, "x"
            continue
        if ch in "'\"`":
            j, start = i + 1, line
            while j < n and source[j] != ch:
                if source[j] == "\\":
                    j += 1
                elif source[j] == "\n":
                    line += 1
                j += 1
            out.append((start, source[i + 1 : j]))
            i, prev = j + 1, "x"
            continue
        if not ch.isspace():
            prev = ch
        i += 1
    return out


def offending(source: str) -> list[tuple[int, str, str]]:
    """(line, literal, constant) of each literal in ``source`` that spells an id."""
    bad = forbidden()
    return [(ln, s, bad[s]) for ln, s in string_literals(source) if s in bad]


def our_js() -> list[Path]:
    """Every JS file Dash serves from assets/ except the vendored ones."""
    return sorted(p for p in ASSETS.rglob("*.js") if VENDOR not in p.parents)


def test_the_scanner_finds_ids_and_skips_comments() -> None:
    src = (
        'var a = "wall-map"; // "kpi-open" in a comment\n'
        "/* 'top-cells' */ var b = 'flow-open-' + s, r = /\"overdue-list\"/;\n"
        'var c = `lifecycle-flow`, d = "wall-map level";'
    )
    assert [(ln, s) for ln, s, _ in offending(src)] == [
        (1, "wall-map"),
        (2, "flow-open-"),
        (3, "lifecycle-flow"),
    ]
    assert forbidden()["fresh-"] == "FRESH" and forbidden()["-mount"] == "GRAPH_MOUNT"


def test_there_is_js_to_scan() -> None:
    files = our_js()
    assert len(files) >= 10 and all(VENDOR not in p.parents for p in files)
    assert (VENDOR / "socket.io.min.js").exists()


@pytest.mark.parametrize("path", our_js(), ids=lambda p: str(p.relative_to(ASSETS)))
def test_no_js_file_spells_an_id(path: Path) -> None:
    """The ids reach the JS as data (each page's meta ``ids``, layouts/ids.py ``*_JS``)."""
    found = offending(path.read_text(encoding="utf-8"))
    assert not found, "ids spelled in JS (take them from the page's meta ids instead): " + "; ".join(
        f"line {ln}: {s!r} (layouts.ids.{name})" for ln, s, name in found
    )


def test_every_id_the_js_receives_is_an_id() -> None:
    values = set(forbidden()) | {v for v in vars(ids).values() if isinstance(v, str)}
    for table in (ids.WALL_JS, ids.WALLMODE_JS, ids.DEVICES_JS, ids.AREA_JS, ids.CASE_JS):
        for key, value in table.items():
            assert value in values, key
