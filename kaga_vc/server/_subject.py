"""Subject access over the network: a resident reads their own access-log entries (placeholder, issue 14)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from ._state import ServerState


def routes(state: ServerState) -> list[BaseRoute]:
    return []
