"""``/wall``: the command wall for a 16:9 screen nobody touches (``layouts.wallmode``)."""

from __future__ import annotations

import dash

from layouts import wallmode

wallmode.check_config()  # a web.wall_views naming no subdistrict stops the web role at start
dash.register_page(
    __name__, path="/wall", layout=wallmode.layout, title="禅城区城市大脑 · 指挥大屏 · Command Wall"
)
