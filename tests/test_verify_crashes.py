"""Issue 11 crash regressions: bad input to a verify path gives a typed problem, never an exception."""

from __future__ import annotations

from typing import Any

from kaga_vc.credentials import issue_credential
from kaga_vc.proofs import ProofPurpose, default_document_loader, default_suites, verify_proof
from kaga_vc.proofs.jose import verify_sd_jwt
from tests.di.conftest import NOW, make_signer, unsigned_credential


class _Broken:
    def resolve_document(self, did: Any) -> Any:
        raise RuntimeError("plug-in failure")


def test_non_ascii_sd_jwt_is_a_parsing_problem() -> None:
    result = verify_sd_jwt("eyJhbGciOiJFZERTQSJ9.e30.c2ln~WyLDqSJd~é.é.é", resolver=_Broken(), now=NOW)  # type: ignore[arg-type]
    assert result.verified is False
    assert result.codes == ["PARSING_ERROR"]


def test_resolver_plug_in_failure_is_could_not_check_in_data_integrity() -> None:
    signer = make_signer(seed=7)
    credential = issue_credential(unsigned_credential(issuer=signer.key_id.split("#")[0]), signer=signer, created=NOW)
    check = verify_proof(credential, suites=default_suites(), resolver=_Broken(),  # type: ignore[arg-type]
                         expected_purpose=ProofPurpose.ASSERTION_METHOD, loader=default_document_loader(), now=NOW)
    assert not check.errors
    assert [e.code for e in check.could_not_check] == ["kaga:resolver-failed"]
