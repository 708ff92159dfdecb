"""HTML mail turned into plain text, locally: nothing is fetched, nothing is rendered.

The parser only walks the markup. Scripts, styles and the head are dropped; quoted history in
``<blockquote>`` is dropped; images become nothing (a remote image is a tracking beacon, so it is never
loaded); links keep their text, followed by their web address when it differs, so the volunteer can read
it without anything being opened.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIPPED = frozenset({"script", "style", "head", "title", "template", "svg", "math", "object", "iframe", "blockquote"})
_VOID = frozenset(
    {"br", "hr", "img", "meta", "link", "input", "wbr", "area", "base", "col", "embed", "source", "track"}
)
# Tags that end a line, and tags that end a paragraph (a blank line).
_LINES = frozenset({"div", "li", "tr", "dt", "dd", "caption"})
_PARAGRAPHS = frozenset(
    {
        "p", "hr", "ul", "ol", "dl", "table", "pre", "section", "article", "header", "footer", "address",
        "h1", "h2", "h3", "h4", "h5", "h6", "center", "form", "fieldset", "main", "nav", "aside",
    }
)  # fmt: skip
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_RUNS = re.compile(r"\n{3,}")
_WEB = re.compile(r"^https?://[^\s<>\"']{1,500}$", re.IGNORECASE)
_MAX_DEPTH = 256


class _TextCollector(HTMLParser):
    """Collects text pieces and line-break requests (ints: at least that many newlines here)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._pieces: list[str | int] = []
        self._skip_stack: list[str] = []
        self._links: list[tuple[str | None, int]] = []
        self._pre = 0

    def _break(self, tag: str) -> None:
        if tag in _PARAGRAPHS:
            self._pieces.append(2)
        elif tag in _LINES:
            self._pieces.append(1)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip_stack:
            if tag == self._skip_stack[-1] and tag not in _VOID and len(self._skip_stack) < _MAX_DEPTH:
                self._skip_stack.append(tag)
            return
        if tag in _SKIPPED:
            self._skip_stack.append(tag)
            return
        if tag == "br":
            self._pieces.append("\n")
            return
        self._break(tag)
        if tag == "li":
            self._pieces.append("- ")
        elif tag == "pre":
            self._pre += 1
        elif tag == "a" and len(self._links) < _MAX_DEPTH:
            href = (dict(attrs).get("href") or "").strip()
            self._links.append((href if _WEB.match(href) else None, len(self._pieces)))

    def handle_endtag(self, tag: str) -> None:
        if self._skip_stack:
            if tag == self._skip_stack[-1]:
                self._skip_stack.pop()
            return
        self._break(tag)
        if tag == "pre" and self._pre:
            self._pre -= 1
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            if href is not None:
                shown = "".join(p for p in self._pieces[start:] if isinstance(p, str)).strip()
                if shown != href:
                    self._pieces.append(f" ({href})")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip_stack:
            return
        if tag == "br":
            self._pieces.append("\n")
        else:
            self._break(tag)

    def handle_data(self, data: str) -> None:
        if self._skip_stack:
            return
        self._pieces.append(data if self._pre else _SPACES.sub(" ", data.replace("\n", " ")))

    def text(self) -> str:
        out: list[str] = []
        for piece in self._pieces:
            if isinstance(piece, str):
                out.append(piece)
                continue
            tail = "".join(out[-4:]).rstrip(" ")
            present = len(tail) - len(tail.rstrip("\n"))
            out.append("\n" * max(0, piece - present))
        lines = [line.strip() for line in "".join(out).split("\n")]
        return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(markup: str) -> str:
    """The readable text of an HTML document, as lines."""
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    return collector.text()
