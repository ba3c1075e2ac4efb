"""Subject access over HTTPS: the subject gets their entries with proofs and anchors; nobody else gets
anything; every call is itself recorded in the access log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kaga_vc.accesslog import (
    AccessEntry,
    AccessLog,
    Challenge,
    InclusionProof,
    answer_challenge,
    read_history,
)
from kaga_vc.accesslog._entry import RecordedEntry
from kaga_vc.accesslog._log import SubjectEntry
from kaga_vc.did import did_key_from_public_key
from kaga_vc.keys import KeySigner, KeyType, PrivateKey
from kaga_vc.keys.keystore import save_key

from ._harness import PASSWORD, Server, start_server

LOG_KEY = bytes(range(32))


@dataclass(frozen=True)
class Party:
    key: PrivateKey
    did: str
    signer: KeySigner


def party(key_type: KeyType = KeyType.ED25519) -> Party:
    key = PrivateKey.generate(key_type)
    did = did_key_from_public_key(key.public_key)
    return Party(key, did, KeySigner(key, f"{did}#{did.split(':')[-1]}"))


@dataclass(frozen=True)
class World:
    server: Server
    home: Path
    alice: Party
    bob: Party
    anchorer: Any


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from kaga_vc.registry.anchor import open_anchor
    from kaga_vc.registry.chains import ChainSettings

    workdir = tmp_path_factory.mktemp("subject")
    home = workdir / "home"
    home.mkdir()
    (home / "accesslog.key").write_text(LOG_KEY.hex())
    (home / "accesslog.key").chmod(0o600)
    ryokan, alice, bob = party(), party(), party(KeyType.P256)
    anchorer = open_anchor(ChainSettings(home=workdir / "chain"))
    with AccessLog.open(None, log_key=LOG_KEY, home=str(home), signer=ryokan.signer) as log:
        for i in range(3):
            log.record(AccessEntry(verifier=ryokan.did, subject=alice.did, purpose=f"stay-{i}", result="accepted",
                                   credential_types=["KycCredential"], claims=["ageOver18"]))
            log.record(AccessEntry(verifier=ryokan.did, subject=bob.did, purpose="bus fare", result="accepted",
                                   credential_types=["ResidencyCredential"], claims=["residentOfKaga"]))
        log.anchor(anchorer)
        log.record(AccessEntry(verifier=ryokan.did, subject=alice.did, purpose="late", result="refused",
                               reason="kaga:credential-revoked"))  # not anchored yet: no proof
    # the server is the ryokan: a log is one verifier's, and its subject-access calls are the ryokan's entries
    server = start_server(["--role", "verifier", "--verifier-key", str(verifier_keystore(workdir, ryokan))],
                          workdir=workdir)
    try:
        yield World(server, home, alice, bob, anchorer)
    finally:
        server.terminate()
        anchorer.close()


def verifier_keystore(directory: Path, who: Party) -> Path:
    """``who``'s key as the keystore a server's --verifier-key reads (a fast scrypt: a test keystore)."""
    path = directory / "verifier-key.json"
    save_key(path, who.key, PASSWORD, label="verifier", scrypt_n=2**10)
    return path


def _ask(world: World, who: Party, *, did: str | None = None) -> Any:
    with world.server.client() as client:
        challenge = client.post("/subject-access/challenge")
        assert challenge.status_code == 200, challenge.text
        assert challenge.headers["cache-control"] == "no-store"
        response = answer_challenge(Challenge.from_json(challenge.json()), did=did or who.did, signer=who.signer) \
            if did is None else _forged(challenge.json(), did, who)
        return client.post("/subject-access/history", json={"response": response})


def _forged(challenge: dict[str, Any], did: str, who: Party) -> str:
    """A response naming ``did`` but signed with ``who``'s key, its kid pointing into ``did``."""
    from kaga_vc.proofs.jose._jws import sign_compact

    header = {"alg": "EdDSA", "typ": "kaga-access-history+jwt", "kid": f"{did}#{did.split(':')[-1]}"}
    payload = {"iss": did, "aud": challenge["audience"], "nonce": challenge["nonce"], "iat": 0,
               "exp": challenge["expires"]}
    return sign_compact(header, payload, who.signer)


def _entries(body: dict[str, Any]) -> list[SubjectEntry]:
    out = []
    for item in body["entries"]:
        proof = item["proof"]
        out.append(SubjectEntry(RecordedEntry(item["seq"], item["hash"], item["record"]),
                                InclusionProof.from_json(proof) if proof else None))
    return out


def test_the_subject_gets_their_entries_with_proofs_checked_on_chain(world: World) -> None:
    answer = _ask(world, world.alice)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["subject"] == world.alice.did
    entries = _entries(body)
    assert len(entries) == 4
    items = read_history(world.alice.did, entries, world.alice.key, anchorer=world.anchorer)
    assert [i.purpose for i in items] == ["stay-0", "stay-1", "stay-2", "late"]
    assert all(i.proven and i.anchor_block is not None for i in items[:3]) and not items[3].proven
    assert items[0].claims == ("ageOver18",)
    assert len(body["anchors"]) == 1 and body["anchors"][0]["root"] == entries[0].proof.root  # type: ignore[union-attr]


def test_nobody_else_gets_anything(world: World) -> None:
    bob = _ask(world, world.bob)
    assert bob.status_code == 200
    assert {e["seq"] for e in bob.json()["entries"]}.isdisjoint({e["seq"] for e in _ask(world, world.alice).json()["entries"]})
    mallory = party()
    forged = _ask(world, mallory, did=world.alice.did)  # names alice, signed by mallory
    assert forged.status_code == 403
    assert set(forged.json()) == {"type", "title", "status", "code", "detail"}  # no entry, no count
    with world.server.client() as client:
        garbage = client.post("/subject-access/history", json={"response": "a.b.c"})
        assert garbage.status_code == 403 and "entries" not in garbage.json()
        challenge = Challenge.from_json(client.post("/subject-access/challenge").json())
        response = answer_challenge(challenge, did=world.alice.did, signer=world.alice.signer)
        assert client.post("/subject-access/history", json={"response": response}).status_code == 200
        replayed = client.post("/subject-access/history", json={"response": response})
        assert replayed.status_code == 403 and replayed.json()["code"] == "kaga:challenge-replayed"


def test_every_call_is_recorded_in_the_log(world: World) -> None:
    with AccessLog.open(None, log_key=LOG_KEY, home=str(world.home)) as log:
        before = len(log)
    assert _ask(world, world.bob).status_code == 200
    assert _ask(world, party(), did=world.bob.did).status_code == 403
    with AccessLog.open(None, log_key=LOG_KEY, home=str(world.home)) as log:
        new = list(log.entries(before))
        assert log.verify().ok
    assert [(e.body["purpose"], e.body["result"]) for e in new] == [("subject access", "accepted"),
                                                                   ("subject access", "refused")]
    assert new[1].body["reason"] and new[1].body.get("subjectIndex") is None  # refused: no subject proven
    assert new[0].body.get("subjectIndex")
    # the granted call shows in bob's own history (it is about him); the refused one names nobody
    body = _ask(world, world.bob).json()
    items = read_history(world.bob.did, _entries(body), world.bob.key)
    assert [i.purpose for i in items][-1] == "subject access"
