"""QR images of ticket codes, drawn by ``segno``.

Error correction M (15% of the symbol may be damaged: a creased printout, a cracked screen). A code
of format 1 is a version 7 symbol, 45 modules square, with the 4-module quiet zone the standard asks
for. Drawing one takes milliseconds of pure Python, so callers on the event loop run it in a thread.
"""

import io
from enum import StrEnum

import segno

BORDER = 4
EMAIL_SCALE = 4  # pixels per module in emails: 212 px square, under 1 KB as PNG


class ImageKind(StrEnum):
    SVG = "svg"
    PNG = "png"


MEDIA_TYPES = {ImageKind.SVG: "image/svg+xml", ImageKind.PNG: "image/png"}


def image(code: str, kind: ImageKind, scale: int = 8) -> bytes:
    """The QR code carrying ``code`` as an SVG or PNG image."""
    symbol = segno.make(code, error="m", micro=False, boost_error=False)
    out = io.BytesIO()
    if kind is ImageKind.SVG:
        symbol.save(out, kind="svg", scale=scale, border=BORDER, title="Ticket QR code")
    else:
        symbol.save(out, kind="png", scale=scale, border=BORDER)
    return out.getvalue()
