"""Issue credentials and create presentations secured with Data Integrity proofs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..did import DIDURL
from ..errors import (
    ISSUER_MISMATCH,
    MALFORMED_VALUE_ERROR,
    PROOF_SET_UNSUPPORTED,
    InputError,
    KagaError,
    UnsupportedError,
)
from ..keys import Signer
from ..proofs import (
    Cryptosuite,
    DocumentLoader,
    ProofPurpose,
    add_proof,
    default_document_loader,
    suite_for_key_type,
)
from ._json import check_structure
from ._model import VC_V1, VC_V2, Credential, Presentation

JSONObject = dict[str, Any]


def _signer_did(signer: Signer) -> str:
    try:
        return str(DIDURL.parse(signer.key_id).did)
    except KagaError:
        raise InputError(MALFORMED_VALUE_ERROR, f"signer key_id {signer.key_id!r} is not a DID URL") from None


def issue_credential(
    credential: JSONObject,
    *,
    signer: Signer,
    suite: Cryptosuite | None = None,
    proof_purpose: ProofPurpose = ProofPurpose.ASSERTION_METHOD,
    created: datetime | None = None,
    loader: DocumentLoader | None = None,
) -> JSONObject:
    """Return ``credential`` secured with a Data Integrity proof by ``signer``.

    The credential is validated first (VCDM 2.0 / 1.1). Its ``issuer`` must be the DID of the
    signer's verification method (``kaga:issuer-mismatch`` otherwise, since no verifier would
    accept it); a credential without ``issuer`` gets the signer's DID. The suite defaults to the
    one for the key type (Ed25519 → ``eddsa-rdfc-2022``, P-256/P-384 → ``ecdsa-rdfc-2019``).
    Raises InputError (malformed credential), ProofError (``kaga:undefined-term``, …),
    DocumentLoadError (a context that is not bundled) or UnsupportedError.
    """
    if not isinstance(credential, dict):
        raise InputError(MALFORMED_VALUE_ERROR, "a credential must be a JSON object")
    check_structure(credential)
    if "proof" in credential:
        raise UnsupportedError(PROOF_SET_UNSUPPORTED, "the credential already has a proof")
    did = _signer_did(signer)
    document = dict(credential)
    document.setdefault("issuer", did)
    parsed = Credential.from_json(document)
    if parsed.issuer_id != did:
        raise InputError(ISSUER_MISMATCH, f"issuer {parsed.issuer_id} is not the signer's DID {did}", issuer=parsed.issuer_id)
    suite = suite or suite_for_key_type(signer.key_type)
    return add_proof(
        document,
        suite=suite,
        signer=signer,
        proof_purpose=proof_purpose,
        created=created,
        loader=loader or default_document_loader(),
    )


def create_presentation(
    credentials: Sequence[JSONObject | str],
    *,
    signer: Signer,
    holder: str | None = None,
    challenge: str | None = None,
    domain: str | None = None,
    id: str | None = None,
    suite: Cryptosuite | None = None,
    created: datetime | None = None,
    loader: DocumentLoader | None = None,
) -> JSONObject:
    """Wrap ``credentials`` in a VCDM 2.0 presentation signed for ``authentication``.

    ``holder`` defaults to the signer's DID; pass the verifier's ``challenge`` and ``domain``.
    A credential given as text (a JWT / SD-JWT) is wrapped as an ``EnvelopedVerifiableCredential``.
    A 1.1 credential is embedded as it is (the presentation is 2.0; verifiers read both).
    """
    holder = holder or _signer_did(signer)
    embedded: list[Any] = []
    for item in credentials:
        if isinstance(item, str):
            embedded.append({"@context": VC_V2, "id": f"data:application/vc+jwt,{item}", "type": "EnvelopedVerifiableCredential"})
        elif isinstance(item, dict):
            embedded.append(item)
        else:
            raise InputError(MALFORMED_VALUE_ERROR, "credentials must be JSON objects or JWT strings")
    presentation: JSONObject = {"@context": [VC_V2], "type": ["VerifiablePresentation"]}
    if id is not None:
        presentation["id"] = id
    presentation["holder"] = holder
    if embedded:
        presentation["verifiableCredential"] = embedded
    check_structure(presentation)
    Presentation.from_json(presentation)
    suite = suite or suite_for_key_type(signer.key_type)
    return add_proof(
        presentation,
        suite=suite,
        signer=signer,
        proof_purpose=ProofPurpose.AUTHENTICATION,
        created=created,
        challenge=challenge,
        domain=domain,
        loader=loader or default_document_loader(),
    )


__all__ = ["VC_V1", "VC_V2", "create_presentation", "issue_credential"]
