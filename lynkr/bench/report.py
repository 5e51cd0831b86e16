"""The effective-cost tables (plain text and Markdown) and one SVG chart, from replay totals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from lynkr.bench.cost import COLUMNS, LOCAL, Totals

HEADERS = {"raw": "raw tokens", "anthropic": "Anthropic", "gpt-4o": "gpt-4o",
           "gpt-4.1": "gpt-4.1", "gpt-5": "gpt-5", "deepseek": "DeepSeek",
           LOCAL: "local prefill"}
BREAKS = ("appended", "tools", "system", "history")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table (also readable as plain text), numbers right-aligned."""
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=True)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 1) + (":" if i else "-")
                          for i, w in enumerate(widths)) + "|"
    body = ["| " + " | ".join(str(c).rjust(w) if i else str(c).ljust(w)
                              for i, (c, w) in enumerate(zip(r, widths, strict=True))) + " |"
            for r in rows]
    return "\n".join([line, rule, *body])


def ratio_row(label: str, totals: Totals, base: Totals) -> list[str]:
    ratios = totals.ratios(base)
    return [label, *(f"{ratios[c]:.2f}" for c in COLUMNS)]


def ratio_table(rows: Mapping[str, tuple[Totals, Totals]]) -> str:
    """{label: (totals, passthrough totals)} as ratios to passthrough, one column per rule."""
    return table(["pipeline", *(HEADERS[c] for c in COLUMNS)],
                 [ratio_row(label, t, b) for label, (t, b) in rows.items()])


def breaks_table(rows: Mapping[str, Totals]) -> str:
    """Where each request's prefix first differs from the previous request of its session."""
    out = []
    for label, totals in rows.items():
        later = totals.requests - totals.breaks.get("first", 0)
        out.append([label, str(later), *(str(totals.breaks.get(k, 0)) for k in BREAKS),
                    f"{totals.shared / totals.raw:.0%}" if totals.raw else "-"])
    return table(["pipeline", "requests after the first", "appended only", "tools changed",
                  "system changed", "earlier message changed", "shared prefix"], out)


def svg_chart(rows: Mapping[str, Mapping[str, float]], title: str) -> str:
    """Grouped horizontal bars: per pipeline, each rule's ratio to passthrough, a line at 1.0."""
    columns = [c for c in COLUMNS if c != "raw"]
    colours = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948"]
    bar, gap, left, width = 12, 14, 120, 420
    top = 40
    scale = width / max(1.6, max((v for r in rows.values() for v in r.values()), default=1))
    height = top + len(rows) * (len(columns) * bar + gap) + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 160}" '
             f'height="{height}" font-family="sans-serif" font-size="11">',
             f'<text x="8" y="20" font-size="13" font-weight="bold">{escape(title)}</text>']
    y = top
    for label, ratios in rows.items():
        parts.append(f'<text x="8" y="{y + len(columns) * bar / 2 + 4}">{escape(label)}</text>')
        for i, column in enumerate(columns):
            value = ratios.get(column, 0.0)
            parts.append(f'<rect x="{left}" y="{y}" width="{value * scale:.1f}" '
                         f'height="{bar - 2}" fill="{colours[i]}"/>')
            parts.append(f'<text x="{left + value * scale + 4:.1f}" y="{y + bar - 3}">'
                         f'{value:.2f}</text>')
            y += bar
        y += gap
    x1 = left + scale
    parts.append(f'<line x1="{x1:.1f}" y1="{top - 6}" x2="{x1:.1f}" y2="{y}" stroke="#333" '
                 'stroke-dasharray="4 3"/>')
    parts.append(f'<text x="{x1 + 3:.1f}" y="{top - 8}">passthrough = 1.00</text>')
    for i, column in enumerate(columns):
        lx = left + width + 20
        ly = top + i * 16
        parts.append(f'<rect x="{lx}" y="{ly}" width="10" height="10" fill="{colours[i]}"/>')
        parts.append(f'<text x="{lx + 14}" y="{ly + 9}">{escape(HEADERS[column])}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def text_chart(rows: Mapping[str, Mapping[str, float]], column: str, width: int = 40) -> str:
    """One column's ratios as text bars (for a terminal)."""
    peak = max([1.0, *(r.get(column, 0.0) for r in rows.values())])
    label_width = max(len(k) for k in rows) if rows else 0
    lines = []
    for label, ratios in rows.items():
        value = ratios.get(column, 0.0)
        lines.append(f"{label.ljust(label_width)} {'#' * round(value / peak * width):<{width}} "
                     f"{value:.2f}")
    return "\n".join(lines)
