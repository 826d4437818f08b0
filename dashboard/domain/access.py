"""Who may see and do what: roles, their areas, and the pure checks of a scope (no Redis, no web).

A role is one of: district, subdistrict:<id>, community:<id>, wall:<area id> and admin
(issue 15). A user holds one or more; their scope is the union of their roles' areas, each area with
everything below it (a subdistrict's communities, their cells, the cases in those cells):

| role | sees | may act on warnings | manages users |
| --- | --- | --- | --- |
| district | everything | everywhere | no |
| subdistrict:ZM | ZM and below | in ZM and below | no |
| community:ZM-C01 | ZM-C01 and its cells | there | no |
| wall:<area id> | that area and below (any level, the district's id included) | never | no |
| admin | everything | everywhere | yes |

A wall role is a display account: it is a user's only role (a screen is no person and never acts).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

from dashboard.domain.geo import Geography, Level

RoleKind: TypeAlias = Literal["district", "subdistrict", "community", "wall", "admin"]
ROLE_KINDS: tuple[RoleKind, ...] = ("district", "subdistrict", "community", "wall", "admin")
OPERATOR_KINDS: frozenset[RoleKind] = frozenset({"district", "subdistrict", "community", "admin"})
_AREA_LEVEL: dict[RoleKind, Level | None] = {  # the level of the area a role names (None: any level)
    "subdistrict": "subdistrict",
    "community": "community",
    "wall": None,
}
_KIND_OF: dict[str, RoleKind] = {k: k for k in ROLE_KINDS}
ROLE_FORMS = "district, subdistrict:<id>, community:<id>, wall:<area id>, admin"


class RoleError(ValueError):
    """A role that is not one of the forms, names an unknown area, or does not combine with the others."""


@dataclass(frozen=True, order=True)
class Role:
    """One role: its kind and, for subdistrict, community and wall, the area it is bound to."""

    kind: RoleKind
    area: str | None = None

    def __str__(self) -> str:
        """The role as written: district, subdistrict:ZM, wall:440604."""
        return self.kind if self.area is None else f"{self.kind}:{self.area}"


def parse_role(text: str, geo: Geography) -> Role:
    """A role from its written form, checked against the geography; RoleError naming what is wrong."""
    written, sep, area = text.strip().partition(":")
    kind = _KIND_OF.get(written)
    if kind is None:
        raise RoleError(f"unknown role {text!r} (roles: {ROLE_FORMS})")
    if kind not in _AREA_LEVEL:
        if sep:
            raise RoleError(f"role {kind!r} takes no area (got {text!r})")
        return Role(kind)
    if not area:
        raise RoleError(f"role {kind!r} needs an area: {kind}:<id>")
    try:
        found = geo.area(area)
    except KeyError:
        raise RoleError(f"role {text!r}: unknown area {area!r}") from None
    level = _AREA_LEVEL[kind]
    if level is not None and found.level != level:
        raise RoleError(f"role {text!r}: {area!r} is a {found.level}, not a {level}")
    return Role(kind, area)


def parse_roles(texts: Iterable[str], geo: Geography) -> tuple[Role, ...]:
    """Several roles (duplicates counted once, sorted), each parsed and the set checked (check_roles)."""
    roles = tuple(sorted({parse_role(t, geo) for t in texts}))
    check_roles(roles)
    return roles


def check_roles(roles: Sequence[Role]) -> None:
    """A user's set of roles: at least one, and a wall role alone (RoleError otherwise)."""
    if not roles:
        raise RoleError(f"a user needs at least one role ({ROLE_FORMS})")
    walls = [r for r in roles if r.kind == "wall"]
    if walls and len(roles) > 1:
        raise RoleError(f"a wall role is a display account's only role (got {', '.join(map(str, roles))})")


def role_of(text: str) -> Role:
    """A stored role's written form back as a Role, without the geography (it was checked when set)."""
    written, _, area = text.partition(":")
    kind = _KIND_OF.get(written)
    if kind is None:
        raise RoleError(f"unknown role {text!r}")
    return Role(kind, area or None)


class Access:
    """The scope of a set of roles over one geography: which areas and cases it sees, where it acts."""

    def __init__(self, roles: Iterable[Role], geo: Geography) -> None:
        """Index the roles' areas (the district's id for ``district`` and ``admin``)."""
        self.roles = tuple(sorted(set(roles)))
        self.geo = geo
        district = geo.district.id
        self.admin = any(r.kind == "admin" for r in self.roles)
        self.wall = bool(self.roles) and all(r.kind == "wall" for r in self.roles)
        self._seen = frozenset(district if r.area is None else r.area for r in self.roles)
        self._acts = frozenset(
            district if r.area is None else r.area for r in self.roles if r.kind in OPERATOR_KINDS
        )

    @property
    def roots(self) -> tuple[str, ...]:
        """The highest areas this scope sees, each with everything below it (sorted)."""
        return tuple(sorted(a for a in self._seen if not self._under(a, self._seen - {a})))

    @property
    def home(self) -> str:
        """The area a user starts on: their one root, else the district (the pages then show only the
        parts in scope)."""
        roots = self.roots
        return roots[0] if len(roots) == 1 else self.geo.district.id

    def _under(self, area_id: str, tops: frozenset[str]) -> bool:
        """Whether ``area_id`` is one of ``tops`` or lies below one; False for an unknown area."""
        if area_id in tops:
            return True
        try:
            return any(a.id in tops for a in self.geo.ancestors(area_id))
        except KeyError:
            return False

    def sees(self, area_id: str) -> bool:
        """Whether this scope may see the area (its own areas and everything below them)."""
        return self._under(area_id, self._seen)

    def sees_case(self, cell_id: str) -> bool:
        """Whether this scope may see a case, which lies in the cell ``cell_id``."""
        return self.sees(cell_id)

    def may_act(self, area_id: str) -> bool:
        """Whether this scope may acknowledge, silence or close a warning on the area: an operator role
        (or admin) at or above it; a wall never acts."""
        return self._under(area_id, self._acts)

    @property
    def may_manage_users(self) -> bool:
        """Only an admin adds, changes and disables users."""
        return self.admin

    def visible(self, area_ids: Iterable[str]) -> list[str]:
        """The ids of ``area_ids`` this scope sees, in their order."""
        return [a for a in area_ids if self.sees(a)]
