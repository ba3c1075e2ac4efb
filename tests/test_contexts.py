"""Bundled contexts and the offline document loader."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from kaga_vc.contexts import OfflineLoader, bundled_contexts, default_loader
from kaga_vc.contexts._loader import BundledContexts
from kaga_vc.errors import CONTEXT_DIGEST_MISMATCH, CONTEXT_NOT_BUNDLED, DocumentLoadError

from .conftest import ROOT, VECTORS

PACKAGE_DATA = ROOT / "kaga_vc" / "contexts" / "data"
# reference copies with their provenance (tests/vectors/contexts/SOURCE.md)
REFERENCE = VECTORS / "contexts"


def test_every_reference_context_is_bundled_verbatim() -> None:
    index = json.loads((REFERENCE / "index.json").read_text())
    assert set(index) == set(bundled_contexts().urls())
    for url, entry in index.items():
        shipped = (PACKAGE_DATA / entry["file"]).read_bytes()
        assert shipped == (REFERENCE / entry["file"]).read_bytes(), url
        assert hashlib.sha256(shipped).hexdigest() == entry["sha256"], url


def test_loader_serves_every_bundled_context_offline(no_network: None) -> None:
    loader = default_loader()
    for url in bundled_contexts().urls():
        remote = loader(url, {})
        assert remote["documentUrl"] == url
        assert "@context" in remote["document"]


def test_unknown_context_is_refused_without_network(no_network: None) -> None:
    with pytest.raises(DocumentLoadError) as info:
        default_loader()("https://example.com/contexts/v1", {})
    assert info.value.code == CONTEXT_NOT_BUNDLED


def test_pyld_expansion_uses_the_loader_offline(no_network: None) -> None:
    from pyld import jsonld

    doc = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:city",
        "credentialSubject": {"id": "did:example:resident"},
    }
    nquads = jsonld.normalize(doc, {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": default_loader()})
    assert "<https://www.w3.org/2018/credentials#issuer> <did:example:city>" in nquads
    bad = dict(doc, **{"@context": ["https://www.w3.org/ns/credentials/v2", "https://evil.example/ctx"]})
    with pytest.raises(Exception) as info:
        jsonld.expand(bad, {"documentLoader": default_loader()})
    # pyld wraps loader errors; the typed error is the cause somewhere in the chain.
    chain, err = [], info.value
    while err is not None:
        chain.append(err)
        err = err.__cause__ or err.__context__ or getattr(err, "cause", None)
    assert any(isinstance(e, DocumentLoadError) and e.code == CONTEXT_NOT_BUNDLED for e in chain)


def test_served_documents_are_copies() -> None:
    loader = default_loader()
    url = "https://www.w3.org/ns/credentials/v2"
    loader(url)["document"]["@context"]["injected"] = "x"
    assert "injected" not in loader(url)["document"]["@context"]


def test_extra_documents_and_allow_list_take_precedence(no_network: None) -> None:
    loader = OfflineLoader(extra={"https://kaga.example/ctx": {"@context": {"x": "https://kaga.example/x"}}})
    assert loader("https://kaga.example/ctx")["document"]["@context"]["x"] == "https://kaga.example/x"
    allowed = OfflineLoader(allow_network=["http://insecure.example/ctx"])
    with pytest.raises(DocumentLoadError):  # only HTTPS may be fetched, and it fails before any socket
        allowed("http://insecure.example/ctx")


def test_digest_mismatch_is_detected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "https://www.w3.org/ns/did/v1"
    bundle = BundledContexts()
    monkeypatch.setattr(bundle, "_index", {url: {**bundle._index[url], "sha256": "0" * 64}})
    with pytest.raises(DocumentLoadError) as info:
        bundle.get(url)
    assert info.value.code == CONTEXT_DIGEST_MISMATCH
