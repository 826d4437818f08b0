"""A table as the screen shows it and its CSV export writes it: the same rows, so an export never
differs from what was on screen; only a time is written in full in the file (``2026-11-28 14:05``, the
screen may say "11月28日 14:05"), under an as-of first line (``dashboard.domain.export``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dash import dcc, html

from dashboard.domain.export import csv_text
from layouts import nav


@dataclass
class Grid:
    """A table as the screen shows it and its CSV writes: header and rows of display text.

    ``hrefs`` (one per row, or None) makes the ``link_col`` cell a link; ``keys`` go into the rows'
    ``data-row`` attribute; ``classes`` are extra row classes; ``files`` are the rows as the CSV writes
    them (a time in full, with its year)."""

    head: list[str]
    rows: list[list[str]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    hrefs: list[str | None] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    files: list[list[str]] = field(default_factory=list)
    link_col: int = 0
    num_cols: tuple[int, ...] = ()

    def add(
        self,
        key: str,
        cells: list[str],
        href: str | None = None,
        cls: str = "",
        full: dict[int, str] | None = None,
    ) -> None:
        """One row; ``full``: the file's text of some columns (a time with its year) where it differs."""
        self.rows.append(cells)
        self.files.append([(full or {}).get(i, text) for i, text in enumerate(cells)])
        self.keys.append(key)
        self.hrefs.append(href)
        self.classes.append(cls)

    def table(self, table_id: str, empty: str) -> Any:
        """The html table (or a line saying there is nothing)."""
        if not self.rows:
            return html.Div(empty, id=table_id, className="muted area-empty")
        body = []
        for cells, key, href, cls in zip(self.rows, self.keys, self.hrefs, self.classes, strict=True):
            tds = []
            for i, text in enumerate(cells):
                content: Any = dcc.Link(text, href=href) if href and i == self.link_col else text
                tds.append(html.Td(content, className="num" if i in self.num_cols else None))
            body.append(html.Tr(tds, className=f"area-row {cls}".strip(), **nav.data(row=key)))
        return html.Table(
            [
                html.Thead(
                    html.Tr(
                        [
                            html.Th(h, className="num" if i in self.num_cols else None)
                            for i, h in enumerate(self.head)
                        ]
                    )
                ),
                html.Tbody(body),
            ],
            id=table_id,
            className="area-table",
        )

    def data(self) -> dict[str, Any]:
        """What the export needs: the header and the rows, as shown (times in full)."""
        return {"head": self.head, "rows": self.files}


def to_csv(data: dict[str, Any], asof_label: str, asof: str) -> str:
    """A table's CSV: the as-of line, then the header and the rows (``dashboard.domain.export.csv_text``:
    a byte-order mark for Excel, formula cells escaped)."""
    return csv_text(asof_label, asof, data["head"], data["rows"])
