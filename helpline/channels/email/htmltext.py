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
_BLOCKS = frozenset(
    {
        "p", "div", "br", "hr", "li", "tr", "table", "ul", "ol", "dl", "dt", "dd", "pre", "section", "article",
        "header", "footer", "address", "h1", "h2", "h3", "h4", "h5", "h6", "center", "form", "fieldset",
    }
)  # fmt: skip
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_RUNS = re.compile(r"\n{3,}")
_WEB = re.compile(r"^https?://[^\s<>\"']{1,500}$", re.IGNORECASE)
_MAX_DEPTH = 256


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._pieces: list[str] = []
        self._skip_stack: list[str] = []
        self._links: list[tuple[str | None, int]] = []
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip_stack:
            if tag == self._skip_stack[-1] and tag not in _VOID and len(self._skip_stack) < _MAX_DEPTH:
                self._skip_stack.append(tag)
            return
        if tag in _SKIPPED:
            self._skip_stack.append(tag)
            return
        if tag in _BLOCKS:
            self._pieces.append("\n")
        if tag == "li":
            self._pieces.append("- ")
        if tag == "pre":
            self._pre += 1
        if tag == "a" and len(self._links) < _MAX_DEPTH:
            href = (dict(attrs).get("href") or "").strip()
            self._links.append((href if _WEB.match(href) else None, len(self._pieces)))

    def handle_endtag(self, tag: str) -> None:
        if self._skip_stack:
            if tag == self._skip_stack[-1]:
                self._skip_stack.pop()
            return
        if tag in _BLOCKS:
            self._pieces.append("\n")
        if tag == "pre" and self._pre:
            self._pre -= 1
        if tag == "a" and self._links:
            href, start = self._links.pop()
            if href is not None:
                shown = "".join(self._pieces[start:]).strip()
                if shown != href:
                    self._pieces.append(f" ({href})")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self._skip_stack and tag in _BLOCKS:
            self._pieces.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip_stack:
            return
        self._pieces.append(data if self._pre else _SPACES.sub(" ", data.replace("\n", " ")))

    def text(self) -> str:
        lines = [line.strip() for line in "".join(self._pieces).split("\n")]
        return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(markup: str) -> str:
    """The readable text of an HTML document, as lines."""
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    return collector.text()
