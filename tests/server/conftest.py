"""Fixtures of the server tests: keystores, an admin client, and a running ``kaga-vc serve`` over TLS."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kaga_vc.did import did_key_from_public_key
from kaga_vc.keys import KeySigner, KeyType, PrivateKey
from kaga_vc.keys.keystore import save_key
from kaga_vc.server import add_client

from ._harness import PASSWORD, Server, start_server

FAST_N = 2**10


@dataclass(frozen=True)
class Keys:
    directory: Path
    ed25519: Path
    p256: Path
    p384: Path
    ed25519_did: str
    p256_did: str
    p384_did: str
    tokens: Path
    secret: str  # the admin client's secret (client id "staff")


def _did(key: PrivateKey) -> str:
    return did_key_from_public_key(key.public_key)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    directory = tmp_path_factory.mktemp("server")
    made = {}
    for name, key_type in (("ed25519", KeyType.ED25519), ("p256", KeyType.P256), ("p384", KeyType.P384)):
        key = PrivateKey.generate(key_type)
        save_key(directory / f"{name}.json", key, PASSWORD, scrypt_n=FAST_N)
        made[name] = key
    tokens = directory / "admin-tokens.json"
    secret = add_client(tokens, PASSWORD, "staff", scrypt_n=FAST_N)
    return Keys(directory, directory / "ed25519.json", directory / "p256.json", directory / "p384.json",
                _did(made["ed25519"]), _did(made["p256"]), _did(made["p384"]), tokens, secret)


def issuer_args(keys: Keys) -> list[str]:
    return ["--issuer-key", f"eddsa={keys.ed25519}", "--issuer-key", f"p256={keys.p256}",
            "--issuer-key", f"p384={keys.p384}", "--issuer-key", f"bitstring={keys.ed25519}",
            "--status", "bitstring", "--admin-tokens", str(keys.tokens), "--no-city"]


@pytest.fixture(scope="module")
def server(keys: Keys) -> Iterator[Server]:
    running = start_server(issuer_args(keys), workdir=keys.directory)
    try:
        yield running
    finally:
        running.terminate()


def signer_of(path: Path) -> KeySigner:
    from kaga_vc.keys.keystore import load_key

    key = load_key(path, PASSWORD)
    did = _did(key)
    return KeySigner(key, f"{did}#{did.split(':')[-1]}")
