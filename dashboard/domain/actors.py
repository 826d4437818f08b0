"""Who acted on a case and what a camera is called, in the page's language.

A case event's ``actor`` is free text from the field. The simulator and most feeds write ids and bodies
this module knows: a grid worker's roster id (``GW-0001``) or the cell's n-th worker (``GW-ZM-0001-1``),
a camera id, the 12345 hotline, a command centre (``祖庙街道智慧社会治理中心``), a subdistrict's office,
a community's committee, a police station, a department's short or full name. ``actor_words`` names
them in the language (the raw id kept as ``ref`` for a tooltip); anything else is a person's text,
shown as written. ``camera_name`` gives a camera's English name even when the registry's is Chinese.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dashboard.domain.catalogue import Catalogue
from dashboard.domain.geo import Area, Geography
from dashboard.domain.i18n import Lang
from dashboard.domain.registry import CAMERA_KINDS, Camera
from dashboard.domain.roster import Worker

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_CELL_WORKER = re.compile(r"^GW-(?P<cell>.+)-(?P<n>\d{1,3})$")  # the n-th grid worker of a cell
_KIND_EN = {k.key: k.label_en for k in CAMERA_KINDS}
_EN_SUFFIX = re.compile(r"\s+(Town Subdistrict|Subdistrict|Town)$")

HOTLINE = "12345"
DISTRICT_CENTRE = "区智慧社会治理中心"
VIDEO_PATROL = "视频巡查"


@dataclass(frozen=True)
class ActorWords:
    """An actor as a page shows it: its name in the language and the raw text it came from."""

    name: str
    ref: str  # the actor as recorded (an id), for a tooltip; "" when the name is the text itself


def has_cjk(text: str) -> bool:
    """True when the text holds Chinese characters."""
    return bool(CJK.search(text))


def camera_name(cam: Camera, lang: Lang, geo: Geography | None = None) -> str:
    """A camera's name: the registry's in the language; in English, when the registry's English name is
    missing or Chinese, its cell's English name, its kind and number ("Tapo Community Grid 1 Road Camera
    12")."""
    if lang == "zh-CN":
        return cam.name_zh
    if cam.name_en and not has_cjk(cam.name_en):
        return cam.name_en
    cell = geo.cells.get(cam.cell_id) if geo is not None else None
    where = cell.name_en if cell is not None and not has_cjk(cell.name_en) else cam.cell_id
    digits = re.findall(r"\d+", cam.id)
    number = str(int(digits[-1])) if digits else cam.id
    return f"{where} {_KIND_EN.get(cam.kind, 'Camera')} {number}"


def _named(area: Area, lang: Lang) -> str:
    """An area's name in the language."""
    return area.name_zh if lang == "zh-CN" else area.name_en


class Actors:
    """Names actors from the district's data: the geography, the roster, the catalogue, the cameras."""

    def __init__(
        self,
        geo: Geography,
        roster: Mapping[str, Sequence[Worker]],
        catalogue: Catalogue,
        cameras: Mapping[str, Camera],
    ) -> None:
        """Index what actors may name."""
        self.geo = geo
        self.roster = roster
        self.workers = {w.id: w for ws in roster.values() for w in ws}
        self.cameras = cameras
        self.depts: dict[str, tuple[str, str]] = {}
        for d in catalogue.departments.values():
            self.depts.setdefault(d.short_zh, (d.short_zh, d.short_en))
            self.depts.setdefault(d.name_zh, (d.name_zh, d.name_en))
        self.subs = {a.name_zh: a for a in geo.subdistricts.values()}
        self.stations = {
            a.name_zh.removesuffix("街道").removesuffix("镇街").removesuffix("镇"): a
            for a in geo.subdistricts.values()
        }
        self.communities = {a.name_zh: a for a in geo.communities.values()}

    def words(self, raw: str | None, lang: Lang) -> ActorWords:
        """The actor in words ("–" for none)."""
        text = (raw or "").strip()
        if not text:
            return ActorWords("–", "")
        found = self._known(text, lang)
        return found if found is not None else ActorWords(text, "")

    def _known(self, text: str, lang: Lang) -> ActorWords | None:
        """The actor's name when it is one this district's data knows."""
        en = lang == "en"
        worker = self.workers.get(text) or self._cell_worker(text)
        if worker is not None:
            return ActorWords(worker.name_en if en else worker.name_zh, text)
        m = _CELL_WORKER.match(text)
        if m and m.group("cell") in self.geo.cells:
            cell = self.geo.cells[m.group("cell")]
            n = m.group("n")
            return ActorWords(f"{cell.name_en} grid worker {n}" if en else f"{cell.name_zh} 网格员{n}", text)
        cam = self.cameras.get(text)
        if cam is not None:
            return ActorWords(camera_name(cam, lang, self.geo), text)
        if text == HOTLINE:
            return ActorWords("12345 hotline" if en else "12345 热线", text)
        if text == VIDEO_PATROL:
            return ActorWords("Video patrol" if en else text, "")
        if text == DISTRICT_CENTRE:
            return ActorWords("District Social Governance Centre" if en else text, "")
        if text in self.depts:
            zh, en_name = self.depts[text]
            return ActorWords(en_name if en else zh, "")
        return self._body(text, lang)

    def _cell_worker(self, text: str) -> Worker | None:
        """``GW-<cell>-<n>``: the cell's n-th worker in the roster, if there is one."""
        m = _CELL_WORKER.match(text)
        if not m:
            return None
        ws = self.roster.get(m.group("cell")) or ()
        n = int(m.group("n"))
        return ws[n - 1] if 0 < n <= len(ws) else None

    def _body(self, text: str, lang: Lang) -> ActorWords | None:
        """A subdistrict's centre or office, a community's committee, a police station."""
        en = lang == "en"
        for suffix, word in (
            ("智慧社会治理中心", "Social Governance Centre"),
            ("人民政府", "Government"),
            ("办事处", "Office"),
        ):
            sub = self.subs.get(text.removesuffix(suffix)) if text.endswith(suffix) else None
            if sub is not None:
                return ActorWords(f"{_EN_SUFFIX.sub('', sub.name_en)} {word}" if en else text, "")
        for suffix, word in (("居委会", "Residents' Committee"), ("村委会", "Villagers' Committee")):
            com = self.communities.get(text.removesuffix(suffix)) if text.endswith(suffix) else None
            if com is not None:
                return ActorWords(f"{com.name_en} {word}" if en else text, "")
        if text.endswith("派出所"):
            sub = self.stations.get(text.removesuffix("派出所"))
            if sub is not None:
                return ActorWords(f"{_EN_SUFFIX.sub('', sub.name_en)} Police Station" if en else text, "")
        return None
