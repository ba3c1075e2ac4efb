"""Two real ``kaga-vc serve`` processes (TLS): the city's issuer and a shop's verifier, and a resident's wallet.

The issuer serves OpenID4VCI for a city on its own embedded chain; the verifier serves OpenID4VP, KVP1
and ``/shop`` with a trust bundle read from that chain (written after the first issuance, so it holds
the status list the credentials point to).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from kaga_vc.issuer.offers import OfferStore
from tests.server._harness import PASSWORD, Server, start_server

FAST = 2**10
KYC = {"fullName": "加賀 花子", "fullNameKana": "カガ ハナコ", "birthDate": "1990-04-01", "gender": "female",
       "evidence": ["myNumberCardPublicKey"]}
RESIDENCY = {"fullName": "加賀 花子", "fullNameKana": "カガ ハナコ", "birthDate": "1990-04-01",
             "address": "石川県 加賀市 大聖寺南町 ニ41", "residentSince": "2015-04-01", "evidence": ["residenceCard"]}


@dataclass
class World:
    issuer_dir: Path
    verifier_dir: Path
    issuer: Server
    verifier: Server
    bundle_path: Path

    @property
    def city_home(self) -> Path:
        return self.issuer_dir / "home"

    def session(self) -> requests.Session:
        session = requests.Session()
        session.verify = str(self.issuer.cert)
        session.trust_env = False  # else $REQUESTS_CA_BUNDLE wins over session.verify
        return session

    def offer(self, kind: str = "kyc", claims: dict[str, Any] | None = None, **kw: Any) -> Any:
        from kaga_vc.issuer.openid4vci import create_offer
        from kaga_vc.issuer.records import IssuanceStore

        with IssuanceStore.open(None, home=self.city_home) as records:
            return create_offer(OfferStore(records.engine), self.issuer.base_url, kind,
                                claims or (KYC if kind == "kyc" else RESIDENCY), staff="counter-1", **kw)

    def write_bundle(self) -> str:
        """Sign a bundle from the city's chain (histories, status lists, schemas) for the verifier."""
        from kaga_vc.credentials import issue_credential
        from kaga_vc.credentials.kaga import CredentialKind, load_schema
        from kaga_vc.issuer import city_bundle_signer, open_city_issuer
        from kaga_vc.registry import close_registry, ethr_method, open_embedded
        from kaga_vc.verifier import TrustedIssuer, sync_bundle

        with open_city_issuer(PASSWORD, home=self.city_home) as city:
            signer = city.ed25519_signer
            lists = dict(city.status.build_all(lambda c: issue_credential(c, signer=signer), issuer=city.did))
            registry = open_embedded(self.city_home)
            try:
                types = tuple(k.type_name for k in CredentialKind)
                bundle = sync_bundle(ethr_method(registry), signer=city_bundle_signer(PASSWORD, home=self.city_home),
                                     issuers=[TrustedIssuer(city.did, types)], status_lists=lists,
                                     schemas={k.type_name: load_schema(k) for k in CredentialKind})
            finally:
                close_registry(registry)
        self.bundle_path.write_text(bundle.token + "\n", encoding="utf-8")
        return city.did

    def shop_request(self, check: str = "age") -> dict[str, Any]:
        answer = self.session().post(self.verifier.base_url + "/openid4vp/requests", json={"check": check},
                                     verify=str(self.verifier.cert))
        assert answer.status_code == 201, answer.text
        made: dict[str, Any] = answer.json()
        return made

    def result(self, handle: str) -> dict[str, Any]:
        found: dict[str, Any] = requests.get(f"{self.verifier.base_url}/openid4vp/requests/{handle}",
                                             verify=str(self.verifier.cert), timeout=10).json()
        return found

    def access_log(self) -> list[Any]:
        """The verifier's access-log entries (as recorded by the server)."""
        from kaga_vc.accesslog import AccessLog

        if not (self.verifier_dir / "home" / "accesslog.db").exists():
            return []
        with AccessLog.open(str(self.verifier_dir / "home" / "accesslog.db"), log_key=None) as log:
            return list(log.entries())


def make_world(base: Path, verifier_args: tuple[str, ...] = ()) -> Iterator[World]:
    from kaga_vc.issuer import init_city
    from kaga_vc.registry import close_registry, open_embedded

    issuer_dir, verifier_dir = base / "issuer", base / "verifier"
    issuer_dir.mkdir()
    verifier_dir.mkdir()
    config, _ = init_city(PASSWORD, home=issuer_dir / "home", scrypt_n=FAST)
    registry = open_embedded(issuer_dir / "home")
    _, stamp = registry.head()
    close_registry(registry)
    while time.time() < stamp + 1.05:  # the embedded chain runs ahead of the wall clock in bursts
        time.sleep(0.05)
    bundle_path = verifier_dir / "bundle.jwt"
    issuer = start_server(["--role", "issuer", "--city"], workdir=issuer_dir, name="issuer")
    for name in ("cert.pem", "key.pem"):  # one certificate for both: the wallet trusts exactly it
        shutil.copy2(issuer_dir / name, verifier_dir / name)
    try:
        verifier = start_server(["--role", "verifier", "--bundle", str(bundle_path), *verifier_args], workdir=verifier_dir,
                                name="verifier",  # the shop pins the city (no trust in any city)
                                env={"KAGA_VC_SCRYPT_N": str(FAST), "KAGA_VC_TRUSTED_CITY": config.did})
        try:
            yield World(issuer_dir, verifier_dir, issuer, verifier, bundle_path)
        finally:
            verifier.terminate()
    finally:
        issuer.terminate()
