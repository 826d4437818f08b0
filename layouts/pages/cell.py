"""``/cell/<area_id>``: one cell, drilled down to (``layouts.area``)."""

from __future__ import annotations

import dash

from layouts import area, nav

dash.register_page(
    __name__, path_template="/cell/<area_id>", layout=area.page_of("cell"), title=nav.tab_title
)
