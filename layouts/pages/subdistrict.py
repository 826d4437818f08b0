"""``/subdistrict/<area_id>``: one subdistrict, drilled down to (``layouts.area``)."""

from __future__ import annotations

import dash

from layouts import area, nav

dash.register_page(
    __name__, path_template="/subdistrict/<area_id>", layout=area.page_of("subdistrict"), title=nav.tab_title
)
