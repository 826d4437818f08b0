"""Plausible Chinese free text for simulated case steps: where it is, what was seen, what was done.

Everything random is drawn from the generator passed in, so notes repeat with the seed. The street
names are real streets of each subdistrict; house numbers and details are made up.
"""

from __future__ import annotations

import numpy as np

from dashboard.domain.catalogue import EventType

STREETS: dict[str, tuple[str, ...]] = {
    "ZM": (
        "人民路",
        "祖庙路",
        "升平路",
        "福贤路",
        "建新路",
        "燎原路",
        "福宁路",
        "汾江中路",
        "普君北路",
        "锦华路",
        "同济路",
        "莲花路",
        "城门头路",
        "卫国路",
        "文华北路",
        "塔坡街",
    ),
    "SW": (
        "石湾公园路",
        "高庙路",
        "和平路",
        "太平路",
        "东风路",
        "跃进路",
        "澜石二路",
        "江湾三路",
        "绿景路",
        "东平路",
        "季华二路",
        "镇中路",
    ),
    "ZC": (
        "张槎一路",
        "张槎二路",
        "张槎三路",
        "忠信路",
        "上朗大道",
        "古新路",
        "魁奇一路",
        "汾江西路",
        "大富路",
        "莲塘路",
    ),
    "NZ": (
        "南庄大道",
        "禅港东路",
        "罗南大道",
        "吉利大道",
        "紫洞路",
        "季华西路",
        "南庄二路",
        "堤田路",
        "龙津路",
        "溶洲大道",
    ),
}
PLACES = ("市场门口", "公交站旁", "小区东门", "小区北门", "巷口", "天桥下", "学校门口", "桥底", "停车场入口")

# Type-specific observations ({addr} is filled in); types without one get a generic sentence.
TYPE_NOTES: dict[str, tuple[str, ...]] = {
    "CM-0101": (
        "{addr}门前占道经营，影响通行",
        "{addr}有流动摊档占用人行道摆卖水果",
        "{addr}早市摊档占道，行人需绕行机动车道",
    ),
    "CM-0102": ("{addr}商铺出店经营，货物堆放至人行道", "{addr}餐饮店外摆桌椅占用人行道"),
    "CM-0103": ("{addr}流动摊贩聚集，高峰期影响通行", "{addr}三轮车流动摆卖"),
    "CM-0105": ("{addr}人行道堆放建筑材料", "{addr}楼道口乱堆杂物"),
    "CM-0106": ("{addr}电线杆、墙面张贴大量小广告", "{addr}公交站亭被贴满“办证”小广告"),
    "CM-0201": ("{addr}路边有暴露垃圾约两立方", "{addr}绿化带内有生活垃圾未清运"),
    "CM-0202": ("{addr}垃圾桶满溢，周边有异味", "{addr}垃圾收集点满溢，未按时清运"),
    "CM-0301": ("{addr}公共设施破损，存在安全隐患", "{addr}人行道护栏损坏"),
    "CM-0302": ("{addr}路面坑洼，雨天积水，车辆通行颠簸", "{addr}路面出现约一米长裂缝"),
    "CM-0304": ("{addr}井盖缺失，已临时摆放警示锥", "{addr}机动车道井盖丢失，极易发生事故"),
    "CM-0306": ("{addr}路灯不亮，夜间行人反映看不清路", "{addr}连续三盏路灯不亮"),
    "CM-0401": ("{addr}排水管道堵塞，污水外溢", "{addr}下水道堵塞，雨后积水迟迟不退"),
    "CM-0402": ("{addr}雨水篦子被垃圾堵塞", "{addr}雨水篦子缺失，形成安全隐患"),
    "CM-0801": ("{addr}机动车乱停放，堵塞消防通道", "{addr}车辆长期占用人行道停放"),
    "CM-0802": ("{addr}非机动车乱停放，占满盲道", "{addr}电动车乱停，行人无法通过"),
    "CM-1001": ("{addr}餐饮店油烟直排，楼上住户反映强烈", "{addr}烧烤店油烟扰民"),
    "CM-1101": ("{addr}附近河涌水面漂浮大量垃圾", "{addr}河涌有泡沫状漂浮物"),
    "DS-0101": (
        "{addr}两户邻居因公共走廊杂物发生争吵，需社区调解",
        "{addr}邻里因装修噪声发生口角，双方情绪激动",
    ),
    "DS-0102": ("{addr}楼上卫生间漏水至楼下，双方协商未果", "{addr}楼上楼下因漏水维修费用产生纠纷"),
    "DS-0103": ("{addr}住户反映楼上夜间噪声扰民，多次沟通无果",),
    "DS-0106": ("{addr}居民因楼道公共空间占用发生纠纷", "{addr}住户在公共天台搭建，邻居有意见"),
    "DS-0301": ("{addr}某厂十余名工人反映被拖欠工资两个月", "{addr}工人聚集讨要工资"),
    "DS-0402": ("{addr}租客与房东因押金退还发生纠纷",),
    "DS-0701": ("{addr}双方纠纷有激化苗头，需派出所介入", "{addr}一方扬言采取过激行为，请尽快处置"),
    "DS-0702": ("{addr}多名居民聚集反映同一问题，有群体性苗头",),
    "SF-0101": ("{addr}老旧房屋电线老化，私拉乱接，存在火灾隐患", "{addr}老屋木结构阁楼堆放大量杂物"),
    "SF-0102": ("{addr}楼道内停放电动自行车并充电", "{addr}一楼楼梯间停放多辆电动车"),
    "SF-0103": ("{addr}有住户从窗口拉线给电动车充电", "{addr}飞线充电，电线横跨人行道"),
    "SF-0104": ("{addr}消防通道被车辆和杂物堵塞",),
    "SF-0201": ("{addr}有明显燃气味，疑似燃气泄漏", "{addr}餐饮店后厨燃气报警器报警"),
    "SF-0401": ("{addr}房屋外墙出现明显裂缝，住户担心安全", "{addr}老房子墙体开裂，需鉴定"),
    "SF-0402": ("{addr}外墙瓷砖脱落，已拉警戒线", "{addr}外墙批荡有脱落风险"),
    "SF-0501": ("{addr}路段水浸约{depth}公分，车辆无法通行", "{addr}低洼路段积水，行人涉水通行"),
    "SF-0502": ("{addr}小区地下车库进水，需紧急抽排", "{addr}地下室入口进水"),
    "SF-0601": ("{addr}电梯困人，一名长者被困", "{addr}电梯停在两层之间，有人被困"),
    "SV-0101": ("{addr}独居长者近日未见出门，需上门走访", "{addr}独居老人高温天气需关爱探访"),
    "SV-0501": ("{addr}一带停水，未见通知", "{addr}整栋楼停水超过半天"),
    "SV-0504": ("{addr}一带突然停电，住户反映空调无法使用", "{addr}片区停电，电梯停运"),
    "CM-0501": ("{addr}行道树倒伏，压住部分车道", "{addr}大树被风吹倒，阻断人行道"),
    "CM-0316": ("{addr}路面塌陷，已设置围蔽",),
}
CATEGORY_TAILS: dict[str, tuple[str, ...]] = {
    "city_management": ("影响市容环境", "影响通行", "居民反映强烈", "请尽快处理"),
    "disputes": ("需调解", "双方协商未果", "请社区跟进化解"),
    "public_safety": ("存在安全隐患", "已现场提醒", "请尽快排查整改"),
    "public_services": ("需上门了解情况", "请相关部门跟进", "当事人希望尽快答复"),
    "public_security": ("请派出所核查", "已现场劝离", "需跟进处理"),
}
HOTLINE_PREFIX = ("市民来电反映：", "12345热线转办：", "群众来电称：")
VIDEO_PREFIX = "视频巡查发现："

STEP_NOTES: dict[str, tuple[str, ...]] = {
    "cancelled": ("经核实不属实，予以注销", "重复上报，予以注销", "现场核实问题已自行消除，注销"),
    "returned": ("非本单位职责范围，请重新分拨", "权属不清，退回重新派遣", "该点位不在我单位管养范围"),
    "escalated": ("社区多次协调未能解决，上报街道", "属地无法解决，申请上级协调", "网格吹哨，请职能部门报到"),
    "reopened": ("现场核查未整改到位，退回重新处置", "复查发现问题反弹，重新处置"),
    "handled": ("已现场处置完毕", "已安排人员清理", "已劝离并进行教育", "已整改到位", "已上门处理"),
    "verified": ("经现场核查，已整改到位", "网格员复核，问题已解决"),
}


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    """One of ``options``, drawn from ``rng``."""
    return options[int(rng.integers(len(options)))]


def address(rng: np.random.Generator, subdistrict_id: str, community_zh: str) -> str:
    """A plausible place in the subdistrict: a house number, a crossing, or a spot in a community."""
    streets = STREETS.get(subdistrict_id, STREETS["ZM"])
    form = rng.random()
    if form < 0.6:
        return f"{_pick(rng, streets)}{int(rng.integers(1, 220))}号"
    if form < 0.8:
        a, b = (int(i) for i in rng.choice(len(streets), 2, replace=False))
        return f"{streets[a]}与{streets[b]}交界处"
    return f"{community_zh}{_pick(rng, PLACES)}"


def report_note(
    rng: np.random.Generator, et: EventType, channel: str, addr: str, depth_cm: int | None = None
) -> str:
    """The free text of a report from ``channel`` (grid, hotline, video, assigned, sensor)."""
    templates = TYPE_NOTES.get(et.code)
    body = (
        _pick(rng, templates).format(addr=addr, depth=depth_cm or int(rng.integers(15, 45)))
        if templates
        else f"{addr}{et.name_zh}，{_pick(rng, CATEGORY_TAILS.get(et.category, ('请处理',)))}"
    )
    if channel == "hotline":
        return _pick(rng, HOTLINE_PREFIX) + body
    if channel == "video":
        return VIDEO_PREFIX + body
    if channel == "sensor":
        return "物联感知告警：" + body
    if channel == "assigned":
        return "上级交办：" + body
    return body


def step_note(rng: np.random.Generator, step: str) -> str:
    """A short remark for a later step (empty for steps that usually carry none)."""
    options = STEP_NOTES.get(step)
    return _pick(rng, options) if options else ""
