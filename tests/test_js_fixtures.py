"""What the JS unit tests (tests/js/, ``node --test``) take from the Python side, as one JSON file: the
screen's strings, the ids each page hands its JS, the stages, the cell colour bins and Python's own
answers for the colour and duration rules (the JS must give the same). The file is generated; this
test fails when it is out of date. Regenerate: ``.venv/bin/python -m tests.test_js_fixtures``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dashboard.domain.devices import STATUSES
from dashboard.domain.health import BANDS, band_of
from dashboard.domain.i18n import LANGS, bundle, duration
from dashboard.domain.lifecycle import STAGES
from layouts import ids
from layouts.devices import STATUS_COLOURS
from layouts.look import BINS, COLORS, cell_colour

FIXTURE = Path(__file__).resolve().parent / "js" / "fixtures.json"
DURATIONS_MS = (0, 999, 45_000, 61_000, 3_599_000, 3_600_000, 3_661_000, 7_200_000, 86_400_000, 93_784_000)


def build() -> dict[str, Any]:
    """The fixture's content."""
    return {
        "strings": {lang: bundle(lang) for lang in LANGS},
        "ids": {
            "wall": ids.WALL_JS,
            "wallmode": ids.WALLMODE_JS,
            "devices": ids.DEVICES_JS,
            "area": ids.AREA_JS,
            "case": ids.CASE_JS,
        },
        "stages": list(STAGES),
        "bins": BINS,
        "colors": COLORS,
        "cell_colour": [[n, cell_colour(n)] for n in range(0, 21)],
        "health_bands": [[score, *band_of(score)] for score in (100, 85, 84, 70, 69, 50, 49, 0)],
        "band_colours": [colour for _lo, _band, colour in BANDS],
        "device_statuses": STATUSES,
        "status_colours": STATUS_COLOURS,
        "durations": [[ms, lang, duration(ms, lang)] for ms in DURATIONS_MS for lang in LANGS],
    }


def text() -> str:
    """The fixture file's text."""
    return json.dumps(build(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def test_js_fixtures_are_current() -> None:
    assert FIXTURE.read_text(encoding="utf-8") == text(), (
        "tests/js/fixtures.json is out of date: .venv/bin/python -m tests.test_js_fixtures"
    )


if __name__ == "__main__":
    FIXTURE.write_text(text(), encoding="utf-8")
    print(f"wrote {FIXTURE}")
