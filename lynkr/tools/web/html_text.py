"""HTML reduced to the text a model reads, with the standard library's ``html.parser``.

Assumes: a decoded document (possibly cut short by the size limit, possibly malformed).
Guarantees: scripts, styles, navigation, forms' controls, SVG and other non-text elements are
dropped with their content; headings keep their level (``## Title``), list items their bullet
or number and nesting, links their target as ``[text](absolute URL)``, preformatted blocks
their line breaks (fenced), table cells a ``|`` between them; whitespace is collapsed
elsewhere and blank lines run to one at most; the ``<title>`` is returned apart.
Never: raises on malformed HTML; runs scripts; fetches anything (images included).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin

import attrs

SKIP = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "nav",
        "svg",
        "math",
        "iframe",
        "object",
        "embed",
        "canvas",
        "select",
        "button",
        "audio",
        "video",
        "map",
        "dialog",
    }
)
VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)
BLOCK = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "main",
        "header",
        "footer",
        "aside",
        "blockquote",
        "figure",
        "figcaption",
        "address",
        "details",
        "summary",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "dl",
        "dt",
        "dd",
        "form",
        "fieldset",
        "hr",
        "center",
        "body",
    }
)
HEADINGS = {f"h{n}": n for n in range(1, 7)}
GAP = frozenset({"p", "blockquote", "table", "pre", "figure", *HEADINGS})  # a blank line around
_SPACE = re.compile(r"\s+")


@attrs.frozen
class HtmlText:
    title: str
    text: str


class _Reducer(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.out: list[str] = []
        self.title: list[str] = []
        self.skip_tag: str | None = None  # the dropped element we are inside
        self.skip_depth = 0  # how many of it are open (nested)
        self.pre = 0
        self.in_title = False
        self.lists: list[list[int]] = []  # per open list: [next number] (ol) or [] (ul)
        self.links: list[tuple[str | None, int]] = []  # (href, position in out) per open <a>
        self.cells = 0  # cells written in the current table row

    # -- structure ---------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip_tag is not None:
            self.skip_depth += tag == self.skip_tag
            return
        if tag in SKIP or any(name == "hidden" for name, _ in attrs):
            if tag not in VOID:
                self.skip_tag, self.skip_depth = tag, 1
            return
        if tag == "title":
            self.in_title = True
        elif tag in HEADINGS:
            self._gap()
            self.out.append("#" * HEADINGS[tag] + " ")
        elif tag in ("ul", "ol"):
            self._block()
            self.lists.append([1] if tag == "ol" else [])
        elif tag == "li":
            self._li()
        elif tag == "pre":
            self._gap()
            self.out.append("```\n")
            self.pre += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag == "tr":
            self._block()
            self.cells = 0
        elif tag in ("td", "th"):
            self.out.append(" | " if self.cells else "")
            self.cells += 1
        elif tag == "a":
            self.links.append((dict(attrs).get("href"), len(self.out)))
        elif tag == "code" and not self.pre:
            self.out.append("`")
        elif tag in GAP:
            self._gap()
        elif tag in BLOCK:
            self._block()

    def handle_endtag(self, tag: str) -> None:
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth -= 1
                if not self.skip_depth:
                    self.skip_tag = None
            return
        if tag == "title":
            self.in_title = False
        elif tag in GAP and tag != "pre":
            self._gap()
        elif tag in BLOCK or tag in ("li", "tr"):
            self._block()
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            if self.lists:
                self._block()
            else:
                self._gap()
        elif tag == "pre" and self.pre:
            self.pre -= 1
            self._block()
            self.out.append("```\n\n")
        elif tag == "a" and self.links:
            self._close_link()
        elif tag == "code" and not self.pre:
            self.out.append("`")

    def handle_data(self, data: str) -> None:
        if self.skip_tag is not None:
            return
        if self.in_title:
            self.title.append(data)
        elif self.pre:
            self.out.append(data)
        else:
            text = _SPACE.sub(" ", data)
            if not self.out or self.out[-1].endswith("\n"):
                text = text.lstrip()
            if text:
                self.out.append(text)

    # -- pieces ------------------------------------------------------------------------------
    def _block(self) -> None:
        if self.out and not self.out[-1].endswith("\n"):
            self.out.append("\n")

    def _gap(self) -> None:
        if self.out:  # extra blank lines are collapsed at the end
            self._block()
            self.out.append("\n")

    def _li(self) -> None:
        self._block()
        depth = max(len(self.lists), 1)
        numbers = self.lists[-1] if self.lists else []
        if numbers:
            bullet = f"{numbers[0]}. "
            numbers[0] += 1
        else:
            bullet = "- "
        self.out.append("  " * (depth - 1) + bullet)

    def _close_link(self) -> None:
        href, start = self.links.pop()
        label = "".join(self.out[start:]).strip()
        if not href or href.startswith(("#", "javascript:", "data:")):
            return
        target = urljoin(self.base_url, href.strip())
        if not label:
            self.out.append(f"[{target}]")
        elif label != target:
            self.out[start:] = [f"[{label}]({target})"]


def html_to_text(html: str, base_url: str = "") -> HtmlText:
    """The readable text of ``html`` (links resolved against ``base_url``) and its title."""
    reducer = _Reducer(base_url)
    reducer.feed(html)
    reducer.close()
    text = "".join(reducer.out)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return HtmlText(_SPACE.sub(" ", "".join(reducer.title)).strip(), text.strip())
