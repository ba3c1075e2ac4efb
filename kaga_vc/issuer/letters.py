"""Printable offer letters: one A4 page per resident with the credential offer's QR code (PDF, reportlab).

The letter carries the offer's QR code and instructions in Japanese and English, addressed to the
resident by name; it never carries the PIN (the transaction code travels by another channel, as
OpenID4VCI §3.5 intends: a stolen letter alone redeems nothing). Japanese text uses the PDF's
standard Japanese CID font (HeiseiKakuGo-W5), so no font file is embedded or needed.
reportlab is an optional dependency (``pip install 'kaga-vc[letters]'``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..errors import UNSUPPORTED_FORMAT, UnsupportedError


@dataclass(frozen=True, slots=True)
class Letter:
    """What one letter says: to whom, the offer URI (the QR code), what it is for, until when."""

    name: str
    address: str | None
    uri: str
    credential: str
    expires_at: datetime


def write_letters(path: str | os.PathLike[str], letters: Sequence[Letter]) -> Path:
    """Write one page per letter to ``path`` (PDF); UnsupportedError if reportlab is missing."""
    try:
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.units import mm
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont
        from reportlab.pdfgen import canvas
    except ImportError:  # pragma: no cover - the [letters] extra is not installed
        raise UnsupportedError(UNSUPPORTED_FORMAT, "PDF letters need reportlab: pip install 'kaga-vc[letters]'") from None
    import segno

    font = "HeiseiKakuGo-W5"
    pdfmetrics.registerFont(UnicodeCIDFont(font))
    target = Path(path)
    pdf = canvas.Canvas(str(target), pagesize=A4, pageCompression=1)
    pdf.setTitle("加賀市 デジタル証明書のお知らせ / City of Kaga credential offers")
    width, height = A4
    for letter in letters:
        y = height - 30 * mm
        pdf.setFont(font, 11)
        pdf.drawString(25 * mm, y, f"{letter.name} 様")
        if letter.address:
            pdf.drawString(25 * mm, y - 6 * mm, letter.address)
        pdf.setFont(font, 16)
        pdf.drawString(25 * mm, y - 22 * mm, "加賀市からデジタル証明書のお知らせ")
        pdf.setFont(font, 12)
        pdf.drawString(25 * mm, y - 30 * mm, "Your digital credential from the City of Kaga")
        pdf.setFont(font, 10.5)
        lines = [
            f"証明書 / credential: {letter.credential}",
            "スマートフォンのウォレット（OpenID4VCI 対応）で下のQRコードを読み取り、",
            "別便でお届けした暗証番号（PIN）を入力してください。",
            "Scan the QR code below with your phone wallet (OpenID4VCI) and enter the PIN",
            "we sent you separately. The code works once.",
            f"有効期限 / valid until: {letter.expires_at.date().isoformat()}",
        ]
        for i, line in enumerate(lines):
            pdf.drawString(25 * mm, y - (42 + 6 * i) * mm, line)
        qr = segno.make_qr(letter.uri, error="m")
        modules = list(qr.matrix_iter(border=4))
        size = 80 * mm
        cell = size / len(modules)
        left, top = (width - size) / 2, y - 90 * mm
        pdf.setFillColorRGB(0, 0, 0)
        for row, cells in enumerate(modules):
            for col, dark in enumerate(cells):
                if dark:
                    pdf.rect(left + col * cell, top - (row + 1) * cell, cell, cell, stroke=0, fill=1)
        pdf.setFont(font, 9)
        pdf.drawString(25 * mm, 25 * mm, "お問い合わせ: 加賀市役所 市民課 / Questions: Kaga City Hall, Citizens' Section")
        pdf.showPage()
    pdf.save()
    return target


__all__ = ["Letter", "write_letters"]
