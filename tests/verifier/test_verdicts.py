"""Issue 11: one "could not check" table, the same verdict for Data Integrity and JOSE, no escaping exception."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kaga_vc import issue_credential, verify_credential, verify_presentation
from kaga_vc.did import KeyMethod, Resolver
from kaga_vc.proofs.jose import sign_compact, sign_vc_jwt
from kaga_vc.results import COULD_NOT_CHECK_CODES, is_could_not_check
from tests._jose_support import ED, NOW, credential_v2, did_of
from tests.di.conftest import unsigned_credential

BAD_DID = "did:key:z6MkBADBADBAD"  # not a valid multibase Ed25519 key
RESOLVER = Resolver({"key": KeyMethod()})


class _Boom:
    """A resolver plug-in that fails in its own way."""

    method = "key"

    def resolve(self, did: Any, options: Any) -> Any:
        raise RuntimeError("plug-in broke")


def _di() -> dict[str, Any]:
    return issue_credential(unsigned_credential(issuer=did_of(ED)), signer=ED)


def _di_bad_signer() -> dict[str, Any]:
    document = copy.deepcopy(_di())
    document["issuer"] = BAD_DID
    document["proof"]["verificationMethod"] = f"{BAD_DID}#{BAD_DID.rsplit(':', 1)[-1]}"
    return document


def _jose_bad_signer() -> str:
    header = {"alg": "EdDSA", "typ": "vc+jwt", "kid": f"{BAD_DID}#{BAD_DID.rsplit(':', 1)[-1]}"}
    return sign_compact(header, credential_v2(BAD_DID), ED)


def test_the_table() -> None:
    assert {"notFound", "methodNotSupported", "kaga:resolver-failed", "kaga:context-load-failed",
            "kaga:status-list-unavailable"} <= COULD_NOT_CHECK_CODES
    assert not is_could_not_check("invalidDid") and not is_could_not_check("PROOF_VERIFICATION_ERROR")


def test_an_invalid_did_key_signer_is_invalid_in_every_format() -> None:
    di = verify_credential(_di_bad_signer(), resolver=RESOLVER, now=NOW)
    jose = verify_credential(_jose_bad_signer(), resolver=RESOLVER, now=NOW)
    for result in (di, jose):
        assert not result.verified
        assert "invalidDid" in result.codes
        assert not result.could_not_check
        assert all(p.could_not_check == is_could_not_check(p.code) for p in result.problems)


@pytest.mark.parametrize("kind", ["di", "jose"])
def test_a_resolver_plug_in_raising_is_could_not_check(kind: str) -> None:
    data: Any = _di() if kind == "di" else sign_vc_jwt(credential_v2(did_of(ED)), ED)
    result = verify_credential(data, resolver=Resolver({"key": _Boom()}), now=NOW)
    assert not result.verified
    assert result.codes == ["kaga:resolver-failed"]
    assert result.could_not_check


def test_a_resolver_plug_in_raising_in_a_presentation_is_could_not_check() -> None:
    from kaga_vc import create_presentation
    from tests._jose_support import HOLDER_ED

    vp = create_presentation([_di()], signer=HOLDER_ED, challenge="n", domain="d")
    result = verify_presentation(vp, resolver=Resolver({"key": _Boom()}), now=NOW, challenge="n", domain="d")
    assert not result.verified and result.could_not_check
    assert set(result.codes) == {"kaga:resolver-failed"}
