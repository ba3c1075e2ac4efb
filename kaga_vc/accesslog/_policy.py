"""When to anchor: after N unanchored entries or when the oldest unanchored entry is T minutes old.

A policy is what bounds the window in which an operator with database write access can change or drop
entries unseen (docs/accesslog.md): an entry is only held by the chain once a root covering it is
anchored. :meth:`AccessLog.anchor_if_due` applies one; :meth:`AccessLog.set_anchoring` applies it after
every append; ``kaga-vc log anchor --every DURATION`` is the same on a schedule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..errors import MALFORMED_VALUE_ERROR, InputError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h)?\s*$")
_UNIT = {None: 1.0, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def parse_duration(text: str) -> timedelta:
    """``"30s"``, ``"10m"``, ``"1.5h"`` or plain seconds; InputError for anything else or for zero."""
    match = _DURATION.match(text or "")
    if match is None or float(match.group(1)) <= 0:
        raise InputError(MALFORMED_VALUE_ERROR, f"not a duration: {text!r} (e.g. 30s, 10m, 1h)")
    return timedelta(seconds=float(match.group(1)) * _UNIT[match.group(2)])


@dataclass(frozen=True, slots=True)
class AnchorPolicy:
    """Anchor once ``entries`` entries are unanchored, or once the oldest unanchored one is ``minutes`` old.

    Either or both; at least one. With both, whichever comes first.
    """

    entries: int | None = None
    minutes: float | None = None

    def __post_init__(self) -> None:
        if self.entries is None and self.minutes is None:
            raise InputError(MALFORMED_VALUE_ERROR, "an anchoring policy sets entries, minutes or both")
        if self.entries is not None and self.entries < 1:
            raise InputError(MALFORMED_VALUE_ERROR, "anchor after at least one entry")
        if self.minutes is not None and not self.minutes > 0:
            raise InputError(MALFORMED_VALUE_ERROR, "anchor after more than zero minutes")

    def due(self, unanchored: int, oldest: datetime | None, now: datetime | None = None) -> bool:
        """Whether ``unanchored`` entries, the oldest recorded at ``oldest``, call for an anchor now."""
        if unanchored <= 0:
            return False
        if self.entries is not None and unanchored >= self.entries:
            return True
        if self.minutes is not None and oldest is not None:
            return (now or datetime.now(UTC)) - oldest >= timedelta(minutes=self.minutes)
        return False
