"""Property tests (hypothesis): round trips for arbitrary claims; any changed byte fails; every subset of
SD-JWT disclosures verifies and reveals exactly that subset."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaga_vc.proofs.jose import issue_sd_jwt, present_sd_jwt, sign_jwt_vc11, sign_vc_jwt, verify_sd_jwt
from kaga_vc.proofs.jose.jwt_vc11 import verify_jwt_vc11
from kaga_vc.proofs.jose.sd_jwt import Decoys, Path, _prefix_of, format_path
from kaga_vc.proofs.jose.vc_jose import verify_vc_jwt
from tests._jose_support import ED, ETHR, HOLDER, NOW, credential_v2, credential_v11, did_of, resolver

RESOLVER = resolver()
AUD, NONCE = "did:web:verifier.example", "nonce-1"
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8).filter(
    lambda n: n not in {"iss", "vct", "cnf", "iat", "nbf", "exp", "status", "sub", "_sd", "_sd_alg", "id"}
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.text(max_size=20), st.floats(allow_nan=False, allow_infinity=False)
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(names, children, max_size=4)),
    max_leaves=12,
)
claim_sets = st.dictionaries(names, values, min_size=1, max_size=6)


def all_paths(value: Any, path: Path = ()) -> list[Path]:
    out: list[Path] = []
    if isinstance(value, dict):
        for key, member in value.items():
            out.append(path + (key,))
            out += all_paths(member, path + (key,))
    elif isinstance(value, list):
        for index, member in enumerate(value):
            out.append(path + (index,))
            out += all_paths(member, path + (index,))
    return out


def expected_view(value: Any, disclosable: set[Path], revealed: set[Path], path: Path = ()) -> Any:
    """What a verifier must see: a disclosable claim appears iff it was revealed (ancestors included)."""
    if isinstance(value, dict):
        return {
            k: expected_view(v, disclosable, revealed, path + (k,))
            for k, v in value.items()
            if path + (k,) not in disclosable or path + (k,) in revealed
        }
    if isinstance(value, list):
        return [
            expected_view(v, disclosable, revealed, path + (i,))
            for i, v in enumerate(value)
            if path + (i,) not in disclosable or path + (i,) in revealed
        ]
    return value


@SETTINGS
@given(claims=claim_sets, data=st.data())
def test_every_subset_of_disclosures_reveals_exactly_that_subset(claims: dict[str, Any], data: st.DataObject) -> None:
    paths = all_paths(claims)
    disclosable = set(data.draw(st.lists(st.sampled_from(paths), unique=True) if paths else st.just([])))
    chosen = set(data.draw(st.lists(st.sampled_from(sorted(disclosable, key=str)), unique=True) if disclosable else st.just([])))
    # The holder reveals the chosen claims, the disclosable claims they sit in, and those inside them.
    revealed = {p for p in disclosable if any(_prefix_of(c, p) or _prefix_of(p, c) for c in chosen)}
    base = {"iss": did_of(ED), "vct": "urn:kaga:vct:Test", **claims}
    issued = issue_sd_jwt(
        base,
        signer=ED,
        disclosable=[format_path(p) for p in disclosable],
        holder_key=HOLDER.key.public_key,
        decoys=Decoys(0, 2),
    )
    token = present_sd_jwt(
        issued, disclose=[format_path(p) for p in chosen], holder_signer=HOLDER, audience=AUD, nonce=NONCE, now=NOW
    )
    result = verify_sd_jwt(token, resolver=RESOLVER, require_key_binding=True, audience=AUD, nonce=NONCE, now=NOW)
    assert result.verified, result.codes
    shown = {k: v for k, v in (result.credential or {}).items() if k not in ("iss", "vct", "cnf")}
    assert shown == expected_view(claims, disclosable, revealed)


@SETTINGS
@given(claims=claim_sets, position=st.integers(min_value=0))
def test_changing_any_character_of_the_issuer_signed_jwt_fails(claims: dict[str, Any], position: int) -> None:
    issued = issue_sd_jwt({"iss": did_of(ED), "vct": "urn:x", **claims}, signer=ED, disclosable=[next(iter(claims))])
    jwt, rest = issued.split("~", 1)
    index = position % len(jwt)
    if jwt[index] == ".":
        index -= 1
    replacement = "B" if jwt[index] == "A" else "A"
    tampered = jwt[:index] + replacement + jwt[index + 1 :] + "~" + rest
    result = verify_sd_jwt(tampered, resolver=RESOLVER, now=NOW)
    assert not result.verified


@SETTINGS
@given(subject=st.dictionaries(names, values, max_size=5))
def test_vc_jwt_round_trip_for_arbitrary_subject_claims(subject: dict[str, Any]) -> None:
    credential = credential_v2(did_of(ED))
    credential["credentialSubject"] = {"id": did_of(HOLDER), **subject}
    result = verify_vc_jwt(sign_vc_jwt(credential, ED), resolver=RESOLVER, now=NOW)
    assert result.verified, result.codes
    assert result.credential == credential


@SETTINGS
@given(subject=st.dictionaries(names, values, max_size=5), recoverable=st.booleans())
def test_jwt_vc11_did_ethr_round_trip_for_arbitrary_subject_claims(subject: dict[str, Any], recoverable: bool) -> None:
    credential = credential_v11(did_of(ETHR))
    credential["credentialSubject"] = {"id": did_of(HOLDER), **subject}
    token = sign_jwt_vc11(credential, ETHR, recoverable=recoverable)
    result = verify_jwt_vc11(token, resolver=RESOLVER, now=NOW)
    assert result.verified, result.codes
    normalised = dict(result.credential or {})
    normalised.pop("proof")
    assert normalised == credential


@SETTINGS
@given(position=st.integers(min_value=0), replacement=st.sampled_from("AQgw-_09xyz"), recoverable=st.booleans())
def test_changing_any_character_of_a_jwt_credential_fails(position: int, replacement: str, recoverable: bool) -> None:
    tokens = [sign_vc_jwt(credential_v2(did_of(ED)), ED), sign_jwt_vc11(credential_v11(did_of(ETHR)), ETHR, recoverable=recoverable)]
    for token in tokens:
        index = position % len(token)
        if token[index] in (".", replacement):
            continue
        tampered = token[:index] + replacement + token[index + 1 :]
        result = verify_vc_jwt(tampered, resolver=RESOLVER, now=NOW) if token is tokens[0] else verify_jwt_vc11(
            tampered, resolver=RESOLVER, now=NOW
        )
        assert not result.verified


@SETTINGS
@given(claims=claim_sets, data=st.data())
def test_changing_any_character_of_a_disclosure_fails(claims: dict[str, Any], data: st.DataObject) -> None:
    issued = issue_sd_jwt({"iss": did_of(ED), "vct": "urn:x", **claims}, signer=ED, disclosable=list(claims))
    parts = issued.split("~")
    which = data.draw(st.integers(1, len(parts) - 2))
    disclosure = parts[which]
    index = data.draw(st.integers(0, len(disclosure) - 1))
    replacement = data.draw(st.sampled_from([c for c in "AQgw-_09" if c != disclosure[index]]))
    parts[which] = disclosure[:index] + replacement + disclosure[index + 1 :]
    assert not verify_sd_jwt("~".join(parts), resolver=RESOLVER, now=NOW).verified
