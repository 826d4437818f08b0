"""``/alerts``: the history of the warnings, filtered (``layouts.alerts_page``)."""

from __future__ import annotations

import dash

from layouts import alerts_page

dash.register_page(__name__, path="/alerts", layout=alerts_page.layout, title="预警记录 · Alert history")
