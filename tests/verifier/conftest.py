"""A small world for the wallet / verifier tests: the city on a fresh embedded chain, a wallet, a verifier.

Everything is real: the city's did:ethr is written to the embedded EVM by ``init_city``, credentials
come from ``CityIssuer`` with its status lists and records, bundles are read from the chain.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kaga_vc.credentials import issue_credential
from kaga_vc.did import did_key_from_public_key
from kaga_vc.keys import KeySigner, KeyType, PrivateKey

PASSWORD = "correct horse battery staple"
FAST = 2**10  # scrypt cost for test keystores and wallets (the defaults are for people)
KYC_CLAIMS = {"fullName": "加賀 花子", "fullNameKana": "カガ ハナコ", "birthDate": "1990-04-01",
              "evidence": ["myNumberCardPublicKey"]}
ALL_TYPES = ("KycCredential", "ResidencyCredential", "VirtualResidentCredential")


def did_key_signer(key_type: KeyType = KeyType.ED25519) -> KeySigner:
    key = PrivateKey.generate(key_type)
    did = did_key_from_public_key(key.public_key)
    return KeySigner(key, f"{did}#{did.rsplit(':', 1)[-1]}")


def wait_for_chain(registry: Any) -> None:
    """Let the wall clock pass the newest block's time (the embedded chain runs ahead in bursts)."""
    _, timestamp = registry.head()
    while time.time() < timestamp + 1.05:
        time.sleep(0.05)


@dataclass
class World:
    home: Path
    config: Any
    issuer: Any
    registry: Any
    owner: PrivateKey
    wallet: Any
    verifier: KeySigner

    def status_lists(self) -> dict[str, Any]:
        signer = self.issuer.ed25519_signer
        return dict(self.issuer.status.build_all(lambda c: issue_credential(c, signer=signer), issuer=self.config.did))

    def bundle(self, *, types: tuple[str, ...] = ALL_TYPES, now: datetime | None = None, extra: tuple[Any, ...] = ()
               ) -> Any:
        from kaga_vc.credentials.kaga import CredentialKind, load_schema
        from kaga_vc.registry import ethr_method
        from kaga_vc.verifier import TrustedIssuer, sync_bundle

        schemas = {k.type_name: load_schema(k) for k in CredentialKind if k.type_name in types}
        records = self.issuer.records  # what the city anchored: listed for the keys it retired
        anchored = {m: [(bytes.fromhex(d), t, i) for d, t, i in records.anchored_issuances(m)]
                    for m in records.signing_methods()}
        return sync_bundle(ethr_method(self.registry), signer=self.bundle_signer,
                           issuers=[TrustedIssuer(self.config.did, types), *extra], status_lists=self.status_lists(),
                           schemas=schemas, now=now, anchored=anchored)

    def anchor_pending(self) -> Any:
        """Anchor what the city issued and did not anchor yet (the runbook: before a rotation)."""
        from kaga_vc.accesslog.issuance import anchor_pending
        from kaga_vc.registry.anchor import ANCHOR_META_KEY, ChainAnchor, deploy_anchor_contract

        chain = self.registry.transport  # the world's embedded chain, open in this process
        funded = PrivateKey.from_bytes(KeyType.SECP256K1, chain.submitter_key)
        contract = chain.get_meta(ANCHOR_META_KEY)
        if contract is None:
            contract = deploy_anchor_contract(self.registry, sender=funded)
            chain.set_meta(ANCHOR_META_KEY, contract)
        return anchor_pending(self.issuer.records, self.config.did, ChainAnchor(self.registry, contract, sender=funded))

    @property
    def bundle_signer(self) -> Any:
        """The city's bundle key (certified by its owner key), which signs its bundles."""
        from kaga_vc.issuer import city_bundle_signer

        return city_bundle_signer(PASSWORD, home=self.home)

    def issue(self, fmt: str = "sd-jwt", kind: str = "kyc", subject: str | None = None, **kw: Any) -> Any:
        return self.issuer.issue(kind, subject or self.wallet.did, KYC_CLAIMS, format=fmt, staff="test", **kw)


def make_world(home: Path) -> Iterator[World]:
    from kaga_vc.holder import create_wallet
    from kaga_vc.issuer import init_city, open_city_issuer
    from kaga_vc.keys.keystore import load_key
    from kaga_vc.registry import close_registry, open_embedded

    config, _ = init_city(PASSWORD, home=home, scrypt_n=FAST)
    issuer = open_city_issuer(PASSWORD, home=home)
    registry = open_embedded(home)
    owner = load_key(home / "city" / "owner.json", PASSWORD)
    wallet = create_wallet(home / "wallet" / "wallet.json", PASSWORD, scrypt_n=FAST)
    wait_for_chain(registry)
    try:
        yield World(home, config, issuer, registry, owner, wallet, did_key_signer())
    finally:
        close_registry(registry)
        issuer.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One city for a whole test module (tests that change the city's keys use ``fresh_world``)."""
    yield from make_world(tmp_path_factory.mktemp("world"))


@pytest.fixture
def fresh_world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path / "home")


def now() -> datetime:
    return datetime.now(UTC)
