"""did:ethr documents from event histories: pure, offline, no chain (kaga_vc.did.ethr)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from kaga_vc.did import DID, ResolutionOptions, Resolver
from kaga_vc.did.ethr import (
    DIDHistory,
    Erc1056Event,
    EthrMethod,
    HistorySource,
    build_document,
    fetch_history,
    parse_ethr_did,
    upgrade_legacy_document,
)
from kaga_vc.errors import HISTORY_MISSING, RegistryError, ResolutionError
from kaga_vc.keys import KeyType, PrivateKey, ethereum_address

ID = "0x" + "ab" * 20
DID_ = f"did:ethr:0x539:{ID}"
T0 = 1_800_000_000


def _b32(text: str) -> bytes:
    return text.encode().ljust(32, b"\x00")


def attr(block: int, name: str, value: bytes, valid_to: int, prev: int, *, ts: int | None = None, index: int = 0) -> Erc1056Event:
    return Erc1056Event("DIDAttributeChanged", ID, block, index, ts or T0 + block * 10, prev, name=_b32(name),
                        value=value, valid_to=valid_to)


def delegate(block: int, kind: str, who: str, valid_to: int, prev: int, *, index: int = 0) -> Erc1056Event:
    return Erc1056Event("DIDDelegateChanged", ID, block, index, T0 + block * 10, prev, name=_b32(kind), delegate=who,
                        valid_to=valid_to)


def owner(block: int, new: str, prev: int) -> Erc1056Event:
    return Erc1056Event("DIDOwnerChanged", ID, block, 0, T0 + block * 10, prev, owner=new)


class ListSource:
    """An Erc1056Source over a list of events, counting calls."""

    def __init__(self, events: list[Erc1056Event], chain_id: int = 1337) -> None:
        self.events = events
        self.calls = 0
        self._chain_id = chain_id

    @property
    def chain_id(self) -> int:
        return self._chain_id

    def changed(self, address: str) -> int:
        self.calls += 1
        mine = [e for e in self.events if e.identity.lower() == address.lower()]
        return max((e.block_number for e in mine), default=0)

    def events_at(self, address: str, block: int) -> list[Erc1056Event]:
        self.calls += 1
        return [e for e in self.events if e.block_number == block and e.identity.lower() == address.lower()]

    def block_timestamp(self, block: int) -> int:
        return T0 + block * 10


ED = bytes(range(32))
FAR = T0 + 10**6


def test_same_block_events_share_previous_change_and_all_are_applied() -> None:
    events = [
        attr(5, "did/svc/A", b"https://a.example", FAR, 0),
        attr(9, "did/svc/B", b"https://b.example", FAR, 5, index=0),
        attr(9, "did/pub/Ed25519/veriKey/base58", ED, FAR, 5, index=1),
        attr(9, "did/svc/C", b"https://c.example", FAR, 5, index=2),
    ]
    source = ListSource(events)
    history = fetch_history(source, ID)
    assert [e.block_number for e in history] == [5, 9, 9, 9]
    assert source.calls == 3  # changed + one events_at per block with changes
    doc, meta = build_document(DID_, history, chain_id=1337, now=T0 + 500)
    assert [s["type"] for s in doc["service"]] == ["A", "B", "C"]
    assert [s["id"].split("#")[1] for s in doc["service"]] == ["service-1", "service-2", "service-3"]
    assert doc["verificationMethod"][1]["publicKeyMultibase"].startswith("z6Mk")
    assert meta == {"versionId": "9", "updated": "2027-01-15T08:01:30Z"}


def test_missing_logs_for_a_previous_change_is_history_missing() -> None:
    events = [attr(9, "did/svc/B", b"x", FAR, 5)]  # block 5 has nothing
    with pytest.raises(RegistryError) as err:
        fetch_history(ListSource(events), ID)
    assert err.value.code == HISTORY_MISSING


def test_loops_in_previous_change_terminate() -> None:
    events = [attr(9, "did/svc/B", b"x", FAR, 9), attr(9, "did/svc/C", b"y", FAR, 12, index=1)]
    assert len(fetch_history(ListSource(events), ID)) == 2


def test_history_length_limit() -> None:
    events = [attr(b, "did/svc/S", b"x", FAR, b - 1 if b > 1 else 0) for b in range(1, 30)]
    with pytest.raises(ResolutionError) as err:
        fetch_history(ListSource(events), ID, max_changes=10)
    assert err.value.code == "notFound"


def test_non_utf8_names_are_skipped_but_walked() -> None:
    bad = Erc1056Event("DIDAttributeChanged", ID, 7, 0, T0 + 70, 3, name=b"\xff" * 32, value=b"x", valid_to=FAR)
    events = [attr(3, "did/svc/A", b"https://a.example", FAR, 0), bad]
    history = fetch_history(ListSource(events), ID)
    assert len(history) == 2
    doc, meta = build_document(DID_, history, chain_id=1337, now=T0 + 100, profile="legacy")
    assert meta["versionId"] == "3"
    assert len(doc["service"]) == 1


def test_version_time_expiry_and_revocation_at_the_same_block() -> None:
    d1 = "0x" + "11" * 20
    events = [
        delegate(2, "sigAuth", d1, T0 + 20 + 100, 0),  # valid 100 s from block 2
        delegate(4, "sigAuth", d1, T0 + 40, 2),  # revoked at block 4 (validTo = its own timestamp)
    ]
    at = lambda ts: build_document(DID_, events, chain_id=1337, now=ts, version_time=ts)
    doc, meta = at(T0 + 25)
    assert doc["authentication"][-1].endswith("#delegate-1")
    assert meta["nextVersionId"] == "4"
    doc, _ = at(T0 + 40)  # at the revocation block: the current profile does not list it
    assert all("#delegate" not in a for a in doc["authentication"])
    legacy, _ = build_document(DID_, events, chain_id=1337, now=T0 + 40, version_id=4, profile="legacy")
    assert legacy["authentication"][-1].endswith("#delegate-2")  # 11.1.3 still lists it there
    # expiry: the first delegation alone, resolved after its validTo
    doc, _ = build_document(DID_, events[:1], chain_id=1337, now=T0 + 121)
    assert all("#delegate" not in a for a in doc["authentication"])


def test_deactivation_empties_the_document() -> None:
    events = [attr(2, "did/svc/A", b"https://a.example", FAR, 0), owner(3, "0x" + "00" * 20, 2),
              attr(4, "did/svc/B", b"https://b.example", FAR, 3)]
    doc, meta = build_document(DID_, events, chain_id=1337, now=T0 + 100)
    assert meta["deactivated"] is True
    assert doc["verificationMethod"] == [] and doc["authentication"] == [] and "service" not in doc
    doc, meta = build_document(DID_, events, chain_id=1337, now=T0 + 20, version_id=2)
    assert "deactivated" not in meta and meta["nextVersionId"] == "3"


def test_owner_change_moves_the_controller_and_drops_controller_key() -> None:
    key = PrivateKey.generate(KeyType.SECP256K1).public_key
    address = ethereum_address(key)
    did = f"did:ethr:0x539:0x{key.raw.hex()}"
    new_owner = "0x" + "22" * 20
    events = [Erc1056Event("DIDOwnerChanged", address, 3, 0, T0, 0, owner=new_owner)]
    doc, _ = build_document(did, [], chain_id=1337, now=T0)
    assert doc["verificationMethod"][1]["publicKeyJwk"]["crv"] == "secp256k1"
    doc, _ = build_document(did, events, chain_id=1337, now=T0)
    assert len(doc["verificationMethod"]) == 1
    assert doc["verificationMethod"][0]["blockchainAccountId"].lower() == f"eip155:1337:{new_owner}"


@pytest.mark.parametrize("bad", [
    "did:ethr:0x1234", "did:ethr:mainnet:0x" + "g" * 40, "did:ethr:0x" + "ab" * 21,
    "did:ethr:0x02" + "00" * 32,  # 33 bytes, but not a point on secp256k1
    "did:ethr:bad net:0x" + "ab" * 20, "did:key:z6Mk",
])
def test_malformed_dids_are_invalid_did(bad: str) -> None:
    with pytest.raises(ResolutionError) as err:
        parse_ethr_did(bad)
    assert err.value.code in ("invalidDid",)


def test_unknown_network_and_address_without_changes() -> None:
    resolver = Resolver({"ethr": EthrMethod({"0x539": ListSource([])})})
    with pytest.raises(ResolutionError) as err:
        resolver.resolve(f"did:ethr:sepolia:{ID}")
    assert err.value.code == "unknownNetwork"
    result = resolver.resolve(DID_)
    assert result.did_document_metadata == {}
    assert [vm["id"] for vm in result.did_document["verificationMethod"]] == [f"{DID_}#controller"]


def test_version_options() -> None:
    method = EthrMethod({"0x539": ListSource([attr(2, "did/svc/A", b"a", FAR, 0)])})
    with pytest.raises(ResolutionError) as err:
        method.resolve(DID.parse(DID_), ResolutionOptions(version_id="12abc"))
    assert err.value.code == "invalidOptions"
    with pytest.raises(ResolutionError) as err:
        ResolutionOptions(version_id="3", version_time=datetime.now(UTC))
    assert err.value.code == "invalidOptions"
    with pytest.raises(ResolutionError) as err:
        method.resolve(DID.parse(DID_), ResolutionOptions(properties={"profile": "v2"}))
    assert err.value.code == "invalidOptions"


def test_history_export_resolves_offline_at_any_version(no_network: None) -> None:
    events = [attr(2, "did/pub/Ed25519/veriKey/base58", ED, FAR, 0), attr(4, "did/svc/A", b"https://a", FAR, 2),
              attr(6, "did/pub/Ed25519/veriKey/base58", ED, 0, 4)]
    method = EthrMethod({"0x539": ListSource(events)})
    history = method.history(DID_)
    data = json.loads(json.dumps(history.to_json()))
    restored = DIDHistory.from_json(data)
    assert restored == history
    offline = Resolver({"ethr": EthrMethod({"0x539": HistorySource(restored)})})
    online = Resolver({"ethr": method})
    for when in (T0 + 25, T0 + 45, T0 + 65):
        options = ResolutionOptions(version_time=datetime.fromtimestamp(when, UTC))
        assert offline.resolve(DID_, options).to_json() == online.resolve(DID_, options).to_json()
    assert history.resolve(ResolutionOptions(version_id="4")).did_document_metadata["versionId"] == "4"
    with pytest.raises(ResolutionError):
        DIDHistory.from_json({"format": "something else"})


def test_upgraded_legacy_keys_are_usable() -> None:
    from kaga_vc.did import DIDDocument

    ed = PrivateKey.generate(KeyType.ED25519).public_key
    secp = PrivateKey.generate(KeyType.SECP256K1).public_key
    x = PrivateKey.generate(KeyType.X25519).public_key
    p256 = PrivateKey.generate(KeyType.P256).public_key
    from kaga_vc._encoding import multibase_decode

    events = [attr(1, "did/pub/Ed25519/veriKey/base58", ed.raw, FAR, 0),
              attr(2, "did/pub/Secp256k1/veriKey/hex", secp.raw, FAR, 1),
              attr(3, "did/pub/X25519/enc/base64", x.raw, FAR, 2),
              attr(4, "did/pub/Multikey/veriKey", multibase_decode(p256.to_multikey()), FAR, 3)]
    legacy, _ = build_document(DID_, events, chain_id=1337, now=T0, profile="legacy")
    current, _ = build_document(DID_, events, chain_id=1337, now=T0)
    upgraded = upgrade_legacy_document(legacy)
    for doc in (upgraded, current):
        keys = [vm.public_key() for vm in DIDDocument(doc).verification_methods()[1:]]
        assert keys == [ed, secp, x, p256]
    assert upgraded["verificationMethod"] == current["verificationMethod"]


def test_did_ethr_does_not_import_the_registry_or_web3() -> None:
    code = ("import sys, kaga_vc.did.ethr; bad=[m for m in sys.modules if m.split('.')[0] in "
            "('web3','eth_tester','eth','eth_account','eth_abi') or m.startswith('kaga_vc.registry')]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_reference_vector_ed25519_attribute_in_both_profiles() -> None:
    # ethr-did-resolver's own test (PR #106): this key, written as did/pub/Ed25519/veriKey/base58,
    # appears as publicKeyBase58 DV4G2kpBKjE6zxKor7Cj21iL9x9qyXb6emqjszBXcuhz
    raw = bytes.fromhex("b97c30de767f084ce3080168ee293053ba33b235d7116a3263d29f1450936b71")
    events = [attr(1, "did/pub/Ed25519/veriKey/base58", raw, FAR, 0)]
    legacy, _ = build_document(DID_, events, chain_id=1337, now=T0, profile="legacy")
    assert legacy["verificationMethod"][1] == {
        "id": f"{DID_}#delegate-1", "type": "Ed25519VerificationKey2018", "controller": DID_,
        "publicKeyBase58": "DV4G2kpBKjE6zxKor7Cj21iL9x9qyXb6emqjszBXcuhz",
    }
    current, _ = build_document(DID_, events, chain_id=1337, now=T0)
    vm = current["verificationMethod"][1]
    assert vm["type"] == "Ed25519VerificationKey2020"
    from kaga_vc._encoding import multibase_decode

    assert multibase_decode(vm["publicKeyMultibase"]) == b"\xed\x01" + raw
    assert current["@context"] == ["https://www.w3.org/ns/did/v1",
                                   "https://w3id.org/security/suites/secp256k1recovery-2020/v2",
                                   "https://w3id.org/security/suites/ed25519-2020/v1"]
