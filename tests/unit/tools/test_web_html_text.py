"""HTML reduced to text (lynkr/tools/web/html_text.py): whole documents in, exact text out."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lynkr.tools.web.html_text import HtmlText, html_to_text

PAGE = """<!doctype html>
<html><head><title> Release   notes &amp; more </title>
<style>body { color: red }</style>
<script>document.write("<p>never</p>")</script>
<meta charset="utf-8"><link rel="stylesheet" href="/x.css"></head>
<body>
<nav><a href="/">Home</a> <a href="/docs">Docs</a></nav>
<header><h1>Lynkr   4.2</h1></header>
<main>
<p>Read the <a href="guide/start.html">getting started guide</a> or
   <a href="https://example.org/">https://example.org/</a>.</p>
<h2>Changes</h2>
<ul>
  <li>Faster <code>web_fetch</code></li>
  <li>New tools
    <ol><li>web_search</li><li>web_fetch</li></ol>
  </li>
</ul>
<pre>lynkr start
  --port 8081</pre>
<table><tr><th>Tool</th><th>Limit</th></tr><tr><td>fetch</td><td>2&nbsp;MB</td></tr></table>
<div hidden>hidden <div>nested</div> text</div>
<noscript>enable JavaScript</noscript>
<form><label>Name</label><input name="n"><button>Send</button><select><option>a</select></form>
<p>caf&eacute; &mdash; done<br>next line</p>
<svg><text>chart</text></svg>
</main>
<footer><a href="#top">top</a> &copy; 2026</footer>
</body></html>"""

EXPECTED = """# Lynkr 4.2

Read the [getting started guide](https://docs.test/v4/guide/start.html) or https://example.org/.

## Changes

- Faster `web_fetch`
- New tools
  1. web_search
  2. web_fetch

```
lynkr start
  --port 8081
```

Tool | Limit
fetch | 2 MB

Name

café — done
next line

top © 2026"""


def test_a_whole_page() -> None:
    assert html_to_text(PAGE, "https://docs.test/v4/index.html") == HtmlText(
        "Release notes & more", EXPECTED
    )


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<a href='/x'>label</a>", "[label](https://site.test/x)"),
        ("<a href='mailto:a@b.c'>mail</a>", "[mail](mailto:a@b.c)"),
        ("<a href='javascript:void(0)'>js</a>", "js"),
        ("<a href='#s'>anchor</a>", "anchor"),
        ("<a href='/img'><img src='x.png'></a>", "[https://site.test/img]"),
        ("<a>no href</a>", "no href"),
        ("<h3>Three</h3><p>x</p>", "### Three\n\nx"),
        ("<ul><li>a<li>b</ul>", "- a\n- b"),  # unclosed items
        ("<p>a<p>b", "a\n\nb"),
        ("<script>x</script>", ""),
        ("<nav>unclosed nav <p>lost", ""),  # an unclosed dropped element drops the rest
        ("plain text &lt;b&gt;", "plain text <b>"),
        ("<p>  lots \n\n of \t space  </p>", "lots of space"),
        ("<div><div><div>deep</div></div></div>", "deep"),
        ("<p>unterminated <b>bold", "unterminated bold"),
        ("</p></div>stray closers", "stray closers"),
    ],
)
def test_pieces(html: str, text: str) -> None:
    assert html_to_text(html, "https://site.test/page").text == text


@given(st.text(alphabet="<>/ab =\"'&;#!-pdivscrtl\n", max_size=200))
def test_any_input_gives_text_and_never_raises(html: str) -> None:
    result = html_to_text(html, "https://site.test/")
    assert isinstance(result.text, str) and "\n\n\n" not in result.text
