"""The DID documents remembered per VerifyParameters (issue 16): bounded in number and age, never a failure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

import pytest

from kaga_vc.credentials import VerifyParameters, verify_credential, verify_presentation
from kaga_vc.did import DID, DocumentCache, KeyMethod, ResolutionOptions, ResolutionResult, Resolver
from kaga_vc.errors import ResolutionError
from kaga_vc.proofs.jose import sign_vc_jwt, sign_vp_jwt
from kaga_vc.proofs.jose.vc_jose import envelope
from tests._jose_support import ED, HOLDER, NOW, OTHER_ED, credential_v2, did_of


class CountingKeyMethod:
    """did:key, counting resolutions; ``fail`` makes the next resolutions raise."""

    method: ClassVar[str] = "key"

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.fail = False
        self._inner = KeyMethod()

    def resolve(self, did: DID, options: ResolutionOptions) -> ResolutionResult:
        self.calls.append(str(did))
        if self.fail:
            raise ResolutionError("notFound", "registry unavailable")
        return self._inner.resolve(did, options)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_one_parameters_object_resolves_each_issuer_once_for_a_batch() -> None:
    method = CountingKeyMethod()
    params = VerifyParameters(resolver=Resolver({"key": method}), now=NOW)
    tokens = [sign_vc_jwt(credential_v2(did_of(ED)), ED) for _ in range(3)] + [
        sign_vc_jwt(credential_v2(did_of(OTHER_ED)), OTHER_ED)]
    assert all(verify_credential(token, params).verified for token in tokens)
    assert sorted(method.calls) == sorted([did_of(ED), did_of(OTHER_ED)])
    # without a cache every verification resolves
    uncached = CountingKeyMethod()
    bare = VerifyParameters(resolver=Resolver({"key": uncached}), now=NOW, documents=None)
    assert all(verify_credential(token, bare).verified for token in tokens)
    assert len(uncached.calls) == 4


def test_a_presentation_and_its_credentials_share_the_documents() -> None:
    method = CountingKeyMethod()
    inner = [envelope(sign_vc_jwt(credential_v2(did_of(ED), did_of(HOLDER)), ED)) for _ in range(2)]
    presentation = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
                    "holder": did_of(HOLDER), "verifiableCredential": inner}
    token = sign_vp_jwt(presentation, HOLDER, audience="did:web:v.example", nonce="n-1")
    result = verify_presentation(token, resolver=Resolver({"key": method}), now=NOW, challenge="n-1",
                                 domain="did:web:v.example")
    assert result.verified, result.codes
    assert sorted(method.calls) == sorted([did_of(HOLDER), did_of(ED)])  # ED once for two credentials


def test_documents_expire_and_the_number_is_bounded() -> None:
    method, clock = CountingKeyMethod(), Clock()
    cache = DocumentCache(max_entries=2, max_age=timedelta(seconds=60), clock=clock)
    resolver = cache.view(Resolver({"key": method}))
    dids = [did_of(ED), did_of(OTHER_ED), did_of(HOLDER)]
    resolver.resolve(dids[0])
    resolver.resolve(dids[0])
    assert method.calls == [dids[0]]
    clock.now = 61.0  # older than max_age: resolved again
    resolver.resolve(dids[0])
    assert method.calls == [dids[0], dids[0]]
    resolver.resolve(dids[1])
    resolver.resolve(dids[2])  # the third evicts the least recently used (dids[0])
    assert len(cache) == 2
    resolver.resolve(dids[0])
    assert method.calls[-1] == dids[0] and len(method.calls) == 5


def test_a_failure_is_not_remembered_and_other_options_bypass_the_cache() -> None:
    method = CountingKeyMethod()
    cache = DocumentCache()
    resolver = cache.view(Resolver({"key": method}))
    method.fail = True
    with pytest.raises(ResolutionError):
        resolver.resolve(did_of(ED))
    method.fail = False
    assert resolver.resolve_document(did_of(ED)).id == did_of(ED)
    assert len(method.calls) == 2
    jwk_options = ResolutionOptions(properties={"publicKeyFormat": "JsonWebKey2020"})
    document: Any = resolver.resolve(did_of(ED), jwk_options).did_document
    assert document["verificationMethod"][0]["type"] == "JsonWebKey2020"
    assert len(method.calls) == 3  # resolved, not served the cached Multikey document
    assert cache.view(resolver) is resolver  # no cache in front of a cache


def test_the_cache_follows_the_parameters_through_their_copies() -> None:
    params = VerifyParameters(resolver=Resolver({"key": KeyMethod()}))
    assert params.at(NOW).documents is params.documents
    assert VerifyParameters(resolver=params.resolver).documents is not params.documents
    assert params == VerifyParameters(resolver=params.resolver)  # not part of what the parameters are
    with pytest.raises(ValueError):
        DocumentCache(max_entries=-1)
