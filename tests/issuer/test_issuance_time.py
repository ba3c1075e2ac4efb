"""A credential issued right after city setup is valid from no earlier than its key's publication.

The embedded chain stamps a burst of blocks one second apart, so the last key change can carry a time
ahead of the wall clock; a verifier that resolves the issuer's DID at the issuance time (the trust
bundle does) must find the key.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from kaga_vc.did import ResolutionOptions, Resolver
from kaga_vc.issuer import init_city, open_city_issuer
from kaga_vc.registry import close_registry, ethr_method, open_embedded

from .conftest import PASSWORD

CLAIMS = {"fullName": "加賀 花子", "fullNameKana": "カガ ハナコ", "birthDate": "1990-04-01",
          "evidence": ["myNumberCardPublicKey"]}


def test_issued_immediately_after_setup_verifies_at_its_issuance_time(tmp_path: Path) -> None:
    config, _ = init_city(PASSWORD, home=tmp_path, scrypt_n=2**10)
    assert config.keys_published_at
    with open_city_issuer(PASSWORD, home=tmp_path) as city:  # no waiting for the clock
        issued = city.issue("kyc", "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", CLAIMS,
                            format="data-integrity", staff="test")
    valid_from = datetime.fromisoformat(issued.document["validFrom"])
    assert valid_from >= datetime.fromisoformat(config.keys_published_at)
    registry = open_embedded(tmp_path)
    try:
        resolver = Resolver({"ethr": ethr_method(registry)})
        at_issuance = resolver.resolve(config.did, ResolutionOptions(version_time=valid_from)).did_document
    finally:
        close_registry(registry)
    method_ids = {vm["id"] for vm in at_issuance["verificationMethod"]}
    assert config.ed25519_method in method_ids
