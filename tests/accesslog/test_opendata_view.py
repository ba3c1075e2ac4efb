"""The open data's chart (PNG, SVG) and HTML page: drawn from the published cells only, escaped, stable."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from PIL import Image

from kaga_vc.accesslog._opendata_view import write_chart, write_page

CELLS = [
    {"period": "2026-10", "verifier_category": "lodging", "credential_type": "KycCredential",
     "purpose": "hotel check-in", "result": "accepted", "count": 113},
    {"period": "2026-10", "verifier_category": "healthcare", "credential_type": "KycCredential",
     "purpose": "<script>alert(1)</script>", "result": "accepted", "count": 27},
    {"period": "2026-11", "verifier_category": "lodging", "credential_type": "KycCredential",
     "purpose": "hotel check-in", "result": "refused", "count": 10},
]


def test_chart_is_a_real_png_and_svg_and_the_svg_is_stable(tmp_path: Path) -> None:
    png, svg = write_chart(CELLS, tmp_path, k=5, bucket="month")
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size == (800, 450)
        assert len(set(image.convert("RGB").getdata())) > 3  # bars, text and axes were drawn
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    text = svg.read_text()
    assert "lodging" in text and "healthcare" in text and "2026-11" in text
    first = svg.read_bytes()
    again = tmp_path / "again"
    again.mkdir()
    _, svg2 = write_chart(CELLS, again, k=5, bucket="month")
    assert svg2.read_bytes() == first  # no date, no random ids


def test_page_escapes_every_value_and_names_the_files(tmp_path: Path) -> None:
    document = {"title": "Kaga access log", "k": 5, "bucket": "month", "generated": "2026-12-01",
                "note": "a cell is published only when at least 5 distinct residents are behind it",
                "suppressedCells": 3, "cells": CELLS}
    page = write_page(document, tmp_path, "access-counts.svg").read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'src="access-counts.svg"' in page and 'href="access-counts.csv"' in page
    assert "3 smaller cells were suppressed" in page
    assert page.count("<tr><td>") == len(CELLS)


def test_no_cells_still_draws_a_chart(tmp_path: Path) -> None:
    png, svg = write_chart([], tmp_path, k=5, bucket="week")
    assert png.stat().st_size > 0 and "no cell with at least 5 residents" in svg.read_text()
