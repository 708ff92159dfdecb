"""Reading a rendered Reports page back into figures: its tables (by id) and its headline numbers."""

from __future__ import annotations

from html.parser import HTMLParser


class ReportPage(HTMLParser):
    """Every table's body rows (header cell, then data cells) by table id, and every ``<dt>``/``<dd>`` pair."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.numbers: dict[str, str] = {}
        self._table: str | None = None
        self._in_body = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._term: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id") or ""
            self.tables[self._table] = []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self._row = []
        elif tag in ("th", "td", "dt", "dd"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._table = None
        elif tag == "dt" and self._cell is not None:
            self._term = "".join(self._cell).strip()
            self._cell = None
        elif tag == "dd" and self._cell is not None and self._term is not None:
            self.numbers[self._term] = "".join(self._cell).strip()
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def counts(self, table_id: str) -> list[str]:
        """The count column of a figure's table, in order."""
        return [row[1] for row in self.tables[table_id]]
