"""Status checking in verification: revoked, suspended, restored, tampered, unavailable — offline."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kaga_vc import create_presentation, issue_credential, verify_credential, verify_presentation
from kaga_vc.did import Resolver
from kaga_vc.errors import (
    CREDENTIAL_REVOKED,
    CREDENTIAL_SUSPENDED,
    STATUS_LIST_INVALID,
    STATUS_LIST_UNAVAILABLE,
    STATUS_NOT_CHECKED,
)
from kaga_vc.issuer.records import IssuanceStore
from kaga_vc.proofs.jose import issue_sd_jwt, sd_jwt_vc_claims, sign_vc_jwt
from kaga_vc.status import (
    BitstringStatusList,
    DirectoryStatusListSource,
    FileStatusListSource,
    MappingStatusListSource,
    StatusEntry,
    StatusLists,
)

from .conftest import BASE_URL, Issuer

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _unsigned(issuer: Issuer, entries: tuple[StatusEntry, ...], n: int = 1) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": f"urn:uuid:6a1f0000-0000-4000-8000-{n:012d}",
        "type": ["VerifiableCredential"],
        "issuer": issuer.did,
        "validFrom": "2026-04-01T00:00:00Z",
        "credentialSubject": {"id": "did:key:z6MkresidentAAAA"},
        "credentialStatus": [e.to_credential_status() for e in entries],
    }


class City:
    """An issuer with its records and lists: issue, change status, publish."""

    def __init__(self, store: IssuanceStore, issuer: Issuer) -> None:
        self.store, self.issuer = store, issuer
        self.lists = StatusLists(store, BASE_URL)

    def issue(self, n: int = 1, fmt: str = "data-integrity") -> tuple[str, Any]:
        entries = self.lists.allocate_entries()
        unsigned = _unsigned(self.issuer, entries, n)
        if fmt == "data-integrity":
            document: Any = issue_credential(unsigned, signer=self.issuer.signer)
        elif fmt == "vc+jwt":
            document = sign_vc_jwt(unsigned, self.issuer.signer)
        else:
            claims = sd_jwt_vc_claims(unsigned, now=NOW)
            claims["status"] = unsigned["credentialStatus"]
            document = issue_sd_jwt(claims, signer=self.issuer.signer, disclosable=[])
        self.store.record_issued(unsigned["id"], "VerifiableCredential", "did:key:z6MkresidentAAAA",
                                 entries[0].list_id, entries[0].index, "staff-1", fmt, NOW)
        return unsigned["id"], document

    def source(self, sign: Any = None, **options: Any) -> MappingStatusListSource:
        return MappingStatusListSource(self.lists.build_all(sign or self.issuer.sign, issuer=self.issuer.did,
                                                            now=NOW - timedelta(minutes=1), **options))


@pytest.fixture
def city(store: IssuanceStore, issuer: Issuer) -> City:
    return City(store, issuer)


def _verify(document: Any, resolver: Resolver, source: Any, now: datetime = NOW) -> Any:
    return verify_credential(document, resolver=resolver, status_source=source, now=now)


@pytest.mark.parametrize("fmt", ["data-integrity", "vc+jwt", "dc+sd-jwt"])
def test_revoke_suspend_unsuspend(city: City, resolver: Resolver, fmt: str, no_network: None) -> None:
    cid, document = city.issue(fmt=fmt)
    _other_id, other = city.issue(2, fmt=fmt)

    result = _verify(document, resolver, city.source())
    assert result.verified, result.codes
    assert "status" in result.checks
    assert result.details["status"] == [{"statusPurpose": "revocation", "value": 0},
                                        {"statusPurpose": "suspension", "value": 0}]

    city.lists.suspend(cid, at=NOW)
    source = city.source()
    result = _verify(document, resolver, source)
    assert not result.verified and result.codes == [CREDENTIAL_SUSPENDED] and not result.could_not_check
    assert _verify(other, resolver, source).verified  # only that credential

    city.lists.unsuspend(cid, at=NOW)
    assert _verify(document, resolver, city.source()).verified

    city.lists.revoke(cid, at=NOW)
    result = _verify(document, resolver, city.source())
    assert result.codes == [CREDENTIAL_REVOKED]
    assert result.problems[0].context["statusPurpose"] == "revocation"
    assert _verify(other, resolver, city.source()).verified


def test_lists_signed_as_vc_jwt(city: City, resolver: Resolver, issuer: Issuer) -> None:
    cid, document = city.issue()
    city.lists.revoke(cid, at=NOW)
    source = city.source(sign=lambda c: sign_vc_jwt(c, issuer.signer))
    assert all(isinstance(v, str) for v in source.documents.values())
    assert _verify(document, resolver, source).codes == [CREDENTIAL_REVOKED]


def test_without_a_source_the_warning_stays(city: City, resolver: Resolver) -> None:
    for n, fmt in enumerate(("data-integrity", "vc+jwt", "dc+sd-jwt")):
        _, document = city.issue(n, fmt=fmt)
        result = verify_credential(document, resolver=resolver, now=NOW)
        assert result.verified and [w.code for w in result.warnings].count(STATUS_NOT_CHECKED) == 1, fmt
        assert "status" not in result.checks


def _flip_bit(encoded: str, index: int) -> str:
    bits = BitstringStatusList.decode(encoded)
    bits.set(index, 1 - bits.get(index))
    return bits.encode()


def test_tampered_status_list_is_rejected(city: City, resolver: Resolver) -> None:
    cid, document = city.issue()
    city.lists.revoke(cid, at=NOW)
    source = city.source()
    url = document["credentialStatus"][0]["statusListCredential"]
    index = int(document["credentialStatus"][0]["statusListIndex"])
    forged = copy.deepcopy(source.documents[url])
    forged["credentialSubject"]["encodedList"] = _flip_bit(forged["credentialSubject"]["encodedList"], index)
    source.documents[url] = forged
    result = _verify(document, resolver, source)
    assert result.codes == [STATUS_LIST_INVALID] and not result.could_not_check  # not "not revoked"


def test_list_of_another_issuer_is_rejected(city: City, resolver: Resolver, store: IssuanceStore) -> None:
    _, document = city.issue()
    impostor = Issuer()
    source = MappingStatusListSource(city.lists.build_all(impostor.sign, issuer=impostor.did, now=NOW))
    result = _verify(document, resolver, source)
    assert result.codes == [STATUS_LIST_INVALID, STATUS_LIST_INVALID]


def test_purpose_mismatch_is_rejected(city: City, resolver: Resolver) -> None:
    _, document = city.issue()
    source = city.source()
    revocation_url = document["credentialStatus"][0]["statusListCredential"]
    suspension_url = document["credentialStatus"][1]["statusListCredential"]
    # serve the (validly signed) suspension list where the revocation list should be
    source.documents[revocation_url] = source.documents[suspension_url]
    result = _verify(document, resolver, source)
    assert STATUS_LIST_INVALID in result.codes


def test_unavailable_or_stale_list_is_could_not_check(city: City, resolver: Resolver) -> None:
    _, document = city.issue()
    result = _verify(document, resolver, MappingStatusListSource({}))
    assert result.codes == [STATUS_LIST_UNAVAILABLE, STATUS_LIST_UNAVAILABLE] and result.could_not_check
    stale = city.source(valid_for=timedelta(days=1))
    assert _verify(document, resolver, stale).verified
    result = _verify(document, resolver, stale, now=NOW + timedelta(days=2))
    assert set(result.codes) == {STATUS_LIST_UNAVAILABLE} and result.could_not_check


def test_malformed_entry_is_reported(city: City, resolver: Resolver, issuer: Issuer) -> None:
    entries = city.lists.allocate_entries()
    unsigned = _unsigned(issuer, entries)
    unsigned["credentialStatus"][0]["statusListIndex"] = "-4"
    document = issue_credential(unsigned, signer=issuer.signer)
    result = _verify(document, resolver, city.source())
    assert result.codes == [STATUS_LIST_INVALID]


def test_publish_to_directory_and_file(city: City, resolver: Resolver, tmp_path: Path) -> None:
    cid, document = city.issue()
    city.lists.suspend(cid, at=NOW)
    written = city.lists.publish(f"{tmp_path}/www/", city.issuer.sign, issuer=city.issuer.did, now=NOW)
    assert len(written) == 2 and all(p.is_file() for p in written)
    directory = DirectoryStatusListSource(tmp_path / "www", BASE_URL)
    assert _verify(document, resolver, directory).codes == [CREDENTIAL_SUSPENDED]
    bundle = tmp_path / "lists.json"
    city.lists.publish(bundle, city.issuer.sign, issuer=city.issuer.did, now=NOW)
    assert set(json.loads(bundle.read_text())) == {e["statusListCredential"] for e in document["credentialStatus"]}
    assert _verify(document, resolver, FileStatusListSource(bundle)).codes == [CREDENTIAL_SUSPENDED]
    with pytest.raises(Exception) as caught:
        directory.fetch(BASE_URL + "/../etc/passwd")
    assert getattr(caught.value, "code", None) == STATUS_LIST_UNAVAILABLE


def test_presentation_reports_the_embedded_credentials_status(city: City, resolver: Resolver) -> None:
    from kaga_vc.did.key import did_key_from_public_key
    from kaga_vc.keys import KeySigner, KeyType, PrivateKey

    cid, document = city.issue()
    city.lists.revoke(cid, at=NOW)
    holder = PrivateKey.generate(KeyType.ED25519)
    holder_did = did_key_from_public_key(holder.public_key)
    signer = KeySigner(holder, f"{holder_did}#{holder_did.split(':')[-1]}")
    vp = create_presentation([document], signer=signer, challenge="n-1", domain="shop.kaga.example")
    result = verify_presentation(vp, resolver=resolver, challenge="n-1", domain="shop.kaga.example", now=NOW,
                                 status_source=city.source())
    assert result.codes == [CREDENTIAL_REVOKED] and result.problems[0].context["credential"] == 0
