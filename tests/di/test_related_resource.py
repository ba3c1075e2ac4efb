"""VCDM 2.0 §5.3 relatedResource: shape, unique ids, digests, and digests checked where we hold the bytes."""

from __future__ import annotations

import base64
import copy
import hashlib
from typing import Any

import pytest

from kaga_vc._encoding import multibase_encode
from kaga_vc.contexts import bundled_contexts
from kaga_vc.credentials import issue_credential, verify_credential
from kaga_vc.credentials._model import Credential
from kaga_vc.did import KeyMethod, Resolver
from kaga_vc.errors import InputError

from .conftest import NOW, make_signer, unsigned_credential

pytestmark = pytest.mark.usefixtures("no_network")

V2 = "https://www.w3.org/ns/credentials/v2"
# SHA-384 of the v2 context bytes as published in npm @digitalbazaar/credentials-context 3.2.0
# (the bytes kaga_vc bundles), computed independently by the W3C harness notes.
V2_SRI = "sha384-e2AY0FBy6KUAgZ3rMaz7Uj/Gp0bkIIIB/bjgmVQS2PPSOr+Ufx9P5mVrVU+jxFXR"
V2_MULTIBASE = "u" + base64.urlsafe_b64encode(
    hashlib.sha256(bundled_contexts().raw_bytes(V2)).digest()).decode().rstrip("=")
SIGNER = make_signer(seed=41)
RESOLVER = Resolver({"key": KeyMethod()})


def _with(related: Any) -> dict[str, Any]:
    return unsigned_credential(issuer=SIGNER.key_id.split("#")[0], relatedResource=related)


@pytest.mark.parametrize("related", [
    {"id": V2, "digestSRI": V2_SRI},
    {"id": V2, "digestMultibase": V2_MULTIBASE},
    [{"id": V2, "mediaType": "application/ld+json", "digestSRI": V2_SRI, "digestMultibase": V2_MULTIBASE}],
    [{"id": "https://kaga.example/photo.png", "digestMultibase": multibase_encode(b"\x12\x20" + bytes(32))},
     {"id": V2, "digestSRI": V2_SRI}],
], ids=["sri", "multibase", "both-with-media-type", "unheld-resource-and-multihash"])
def test_valid_related_resources_issue_and_verify(related: Any) -> None:
    signed = issue_credential(_with(related), signer=SIGNER)
    assert verify_credential(signed, resolver=RESOLVER, now=NOW).verified


# relatedResource values refused, with their codes (also run through tests/di/test_model_rules.py)
BAD_RELATED: list[tuple[Any, str]] = [
    ([V2], "MALFORMED_VALUE_ERROR"),
    ([], "MALFORMED_VALUE_ERROR"),
    ([{"digestSRI": V2_SRI}], "MALFORMED_VALUE_ERROR"),
    ([{"id": "not a url", "digestSRI": V2_SRI}], "MALFORMED_VALUE_ERROR"),
    ([{"id": V2, "digestSRI": V2_SRI}, {"id": V2, "digestMultibase": V2_MULTIBASE}], "MALFORMED_VALUE_ERROR"),
    ([{"id": V2}], "MALFORMED_VALUE_ERROR"),
    ([{"id": V2, "digestSRI": "md5-AAAA"}], "MALFORMED_VALUE_ERROR"),
    ([{"id": V2, "digestMultibase": "uAAAA"}], "MALFORMED_VALUE_ERROR"),
    # the W3C vc2.0 suite's wrong digests
    ([{"id": V2, "digestMultibase": "uM4RgWQc3RUDtjJCSgTJtTfvpZ7SPEg_LNO0ESlovQC0"}], "kaga:related-resource-digest-mismatch"),
    ([{"id": V2, "digestSRI": "sha384-NSOcNpmdIVUxIJGvGUoe22FjTWrXiaXlsZ8q6912LdnR3KraQO2n75Ica4wK4Qeg"}],
     "kaga:related-resource-digest-mismatch"),
]


@pytest.mark.parametrize("related, code", BAD_RELATED, ids=["strings", "empty", "no-id", "id-not-url", "duplicate-id",
    "no-digest", "unknown-sri-alg", "short-multibase", "wrong-multibase", "wrong-sri"])
def test_bad_related_resources_are_refused(related: Any, code: str) -> None:
    with pytest.raises(InputError) as caught:
        Credential.from_json(_with(related))
    assert caught.value.code == code


def test_a_digest_changed_after_signing_fails_verification() -> None:
    signed = issue_credential(_with({"id": V2, "digestSRI": V2_SRI}), signer=SIGNER)
    tampered = copy.deepcopy(signed)
    tampered["relatedResource"]["digestSRI"] = "sha384-" + "A" * 64
    result = verify_credential(tampered, resolver=RESOLVER, now=NOW)
    assert result.codes == ["kaga:related-resource-digest-mismatch"]
