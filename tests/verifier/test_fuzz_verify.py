"""Mutated real inputs into every verify path and parser: only results or typed errors come out.

Real material from the embedded chain (a city credential in three formats, a wallet's responses, a
signed request, a trust bundle) is mutated by hypothesis — a JSON member replaced by another JSON
value, removed, or a list put where an object was; characters flipped in compact strings — and fed
to ``verify_credential``, ``verify_presentation``, ``verify_response``, ``read_bundle``,
``decode_response`` and ``parse_request``. Anything but a result or a :class:`KagaError` (a stray
``KeyError``, ``TypeError``, ``RecursionError`` …) fails the test. Example counts keep it to seconds.
"""

from __future__ import annotations

import base64
import copy
import json
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaga_vc.credentials import VerificationResult, verify_credential, verify_presentation
from kaga_vc.errors import KagaError
from kaga_vc.holder import create_wallet
from kaga_vc.verifier import (
    CredentialQuery,
    Policy,
    create_request,
    decode_response,
    parse_request,
    read_bundle,
    verify_response,
)

from .conftest import FAST, PASSWORD, World

FUZZ = settings(max_examples=80, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12) | st.sampled_from(["", "did:key:z6Mk", "2026-13-01T00:00:00", "VerifiableCredential",
                                             "sha-256", "data:application/vc+jwt,a.b.c", "did:ethr:0x1"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def material(world: World, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One real specimen of every input the verifier reads."""
    home = tmp_path_factory.mktemp("fuzz")
    request = create_request(signer=world.verifier, purpose="fuzz", credentials=[
        CredentialQuery("KycCredential", ("ageOver18",))])
    out: dict[str, Any] = {"request": request, "bundle": world.bundle()}
    for fmt in ("sd-jwt", "data-integrity", "vc-jwt", "jwt-vc11"):
        wallet = create_wallet(home / f"{fmt}.json", PASSWORD, scrypt_n=FAST)
        issued = world.issue(fmt, subject=wallet.did)
        wallet.add(issued.document)
        answer = wallet.present(request.token)
        out[fmt] = {"credential": issued.document, "response": answer.compact,
                    "presentation": answer.response.presentations[0]}
    return out


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


@st.composite
def mutated(draw: st.DrawFn, document: Any) -> Any:
    """``document`` with one to three members replaced, removed or wrapped in a list."""
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(document)
        path = draw(st.sampled_from(paths[1:] or paths))
        if not path:
            return draw(JSON_VALUES)
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "remove", "wrap", "duplicate-type"]))
        if action == "replace":
            parent[path[-1]] = draw(JSON_VALUES)
        elif action == "remove":
            del parent[path[-1]]
        elif action == "wrap":
            parent[path[-1]] = [parent[path[-1]]]
        else:
            parent[path[-1]] = {"type": parent[path[-1]], "id": parent[path[-1]]}
    return document


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


@st.composite
def mutated_jwt(draw: st.DrawFn, token: str) -> str:
    """A compact JWS (or SD-JWT) with its header or payload JSON mutated, or characters changed."""
    head, _, rest = token.partition("~") if "~" in token else (token, "", "")
    header, payload, signature = head.split(".")
    choice = draw(st.sampled_from(["header", "payload", "chars", "tail"]))
    if choice == "header":
        header = _b64(json.dumps(draw(mutated(_unb64(header)))).encode())
    elif choice == "payload":
        payload = _b64(json.dumps(draw(mutated(_unb64(payload)))).encode())
    elif choice == "chars":
        text = token
        position = draw(st.integers(0, len(text) - 1))
        return text[:position] + draw(st.sampled_from(["~", ".", "", "A", "~~", "é", "=", " "])) + text[position + 1:]
    else:
        rest = draw(st.sampled_from(["", "~", "e30~", "WyJhIl0~", rest + "e30", "~" * 600]))
    return f"{header}.{payload}.{signature}" + (("~" + rest) if "~" in token or choice == "tail" else "")


def _declared_codes() -> frozenset[str]:
    from kaga_vc import errors

    return frozenset(v for k, v in vars(errors).items() if k.isupper() and isinstance(v, str))


DECLARED = _declared_codes()


def _only_typed(call: Callable[[], Any]) -> Any:
    """Run ``call``: a KagaError with a declared code, or a result whose every code is declared (a refusal has one)."""
    try:
        outcome = call()
    except KagaError as error:
        assert error.code in DECLARED, error.code
        return None
    if isinstance(outcome, VerificationResult):
        assert outcome.verified in (True, False)
        json.dumps(outcome.to_json(), default=str)  # a result always serialises
        assert outcome.verified or outcome.problems, "a refusal names its reason"
        assert set(outcome.codes) <= DECLARED, set(outcome.codes) - DECLARED
        assert {w.code for w in outcome.warnings} <= DECLARED, {w.code for w in outcome.warnings} - DECLARED
    return outcome


def _kvp(body: Any) -> str:
    import base45  # type: ignore[import-untyped]

    return "KVP1:" + base45.b45encode(zlib.compress(json.dumps(body).encode())).decode()


NOW = datetime.now(UTC)


def test_fuzz_data_integrity(material: dict[str, Any], world: World) -> None:
    resolver = material["bundle"].resolver()
    credential = material["data-integrity"]["credential"]
    presentation = material["data-integrity"]["presentation"]

    @FUZZ
    @given(st.data())
    def run(data: st.DataObject) -> None:
        bad = data.draw(mutated(credential))
        _only_typed(lambda: verify_credential(bad, resolver=resolver, status_source=material["bundle"]))
        _only_typed(lambda: verify_credential(json.dumps(bad), resolver=resolver))
        vp = data.draw(mutated(presentation))
        _only_typed(lambda: verify_presentation(vp, resolver=resolver, challenge="x", domain="y",
                                                status_source=material["bundle"]))

    run()


@pytest.mark.parametrize("fmt", ["sd-jwt", "vc-jwt", "jwt-vc11"])
def test_fuzz_jose(material: dict[str, Any], fmt: str) -> None:
    resolver = material["bundle"].resolver()
    credential = material[fmt]["credential"]
    presentation = material[fmt]["presentation"]

    @FUZZ
    @given(st.data())
    def run(data: st.DataObject) -> None:
        bad = data.draw(mutated_jwt(credential))
        _only_typed(lambda: verify_credential(bad, resolver=resolver, status_source=material["bundle"]))
        # the wallet wraps whole JWT credentials in a Data Integrity presentation; SD-JWT+KB is a string
        vp = data.draw(mutated_jwt(presentation) if isinstance(presentation, str) else mutated(presentation))
        _only_typed(lambda: verify_presentation(vp, resolver=resolver, challenge="x", status_source=material["bundle"]))

    run()


def test_fuzz_responses_requests_and_bundles(material: dict[str, Any], world: World, tmp_path: Path) -> None:
    request, bundle = material["request"], material["bundle"]
    policy = Policy(trusted_cities=(world.config.did,))
    bodies = [decode_response(material[fmt]["response"]).to_json() for fmt in ("sd-jwt", "data-integrity", "vc-jwt")]

    @FUZZ
    @given(st.data())
    def run(data: st.DataObject) -> None:
        body = data.draw(mutated(data.draw(st.sampled_from(bodies))))
        compact = _kvp(body)
        _only_typed(lambda: decode_response(compact))
        _only_typed(lambda: verify_response(compact, request=request.token, bundle=bundle, policy=policy))
        token = data.draw(mutated_jwt(request.token))
        _only_typed(lambda: parse_request(token))
        _only_typed(lambda: verify_response(material["sd-jwt"]["response"], request=token, bundle=bundle,
                                            policy=policy))

    run()


def test_fuzz_response_through_the_access_log(material: dict[str, Any], world: World, tmp_path: Path) -> None:
    """verify_response and then the access-log recording step (AccessEntry.from_verification, record)."""
    from kaga_vc.accesslog import AccessEntry, AccessLog

    request, bundle = material["request"], material["bundle"]
    policy = Policy(trusted_cities=(world.config.did,))
    bodies = [decode_response(material[fmt]["response"]).to_json() for fmt in ("sd-jwt", "data-integrity", "vc-jwt")]
    verifier = world.verifier.key_id.split("#")[0]
    log = AccessLog.open(str(tmp_path / "log.db"), log_key=bytes(range(32)), signer=world.verifier)

    @settings(max_examples=40, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(st.data())
    def run(data: st.DataObject) -> None:
        body = data.draw(mutated(data.draw(st.sampled_from(bodies))))
        result = _only_typed(lambda: verify_response(_kvp(body), request=request.token, bundle=bundle, policy=policy))
        if result is not None:
            before = len(log)
            log.record(AccessEntry.from_verification(result, request, verifier=verifier))
            assert len(log) == before + 1

    try:
        run()
    finally:
        log.close()


def test_fuzz_cli_verify(material: dict[str, Any], world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``kaga-vc verify`` in process: a credential file, and a response with --request --bundle --city."""
    from typer.testing import CliRunner

    from kaga_vc.cli._app import app

    monkeypatch.setenv("KAGA_VC_HOME", str(tmp_path / "shop"))
    runner = CliRunner()
    request_file, bundle_file = tmp_path / "request.jwt", tmp_path / "bundle.jwt"
    request_file.write_text(material["request"].token)
    bundle_file.write_text(material["bundle"].token)
    bodies = [decode_response(material[fmt]["response"]).to_json() for fmt in ("sd-jwt", "data-integrity")]

    def check(args: list[str]) -> None:
        done = runner.invoke(app, [*args, "--json"])
        assert done.exit_code in (0, 1, 3, 4), (done.exit_code, done.output, done.exception)
        body = json.loads(done.stdout)
        codes = [p["code"] for p in body.get("problems", [])] + ([body["error"]["code"]] if "error" in body else [])
        assert set(codes) <= DECLARED, set(codes) - DECLARED
        assert done.exit_code == 0 or codes

    @settings(max_examples=30, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(st.data())
    def run(data: st.DataObject) -> None:
        target = tmp_path / "input.txt"
        fmt = data.draw(st.sampled_from(["data-integrity", "sd-jwt", "vc-jwt", "jwt-vc11", "response"]))
        if fmt == "data-integrity":
            target.write_text(json.dumps(data.draw(mutated(material[fmt]["credential"])), ensure_ascii=False))
            check(["verify", str(target)])
        elif fmt == "response":
            target.write_text(_kvp(data.draw(mutated(data.draw(st.sampled_from(bodies))))))
            check(["verify", str(target), "--request", str(request_file), "--bundle", str(bundle_file),
                   "--city", world.config.did, "--no-log"])
        else:
            target.write_text(data.draw(mutated_jwt(material[fmt]["credential"])))
            check(["verify", str(target)])

    run()


def test_fuzz_bundles(material: dict[str, Any], world: World) -> None:
    token = material["bundle"].token
    header, payload, signature = token.split(".")
    document = _unb64(payload)

    @settings(max_examples=80, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.data())
    def run(data: st.DataObject) -> None:
        bad = f"{header}.{_b64(json.dumps(data.draw(mutated(document))).encode())}.{signature}"
        _only_typed(lambda: read_bundle(bad, trusted_city=world.config.did))
        _only_typed(lambda: read_bundle(bad))

    run()
