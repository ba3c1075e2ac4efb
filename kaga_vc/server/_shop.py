"""The counter page ``/shop`` of the verifier role: HTML, CSS, JS and the vendored QR decoder (jsQR).

Everything the page needs is in the package (``kaga_vc/server/shop/``; jsQR vendored from npm by
``scripts/vendor-jsqr.sh``, checked byte for byte against the npm package by a test): no CDN, the
page works on a shop network cut from the internet. It calls the routes of :mod:`._openid4vp`.
"""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ._state import ServerState

_FILES = {
    "shop.js": "text/javascript; charset=utf-8",
    "shop.css": "text/css; charset=utf-8",
    "vendor/jsQR.js": "text/javascript; charset=utf-8",
}
# the page runs only its own scripts, talks only to this origin, and may use the camera
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "connect-src 'self'; media-src 'self' blob: mediastream:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(self)",
}


def _read(name: str) -> bytes:
    return (resources.files(__package__) / "shop" / name).read_bytes()


async def page(request: Request) -> Response:
    return Response(_read("shop.html"), media_type="text/html; charset=utf-8",
                    headers={**_HEADERS, "Cache-Control": "no-cache"})


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in _FILES:
        return Response("not found", status_code=404, media_type="text/plain")
    return Response(_read(name), media_type=_FILES[name], headers={**_HEADERS, "Cache-Control": "max-age=3600"})


def routes(state: ServerState) -> list[BaseRoute]:
    """``/shop`` and its static files, for a server with the verifier role."""
    if not state.settings.verifies:
        return []
    return [
        Route("/shop", page, methods=["GET"]),
        Route("/shop/static/{name:path}", static, methods=["GET"]),
    ]
