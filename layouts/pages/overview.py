"""``/``: the district overview, the wall for an operator's desk (``layouts.wall``)."""

from __future__ import annotations

import dash

from layouts import wall

dash.register_page(__name__, path="/", layout=wall.layout, title="禅城区城市大脑 · City Brain")
