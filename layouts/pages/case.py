"""``/case/<case_id>``: one case, whole (``layouts.case``)."""

from __future__ import annotations

import dash

from layouts import case, nav

dash.register_page(__name__, path_template="/case/<case_id>", layout=case.layout, title=nav.tab_title)
