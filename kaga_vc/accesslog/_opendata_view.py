"""The open data for people to look at: a chart (PNG and SVG) and an HTML summary page.

Drawn from the published cells only (what ``access-counts.csv`` holds), so the pictures can never
show a suppressed cell. matplotlib with its Agg backend (no display needed); the SVG carries no
date nor random ids, so the same cells give the same file. The page has no script and escapes every
value (purposes are free text chosen by verifiers).
"""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path
from typing import Any

CHART_STEM = "access-counts"
PAGE = "index.html"


def _series(cells: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> tuple[list[str], dict[str, list[int]]]:
    """Periods (sorted) and, per verifier category, the number of verifications in each period."""
    periods = sorted({str(c["period"]) for c in cells})
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for cell in cells:
        totals[str(cell["verifier_category"])][str(cell["period"])] += int(cell["count"])
    return periods, {cat: [totals[cat][p] for p in periods] for cat in sorted(totals)}


def write_chart(cells: tuple[dict[str, Any], ...] | list[dict[str, Any]], out: Path, *, k: int,
                bucket: str) -> tuple[Path, Path]:
    """``access-counts.png`` and ``.svg``: verifications per verifier category and period (grouped bars)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    periods, series = _series(cells)
    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=100)
    try:
        width = 0.8 / max(len(series), 1)
        for number, (category, counts) in enumerate(series.items()):
            positions = [i + (number - (len(series) - 1) / 2) * width for i in range(len(periods))]
            axes.bar(positions, counts, width=width, label=category)
        axes.set_xticks(range(len(periods)), periods)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel(f"period ({bucket})")
        axes.set_ylabel("verifications")
        axes.set_title("Kaga access log: verifications per verifier category")
        if series:
            axes.legend(title="verifier category")
        else:
            axes.text(0.5, 0.5, f"no cell with at least {k} residents yet", ha="center", va="center",
                      transform=axes.transAxes)
        axes.figure.text(0.01, 0.01, f"cells with fewer than {k} residents are not shown", fontsize=8)
        png, svg = out / f"{CHART_STEM}.png", out / f"{CHART_STEM}.svg"
        figure.savefig(png, format="png", metadata={"Software": None})
        with matplotlib.rc_context({"svg.hashsalt": "kaga-vc"}):
            figure.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    finally:
        plt.close(figure)
    return png, svg


def write_page(document: dict[str, Any], out: Path, chart: str) -> Path:
    """``index.html``: what the data is, the chart, the published cells as a table, what was held back."""
    e = html.escape
    rows = "\n".join(
        "<tr>" + "".join(f"<td>{e(str(cell[c]))}</td>" for c in
                         ("period", "verifier_category", "credential_type", "purpose", "result", "count")) + "</tr>"
        for cell in document["cells"])
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(document["title"])}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:.25em .5em}}td:last-child{{text-align:right}}</style>
</head>
<body>
<h1>{e(document["title"])}</h1>
<p>Generated {e(str(document["generated"]))}, one row per {e(str(document["bucket"]))}.
{e(str(document["note"]))}: {int(document["suppressedCells"])} smaller cells were suppressed.
No DID, verifier, location, claim name or time of day is published.</p>
<p><img src="{e(chart)}" alt="verifications per verifier category and period" width="800"></p>
<p>Data: <a href="access-counts.csv">access-counts.csv</a>, <a href="access-counts.json">access-counts.json</a>.</p>
<table>
<thead><tr><th>period</th><th>verifier category</th><th>credential type</th><th>purpose</th><th>result</th>\
<th>count</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""
    path = out / PAGE
    path.write_text(page, encoding="utf-8")
    return path
