"""The verifier's side of the access log: verify a presentation response and record it, whatever the outcome."""

from __future__ import annotations

from typing import Any

from ..did import DIDURL
from ..errors import NONCE_REPLAYED, ProofError
from ..keys import Signer
from ._entry import AccessEntry, RecordedEntry
from ._log import AccessLog


def verify_and_record(
    response: Any,
    *,
    request: Any,
    bundle: Any,
    log: AccessLog,
    signer: Signer | None = None,
    verifier_category: str | None = None,
    location: str | None = None,
    service: str | None = None,
    **options: Any,
) -> tuple[Any, RecordedEntry]:
    """Run :func:`kaga_vc.verifier.verify_response` and append its entry to ``log``, accepted or refused.

    ``signer`` is the verifier's key (default: the log's), the same DID that made the request; the entry
    records the request's purpose, location and service, the presented credential types and claim
    names, and the first problem's code when refused. ``options`` go to ``verify_response`` (``policy``,
    ``nonce_store``, ``now``, ``max_clock_skew``). The entry is written before the nonce is committed, in
one step with it: if writing fails the nonce stays usable (issue 13). The entry carries the nonce's
digest under a unique key of the log, so a retry after a crash between the log's commit and the nonce
store's is refused: ProofError ``kaga:nonce-replayed``, and nothing is recorded a second time.
Returns (the verification result, the recorded entry).
    """
    from ..verifier import verify_response

    key = signer or log.signer
    verifier = str(DIDURL.parse(key.key_id).did) if key is not None else None
    recorded: list[RecordedEntry] = []

    def record(result: Any) -> None:  # before the nonce is committed: a failed write leaves it usable
        entry = AccessEntry.from_verification(result, None, verifier=verifier, verifier_category=verifier_category,
                                              location=location, service=service)
        recorded.append(log.record(entry, signer=key))

    result = verify_response(response, request=request, bundle=bundle, on_complete=record, **options)
    if not recorded:  # the log refused the entry: its nonce was logged already (verify_response says so)
        raise ProofError(NONCE_REPLAYED, "this request's nonce is already in the access log: a retried or "
                                         "replayed presentation, not recorded again")
    return result, recorded[0]
