"""A table as the screen shows it and its CSV export writes it: the same rows, so an export never
differs from what was on screen."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from dash import dcc, html

from layouts import nav


@dataclass
class Grid:
    """A table as the screen shows it and its CSV writes: header and rows of display text.

    ``hrefs`` (one per row, or None) makes the ``link_col`` cell a link; ``keys`` go into the rows'
    ``data-row`` attribute; ``classes`` are extra row classes."""

    head: list[str]
    rows: list[list[str]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    hrefs: list[str | None] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    link_col: int = 0
    num_cols: tuple[int, ...] = ()

    def add(self, key: str, cells: list[str], href: str | None = None, cls: str = "") -> None:
        """One row."""
        self.rows.append(cells)
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
        """What the export needs: the header and the rows, as shown."""
        return {"head": self.head, "rows": self.rows}


def to_csv(data: dict[str, Any]) -> str:
    """A table's CSV: UTF-8 with a byte-order mark (Excel then reads Chinese), header first."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(data["head"])
    w.writerows(data["rows"])
    return "\ufeff" + buf.getvalue()
