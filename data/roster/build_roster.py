"""Build grid_workers.csv: a synthetic roster of 1-2 grid workers (网格员) per cell, deterministic.

Run from the repository root: ``python data/roster/build_roster.py``. Names are drawn from common
Chinese surnames and given-name characters (with their pinyin for the English name); phone numbers are
plausible mainland mobile numbers that belong to nobody known. The same seed gives the same file.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
CELLS = HERE.parent / "cells.geojson"
OUT = HERE / "grid_workers.csv"
SEED = 20260921

SURNAMES = [
    ("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("杨", "Yang"),
    ("黄", "Huang"), ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"), ("徐", "Xu"), ("孙", "Sun"),
    ("马", "Ma"), ("朱", "Zhu"), ("胡", "Hu"), ("郭", "Guo"), ("何", "He"), ("林", "Lin"),
    ("罗", "Luo"), ("梁", "Liang"), ("谢", "Xie"), ("冯", "Feng"), ("邓", "Deng"), ("区", "Ou"),
    ("麦", "Mai"), ("潘", "Pan"), ("冼", "Xian"), ("卢", "Lu"), ("苏", "Su"), ("钟", "Zhong"),
]  # fmt: skip
GIVEN = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("秀", "xiu"), ("英", "ying"), ("敏", "min"),
    ("静", "jing"), ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"),
    ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"),
    ("超", "chao"), ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("桂", "gui"), ("华", "hua"),
    ("建", "jian"), ("国", "guo"), ("文", "wen"), ("志", "zhi"), ("海", "hai"), ("燕", "yan"),
    ("嘉", "jia"), ("欣", "xin"), ("浩", "hao"), ("婷", "ting"), ("健", "jian"), ("锦", "jin"),
]  # fmt: skip
PREFIXES = ["133", "135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "180", "186",
            "187", "188", "189", "199"]  # fmt: skip


def name(rnd: random.Random) -> tuple[str, str]:
    """A Chinese name (one or two given-name characters) and its pinyin as "Surname Givenname"."""
    sur_zh, sur_en = rnd.choice(SURNAMES)
    given = rnd.sample(GIVEN, rnd.choice((1, 2, 2)))
    return sur_zh + "".join(g[0] for g in given), f"{sur_en} {''.join(g[1] for g in given).capitalize()}"


def main() -> None:
    """Write the roster for every cell in data/cells.geojson."""
    rnd = random.Random(SEED)
    cells = [f["properties"]["id"] for f in json.loads(CELLS.read_text(encoding="utf-8"))["features"]]
    phones: set[str] = set()
    rows = []
    for cell in cells:
        for k in range(rnd.choice((1, 1, 2))):
            phone = ""
            while not phone or phone in phones:
                phone = rnd.choice(PREFIXES) + f"{rnd.randrange(10**8):08d}"
            phones.add(phone)
            zh, en = name(rnd)
            rows.append(
                [f"GW-{len(rows) + 1:04d}", zh, en, phone, cell, "full_time" if k == 0 else "part_time"]
            )
    with open(OUT, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "name_zh", "name_en", "phone", "cell_id", "role"])
        w.writerows(rows)
    print(f"{OUT}: {len(rows)} workers in {len(cells)} cells")


if __name__ == "__main__":
    main()
