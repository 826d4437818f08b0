"""``/community/<area_id>``: one community, drilled down to (``layouts.area``)."""

from __future__ import annotations

import dash

from layouts import area, nav

dash.register_page(
    __name__, path_template="/community/<area_id>", layout=area.page_of("community"), title=nav.tab_title
)
