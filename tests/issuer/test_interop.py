"""Peers verify the city's credentials: Digital Bazaar vc (Data Integrity), did-jwt-vc (VC 1.1 JWT).

Neither peer can read our chain, so each is handed the city's did:ethr document as resolved from the
registry (history included), and the contexts from the package's bundles (the city's own among them).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kaga_vc.contexts import bundled_contexts, kaga_contexts
from kaga_vc.issuer import CityIssuer

from .conftest import CLAIMS, NOW, resident_did

INTEROP = Path(__file__).resolve().parent.parent / "interop"


def _ready(folder: str, package: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        shutil.which("node") is None or not (INTEROP / folder / "node_modules" / package).is_dir(),
        reason=f"Node interop packages not installed (scripts/test.sh runs npm ci in tests/interop/{folder})",
    )


def _node(folder: str, script: str, request: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(["node", str(INTEROP / folder / script)], input=json.dumps(request, ensure_ascii=False),
                          capture_output=True, text=True, timeout=60, cwd=INTEROP / folder, check=False)
    answer: dict[str, Any] = json.loads(done.stdout or "{}")
    assert "exception" not in answer, answer.get("exception")
    return answer


def _documents(city_document: dict[str, Any]) -> dict[str, Any]:
    documents: dict[str, Any] = {}
    for bundle in (bundled_contexts(), kaga_contexts()):
        documents.update({url: bundle.get(url) for url in bundle.urls()})
    documents[city_document["id"]] = city_document
    return documents


@pytest.mark.node
@_ready("di", "@digitalbazaar/vc")
@pytest.mark.parametrize("kind", ["kyc", "residency", "virtual-resident"])
def test_digital_bazaar_verifies_the_citys_data_integrity_credentials(
    issuer: CityIssuer, city_document: dict[str, Any], kind: str
) -> None:
    issued = issuer.issue(kind, resident_did(), CLAIMS[kind](), format="data-integrity", now=NOW)
    request = {"op": "verify", "credential": issued.document, "documents": _documents(city_document),
               "statusNotChecked": True}
    answer = _node("di", "di.mjs", request)
    assert answer["verified"] is True, answer
    tampered = json.loads(json.dumps(issued.document))
    tampered["credentialSubject"]["fullName"] = "別人 です"
    assert _node("di", "di.mjs", {**request, "credential": tampered})["verified"] is False


@pytest.mark.node
@_ready("jose", "did-jwt-vc")
@pytest.mark.parametrize("kind", ["kyc", "residency", "virtual-resident"])
def test_did_jwt_vc_verifies_the_citys_vc11_jwts(issuer: CityIssuer, city_document: dict[str, Any], kind: str) -> None:
    issued = issuer.issue(kind, resident_did(), CLAIMS[kind](), format="jwt-vc11", now=NOW)
    request = {"op": "verify-vc", "jwt": issued.document, "now": int(NOW.timestamp()) + 60,
               "documents": {city_document["id"]: city_document}}
    answer = _node("jose", "didjwtvc.mjs", request)
    assert answer.get("verified") is True, answer
    assert answer["issuer"] == issuer.did and answer["signer"] == issuer.config.secp256k1_method
    assert answer["payload"]["vc"]["type"][-1] in ("KycCredential", "ResidencyCredential", "VirtualResidentCredential")
    header, payload, signature = str(issued.document).split(".")
    forged = ".".join([header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])
    assert _node("jose", "didjwtvc.mjs", {**request, "jwt": forged}).get("verified") is not True
