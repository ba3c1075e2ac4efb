"""Verified status list credentials are remembered by their exact bytes: a tampered list is never a hit."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kaga_vc import issue_credential, verify_credential
from kaga_vc.credentials import verify as credentials_verify
from kaga_vc.did import Resolver
from kaga_vc.errors import CREDENTIAL_REVOKED, STATUS_LIST_INVALID, STATUS_LIST_UNAVAILABLE
from kaga_vc.issuer.records import IssuanceStore
from kaga_vc.status import BitstringStatusList, MappingStatusListSource, StatusLists, VerifiedListCache

from .conftest import BASE_URL, Issuer

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Any:
    with IssuanceStore.open(f"sqlite:///{tmp_path / 'r.sqlite3'}") as store:
        yield store


def _setup(store: IssuanceStore, issuer: Issuer, *, valid_for: timedelta | None = None) -> tuple[Any, dict[str, Any]]:
    lists = StatusLists(store, BASE_URL)
    entries = lists.allocate_entries(now=NOW)
    credential = issue_credential({
        "@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:uuid:cache-1", "type": ["VerifiableCredential"],
        "issuer": issuer.did, "validFrom": "2026-04-01T00:00:00Z", "credentialSubject": {"id": "did:key:z6Mkresident"},
        "credentialStatus": [e.to_credential_status() for e in entries]}, signer=issuer.signer)
    published = lists.build_all(issuer.sign, issuer=issuer.did, now=NOW - timedelta(days=1), valid_for=valid_for)
    return credential, published


class Counting:
    """A verify_list that counts the full verifications it does."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver, self.calls = resolver, 0

    def __call__(self, document: Any) -> Any:
        self.calls += 1
        return verify_credential(document, resolver=self.resolver, now=NOW)


def test_a_list_is_verified_once_then_reused(sqlite_store: IssuanceStore, issuer: Issuer, resolver: Resolver) -> None:
    credential, published = _setup(sqlite_store, issuer)
    from kaga_vc.status import apply_status

    cache, verify_list = VerifiedListCache(), Counting(resolver)
    base = verify_credential(credential, resolver=resolver, now=NOW)
    source = MappingStatusListSource(published)
    for _ in range(3):
        checked = apply_status(base, source=source, verify_list=verify_list, cache=cache, cache_settings=(resolver,))
        assert checked.verified, checked.codes
    assert verify_list.calls == 2 and cache.hits == 4  # two lists (revocation, suspension), each verified once


def test_a_tampered_list_is_never_accepted_from_the_cache(
    sqlite_store: IssuanceStore, issuer: Issuer, resolver: Resolver
) -> None:
    credential, published = _setup(sqlite_store, issuer)
    source = MappingStatusListSource(published)
    first = verify_credential(credential, resolver=resolver, now=NOW, status_source=source)
    assert first.verified, first.codes
    # the same URL now serves a list whose bit for this credential was set by someone without the key
    url = credential["credentialStatus"][0]["statusListCredential"]
    index = int(credential["credentialStatus"][0]["statusListIndex"])
    tampered = copy.deepcopy(published[url])
    assert isinstance(tampered, dict)
    bits = BitstringStatusList.decode(tampered["credentialSubject"]["encodedList"])
    bits.set(index)
    tampered["credentialSubject"]["encodedList"] = bits.encode()
    source.documents[url] = tampered
    again = verify_credential(credential, resolver=resolver, now=NOW, status_source=source)
    assert not again.verified and STATUS_LIST_INVALID in again.codes and CREDENTIAL_REVOKED not in again.codes
    # and the genuine list, revoked for real and re-signed, is read afresh
    sqlite_store.record_issued("urn:uuid:cache-1", "VerifiableCredential", None, credential["credentialStatus"][0]
                               ["statusListCredential"].split("/")[-2], index, "staff", "x", NOW)
    StatusLists(sqlite_store, BASE_URL).revoke("urn:uuid:cache-1", at=NOW)
    source.documents.update(StatusLists(sqlite_store, BASE_URL).build_all(issuer.sign, issuer=issuer.did,
                                                                          now=NOW - timedelta(hours=1)))
    revoked = verify_credential(credential, resolver=resolver, now=NOW, status_source=source)
    assert CREDENTIAL_REVOKED in revoked.codes


def test_a_cached_list_is_not_used_after_it_expires(
    sqlite_store: IssuanceStore, issuer: Issuer, resolver: Resolver
) -> None:
    credential, published = _setup(sqlite_store, issuer, valid_for=timedelta(days=2))
    source = MappingStatusListSource(published)
    assert verify_credential(credential, resolver=resolver, now=NOW, status_source=source).verified
    later = verify_credential(credential, resolver=resolver, now=NOW + timedelta(days=3), status_source=source)
    assert not later.verified and STATUS_LIST_UNAVAILABLE in later.codes


def test_another_resolver_is_another_key(sqlite_store: IssuanceStore, issuer: Issuer, resolver: Resolver) -> None:
    credential, published = _setup(sqlite_store, issuer)
    source = MappingStatusListSource(published)
    assert verify_credential(credential, resolver=resolver, now=NOW, status_source=source).verified
    # a verifier that does not know did:key cannot be answered from what another verifier cached
    other = verify_credential(credential, resolver=Resolver({}), now=NOW, status_source=source)
    assert not other.verified
    assert credentials_verify._LIST_CACHE is not None and credentials_verify._LIST_CACHE.max_entries > 0
