"""Subject access over the network: a resident reads their own access-log entries, with proofs.

The construction is the library's (:meth:`kaga_vc.accesslog.AccessLog.create_challenge`,
:func:`kaga_vc.accesslog.answer_challenge`, :meth:`~kaga_vc.accesslog.AccessLog.subject_history`):

1. ``POST /subject-access/challenge`` → ``{nonce, audience, expires}``: a one-time nonce for this log;
2. the resident signs it as a compact JWS with a key of their DID's ``authentication`` relationship;
3. ``POST /subject-access/history`` ``{response}`` → ``{subject, entries, anchors}``: their entries,
   each with its inclusion proof once anchored, and the anchored batches those proofs lead to (root,
   chain, contract, transaction, block), which the resident checks on chain themselves.

A response not signed by the DID it names, for another log, expired or replayed gets 403 and nothing
else: the log finds entries only by the keyed index of a DID whose control was just proven, and what
was disclosed stays encrypted to the subject's key. Every call, granted or refused, is itself
recorded in the access log (purpose ``subject access``) under the server's one verifier (the key of
:mod:`._verifier`, the one the counter's entries name: a log is one verifier's); a refused call is
recorded without a subject, since no DID was proven.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..errors import (
    LOG_UNAVAILABLE,
    LOG_VERIFIER_MISMATCH,
    MALFORMED_VALUE_ERROR,
    AccessLogError,
    InputError,
    KagaError,
)
from ._http import client_key, json_response, read_json
from ._middleware import rate_limited_problem
from ._problems import problem_response
from ._state import ServerState
from ._verifier import log_key_file, verifier_signer

PURPOSE = "subject access"
SERVICE = "kaga-vc serve subject access"


@dataclass(slots=True)
class SubjectAccess:
    """The access log and the server's verifier signer, opened on first use by one worker."""

    log: Any  # kaga_vc.accesslog.AccessLog
    signer: Any  # kaga_vc.keys.KeySigner
    lock: threading.Lock

    def challenge(self) -> dict[str, Any]:
        result: dict[str, Any] = self.log.create_challenge().to_json()
        return result

    def history(self, response: str) -> dict[str, Any]:
        from ..accesslog import AccessEntry

        try:
            did, entries = self.log.subject_history(response)
        except KagaError as error:
            self._record(AccessEntry(verifier=self._verifier, purpose=PURPOSE, result="refused", reason=error.code,
                                     service=SERVICE))
            raise
        batches = {(b.tree_size, b.root): b for b in self.log.batches()}
        used = {(e.proof.tree_size, e.proof.root) for e in entries if e.proof is not None}
        identity = self.log.identity()
        self._record(AccessEntry(verifier=self._verifier, purpose=PURPOSE, result="accepted", subject=did,
                                 service=SERVICE))
        return {"subject": did, "identity": identity.to_json() if identity is not None else None,
                "entries": [e.to_json() for e in entries],
                "anchors": [batches[k].to_json() for k in sorted(used) if k in batches]}

    @property
    def _verifier(self) -> str:
        return str(self.signer.key_id).split("#", 1)[0]

    def _record(self, entry: Any) -> None:
        with self.lock:
            self.log.record(entry, signer=self.signer)

    def close(self) -> None:
        self.log.close()


def _home(state: ServerState) -> Path:
    if state.settings.home:
        return Path(state.settings.home)
    from .._home import default_home

    return default_home()


def open_subject_access(state: ServerState) -> SubjectAccess:
    """Open the log (with its subject-index key) and the server's verifier key; ``kaga:log-unavailable`` if absent."""
    from ..accesslog import AccessLog, load_or_create_log_key

    key_file = log_key_file(state.settings)
    if not key_file.exists():
        raise AccessLogError(LOG_UNAVAILABLE, "this server has no access log key: subject access is closed")
    if state.password is None:
        raise AccessLogError(LOG_UNAVAILABLE, "subject access needs the keystore password (the verifier key)")
    log_key = load_or_create_log_key(key_file, create=False)
    signer = verifier_signer(state)
    log = AccessLog.open(state.settings.log_url, log_key=log_key, home=str(_home(state)))
    return SubjectAccess(log, signer, threading.Lock())


def _access(state: ServerState) -> SubjectAccess:
    found = state.extras.get("subject")
    if found is None:
        with _OPEN_LOCK:
            found = state.extras.get("subject")
            if found is None:
                found = state.extras["subject"] = open_subject_access(state)
    assert isinstance(found, SubjectAccess)
    return found


_OPEN_LOCK = threading.Lock()


def _limited(request: Request) -> Response | None:
    state: ServerState = request.app.state.kaga
    if state.limiter is not None and not state.limiter.allow(client_key(request)):
        code, detail, status = rate_limited_problem()
        return problem_response(code, detail, status, headers={"Retry-After": "60"})
    return None


async def challenge(request: Request) -> Response:
    limited = _limited(request)
    if limited is not None:
        return limited
    access = await run_in_threadpool(_access, request.app.state.kaga)
    return json_response(await run_in_threadpool(access.challenge), headers={"Cache-Control": "no-store"})


async def history(request: Request) -> Response:
    limited = _limited(request)
    if limited is not None:
        return limited
    body = await read_json(request)
    response = body.get("response") if isinstance(body, dict) else None
    if not isinstance(response, str) or not response or len(response) > 16384:
        raise InputError(MALFORMED_VALUE_ERROR, "send {\"response\": <the signed challenge, a compact JWS>}")
    access = await run_in_threadpool(_access, request.app.state.kaga)
    try:
        found = await run_in_threadpool(access.history, response)
    except KagaError as error:
        if error.code in (LOG_UNAVAILABLE, LOG_VERIFIER_MISMATCH):  # the server's fault, not the caller's: 503
            raise
        # whatever is wrong with the proof of control (signature, DID, nonce), the caller gets nothing
        return problem_response(error.code, error.detail, 403, headers={"Cache-Control": "no-store"})
    return json_response(found, headers={"Cache-Control": "no-store"})


def routes(state: ServerState) -> list[BaseRoute]:
    if not state.settings.verifies:
        return []
    return [
        Route("/subject-access/challenge", challenge, methods=["POST"]),
        Route("/subject-access/history", history, methods=["POST"]),
    ]
