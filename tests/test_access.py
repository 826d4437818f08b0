"""Roles and scopes as pure rules (dashboard.domain.access): which roles parse, which areas and cases each
sees, where it may act. Tables over the shipped geography; no Redis."""

from __future__ import annotations

import pytest

from dashboard.domain.access import Access, Role, RoleError, check_roles, parse_role, parse_roles, role_of
from dashboard.domain.geo import Geography, load_default_geography

DISTRICT = "440604"


@pytest.fixture(scope="module")
def geo() -> Geography:
    """The shipped geography."""
    return load_default_geography()


def cells_of(geo: Geography, community: str) -> list[str]:
    """A community's cell ids."""
    return [a.id for a in geo.children(community)]


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("district", Role("district")),
        ("admin", Role("admin")),
        ("subdistrict:ZM", Role("subdistrict", "ZM")),
        ("community:ZM-C01", Role("community", "ZM-C01")),
        (" community:ZM-C01 ", Role("community", "ZM-C01")),
        ("wall:440604", Role("wall", DISTRICT)),
        ("wall:NZ", Role("wall", "NZ")),
        ("wall:ZM-C01", Role("wall", "ZM-C01")),
        ("wall:ZM-0001", Role("wall", "ZM-0001")),
    ],
)
def test_roles_parse(geo: Geography, text: str, role: Role) -> None:
    assert parse_role(text, geo) == role
    assert str(role) == text.strip()
    assert role_of(str(role)) == role


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("mayor", "unknown role 'mayor'"),
        ("", "unknown role"),
        ("District", "unknown role"),
        ("subdistrict", "needs an area"),
        ("subdistrict:", "needs an area"),
        ("subdistrict:XX", "unknown area 'XX'"),
        ("subdistrict:ZM-C01", "is a community, not a subdistrict"),
        ("community:ZM", "is a subdistrict, not a community"),
        ("community:ZM-0001", "is a cell, not a community"),
        ("wall", "needs an area"),
        ("wall:nowhere", "unknown area 'nowhere'"),
        ("district:ZM", "takes no area"),
        ("admin:ZM", "takes no area"),
    ],
)
def test_bad_roles_are_named(geo: Geography, text: str, says: str) -> None:
    with pytest.raises(RoleError, match=says):
        parse_role(text, geo)


def test_role_sets(geo: Geography) -> None:
    assert parse_roles(["subdistrict:ZM", "admin", "subdistrict:ZM"], geo) == (
        Role("admin"),
        Role("subdistrict", "ZM"),
    )
    with pytest.raises(RoleError, match="at least one role"):
        parse_roles([], geo)
    with pytest.raises(RoleError, match="display account's only role"):
        parse_roles(["wall:ZM", "district"], geo)
    with pytest.raises(RoleError, match="display account's only role"):
        check_roles([Role("wall", "ZM"), Role("wall", "NZ")])


def test_subdistrict_sees_its_area_and_everything_below(geo: Geography) -> None:
    a = Access([Role("subdistrict", "ZM")], geo)
    assert a.sees("ZM")
    assert all(a.sees(c.id) for c in geo.children("ZM"))
    assert all(a.sees(cell) for c in geo.children("ZM") for cell in cells_of(geo, c.id))
    assert a.sees_case("ZM-0001")
    assert not a.sees("NZ") and not a.sees(geo.children("NZ")[0].id) and not a.sees_case("NZ-0001")
    assert not a.sees(DISTRICT)  # the district as a whole is above it
    assert not a.sees("nowhere")
    assert a.may_act("ZM") and a.may_act("ZM-0001") and not a.may_act("NZ") and not a.may_act(DISTRICT)
    assert a.roots == ("ZM",) and a.home == "ZM"
    assert not a.may_manage_users and not a.wall
    assert a.visible([DISTRICT, "ZM", "NZ", "ZM-C01", "SW-C01"]) == ["ZM", "ZM-C01"]


def test_community_sees_only_that_community(geo: Geography) -> None:
    a = Access([Role("community", "ZM-C01")], geo)
    own = cells_of(geo, "ZM-C01")
    assert a.sees("ZM-C01") and all(a.sees(c) for c in own) and a.sees_case(own[0])
    assert not a.sees("ZM") and not a.sees("ZM-C02") and not a.sees(DISTRICT)
    assert not any(a.sees(c) for c in cells_of(geo, "ZM-C02"))
    assert a.may_act(own[0]) and not a.may_act("ZM")
    assert a.home == "ZM-C01"


@pytest.mark.parametrize("kind", ["district", "admin"])
def test_district_and_admin_see_and_act_everywhere(geo: Geography, kind: str) -> None:
    a = Access([parse_role(kind, geo)], geo)
    every = [DISTRICT, *geo.subdistricts, *geo.communities, *geo.cells]
    assert all(a.sees(x) for x in every)
    assert all(a.may_act(x) for x in every)
    assert a.home == DISTRICT
    assert a.may_manage_users == (kind == "admin")


@pytest.mark.parametrize("area", [DISTRICT, "NZ", "NZ-C01"])
def test_a_wall_reads_its_area_and_never_acts(geo: Geography, area: str) -> None:
    a = Access([Role("wall", area)], geo)
    assert a.wall and a.sees(area) and a.home == area
    assert all(a.sees(c.id) for c in geo.children(area))
    assert not any(a.may_act(x) for x in (area, *(c.id for c in geo.children(area))))
    assert not a.may_manage_users
    if area != DISTRICT:
        assert not a.sees("ZM") and not a.sees(DISTRICT)


def test_several_roles_are_the_union(geo: Geography) -> None:
    a = Access([Role("community", "ZM-C01"), Role("subdistrict", "NZ")], geo)
    assert a.sees("NZ") and a.sees("ZM-C01") and not a.sees("ZM") and not a.sees("SW")
    assert a.roots == ("NZ", "ZM-C01") and a.home == DISTRICT  # two roots: start at the top
    nested = Access([Role("community", "ZM-C01"), Role("subdistrict", "ZM")], geo)
    assert nested.roots == ("ZM",) and nested.home == "ZM"


def test_no_role_sees_nothing(geo: Geography) -> None:
    a = Access([], geo)
    assert not a.sees(DISTRICT) and not a.sees("ZM-0001") and not a.may_act("ZM") and not a.wall
