/* What the JS unit tests share: the modules under assets/js/, the fixture generated from the Python side
   (tests/test_js_fixtures.py: strings, ids, colour and duration rules), and a small wall meta. */
"use strict";

const path = require("node:path");

const fx = require("./fixtures.json");
const TZ = "Asia/Shanghai";

function js(name) { return require(path.join(__dirname, "..", "..", "assets", "js", name + ".js")); }

// A UTC instant from local (Asia/Shanghai, UTC+8, no daylight saving) parts.
function local(y, mo, d, h, mi, s) { return Date.UTC(y, mo - 1, d, (h || 0) - 8, mi || 0, s || 0); }

// The wall's meta as layouts/wall.py builds it, for a few areas and catalogue entries.
function wallMeta(lang) {
  const zh = lang === "zh-CN";
  return {
    lang, tz: TZ, view: "wall", strings: fx.strings[lang], stages: fx.stages, ids: fx.ids.wall,
    cells: {
      "ZM-0001": [zh ? "祖庙网格1" : "Zumiao Grid 1", "ZM-C01"],
      "ZM-0002": [zh ? "祖庙网格2" : "Zumiao Grid 2", "ZM-C01"],
      "SW-0001": [zh ? "石湾网格1" : "Shiwan Grid 1", "SW-C01"],
    },
    communities: { "ZM-C01": "ZM", "SW-C01": "SW" },
    community_names: { "ZM-C01": zh ? "塔坡社区" : "Tapo Community", "SW-C01": zh ? "石湾社区" : "Shiwan Community" },
    subdistricts: { ZM: zh ? "祖庙街道" : "Zumiao Subdistrict", SW: zh ? "石湾镇街道" : "Shiwan Town" },
    sub_short: { ZM: zh ? "祖庙" : "Zumiao", SW: zh ? "石湾" : "Shiwan" },
    district_name: fx.strings[lang].district,
    levels: {
      blue: { rank: 1, colour: "#3b82f6", name: zh ? "蓝色" : "Blue" },
      yellow: { rank: 2, colour: "#eab308", name: zh ? "黄色" : "Yellow" },
      orange: { rank: 3, colour: "#f97316", name: zh ? "橙色" : "Orange" },
      red: { rank: 4, colour: "#dc2626", name: zh ? "红色" : "Red" },
    },
    depts: { cg: zh ? "城管" : "Urban Mgmt", sw: zh ? "水务" : "Water", ga: zh ? "公安" : "Police" },
    types: { "CM-0101": zh ? "占道经营" : "Street vending" },
    cats: { disputes: [zh ? "矛盾纠纷" : "Disputes", "#f7c35f"], public_safety: [zh ? "公共安全" : "Public safety", "#ff7a59"] },
    plot: { legend: {}, xaxis: {}, yaxis: {} },
    graph_config: {},
    fresh: { [fx.ids.wall.flow]: "case_event", [fx.ids.wall.kpiCameras]: "camera_status" },
  };
}

module.exports = { fx, TZ, js, local, wallMeta };
