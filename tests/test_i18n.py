"""Both languages are complete."""

from __future__ import annotations

import re

from dashboard.domain.i18n import LANGS, STRINGS, bundle, normalize

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_string_exists_in_both_languages() -> None:
    for key, texts in STRINGS.items():
        assert set(texts) == set(LANGS), key
        assert all(v.strip() for v in texts.values()), key
        assert CJK.search(texts["zh-CN"]) or key == "lang_other", key
        assert not CJK.search(texts["en"]) or key == "lang_other", key


def test_bundle_and_normalize() -> None:
    assert bundle("en")["kpi_open"] == "Open cases"
    assert normalize("zh", "en") == "zh-CN" and normalize("en-US", "zh-CN") == "en"
    assert normalize(None, "en") == "en" and normalize("fr", "zh-CN") == "zh-CN"
