"""Request plumbing every route shares: strict JSON bodies, JSON responses, client identity.

Bodies are read through :func:`read_json`: ``application/json`` (or ``application/*+json``) only,
at most the configured size (the size middleware also cuts a body that streams past it), parsed by
the library's strict parser (no duplicate keys, bounded depth, no NaN).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..credentials import parse_json
from ..errors import DOCUMENT_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, InputError

JSON = "application/json"


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == JSON or (media.startswith("application/") and media.endswith("+json"))


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with ``kaga:document-too-large`` past ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InputError(DOCUMENT_TOO_LARGE, f"the request body is larger than {limit} bytes", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request) -> Any:
    """The request's JSON body (see the module docstring); InputError with our stable codes."""
    if not _is_json(request.headers.get("content-type", "")):
        raise InputError(UNSUPPORTED_MEDIA_TYPE, "send the body as application/json")
    limit: int = request.app.state.kaga.settings.max_body_bytes
    body = await read_body(request, limit)
    return parse_json(body, max_bytes=limit)


def json_response(data: Any, status: int = 200, *, headers: dict[str, str] | None = None,
                  media_type: str = JSON) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status_code=status, media_type=media_type, headers=headers)


def client_key(request: Request) -> str:
    """Whom a rate limit counts: the peer address (never logged, never stored)."""
    client = request.client
    return client.host if client is not None else "-"
