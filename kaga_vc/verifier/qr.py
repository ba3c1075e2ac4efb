"""QR codes for requests and responses (segno): PNG, SVG and terminal text.

One QR code holds at most 4,296 alphanumeric characters (version 40, error correction L); a
``KVP1:`` response uses alphanumeric mode, a request (a JWS) byte mode (2,953 bytes). Anything
larger is refused with ``kaga:qr-too-large``: send it as a file or by URL instead. Codes are not
split over several symbols (readers of split codes are rare and the order is easy to get wrong).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ..errors import QR_TOO_LARGE, InputError

FORMATS = ("png", "svg", "txt")


def make_qr(text: str) -> Any:
    """A ``segno.QRCode`` for ``text`` (highest error correction that fits); InputError if too large."""
    import segno
    from segno import DataOverflowError

    try:
        return segno.make_qr(text, error="m", boost_error=True)
    except DataOverflowError:
        try:
            return segno.make_qr(text, error="l", boost_error=False)
        except DataOverflowError:
            raise InputError(
                QR_TOO_LARGE,
                f"{len(text)} characters do not fit in one QR code (at most 4,296 alphanumeric / 2,953 bytes); "
                "disclose fewer credentials or pass the response as a file",
                length=len(text),
            ) from None


def qr_text(text: str) -> str:
    """The QR code as terminal text (block characters)."""
    out = io.StringIO()
    make_qr(text).terminal(out=out, compact=True)
    return out.getvalue()


def write_qr(text: str, path: str | Path, *, scale: int = 4) -> Path:
    """Write the QR code to ``path``: ``.png``, ``.svg`` or ``.txt`` (terminal text), by suffix."""
    target = Path(path)
    suffix = target.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise InputError("MALFORMED_VALUE_ERROR", f"QR file must end in .png, .svg or .txt, not {target.name!r}")
    qr = make_qr(text)
    if suffix == "txt":
        target.write_text(qr_text(text), encoding="utf-8")
    else:
        qr.save(str(target), kind=suffix, scale=scale, border=4)
    return target


__all__ = ["FORMATS", "make_qr", "qr_text", "write_qr"]
