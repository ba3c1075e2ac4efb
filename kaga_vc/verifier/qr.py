"""QR codes for requests and responses: written with segno (PNG, SVG, terminal text), read with zxing-cpp.

One QR code holds at most 4,296 alphanumeric characters (version 40, error correction L); a
``KVP1:`` response uses alphanumeric mode, a request (a JWS) byte mode (2,953 bytes). Anything
larger is refused with ``kaga:qr-too-large``: send it as a file or by URL instead. Codes are not
split over several symbols (readers of split codes are rare and the order is easy to get wrong).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ..errors import QR_TOO_LARGE, QR_UNREADABLE, InputError

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


# Images a QR code is read from: PNG and JPEG (a photo of a screen), by their magic bytes.
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
MAX_IMAGE_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded


def is_qr_image(data: bytes) -> bool:
    """Whether ``data`` is a PNG or JPEG image (to be read as a QR code rather than as text)."""
    return data.startswith(_IMAGE_MAGIC)


def read_qr(data: bytes) -> str:
    """The text of the one QR code in a PNG or JPEG image; InputError (``kaga:qr-unreadable``) otherwise.

    Decoded with zxing-cpp (a maintained C++ decoder); the text is decoded in the code's own character set and the image must hold
    exactly one QR code, so a picture with two codes cannot be read as either.
    """
    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    if not is_qr_image(data):
        raise InputError(QR_UNREADABLE, "not a PNG or JPEG image")
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise InputError(QR_UNREADABLE, f"the image is too large ({width}x{height} pixels)")
            image.load()
            grey = image.convert("L")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InputError(QR_UNREADABLE, f"the image cannot be decoded ({type(exc).__name__})") from None
    found = [r for r in zxingcpp.read_barcodes(grey, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)) if r.valid]
    if not found:
        raise InputError(QR_UNREADABLE, "no QR code found in the image")
    if len(found) > 1:
        raise InputError(QR_UNREADABLE, f"{len(found)} QR codes in the image: give one")
    text = found[0].text  # zxing-cpp applies the code's ECI / character set
    if not text or "\ufffd" in text:
        raise InputError(QR_UNREADABLE, "the QR code holds no readable text")
    return str(text)

__all__ = ["FORMATS", "is_qr_image", "make_qr", "qr_text", "read_qr", "write_qr"]
