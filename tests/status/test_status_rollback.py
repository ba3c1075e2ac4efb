"""Issue 13: a verifier that reads status lists from a directory refuses an older list than one it saw.

Replaying the published directory from before a revocation made the revoked credential verify again;
:class:`StatusListMemory` (what ``kaga-vc verify --status-lists`` uses) refuses it with
``kaga:status-list-rollback``, like ``BundleMemory`` for bundles. Real signed lists, a real SQLite memory.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kaga_vc import verify_credential
from kaga_vc.cli._app import app
from kaga_vc.did import Resolver
from kaga_vc.errors import CREDENTIAL_REVOKED, STATUS_LIST_INVALID, STATUS_LIST_ROLLBACK
from kaga_vc.issuer.records import IssuanceStore
from kaga_vc.status import StatusListMemory, load_status_lists

from .conftest import Issuer
from .test_status_verify import NOW, City


@pytest.fixture
def sqlite_city(tmp_path: Path, issuer: Issuer) -> Iterator[City]:
    store = IssuanceStore.open(f"sqlite:///{tmp_path / 'records.sqlite3'}")
    try:
        yield City(store, issuer)
    finally:
        store.close()


def _publish(city: City, directory: Path, minutes: int) -> Path:
    city.lists.publish(f"{directory}/", city.issuer.sign, issuer=city.issuer.did, now=NOW + timedelta(minutes=minutes))
    return directory


def _verify(document: Any, resolver: Resolver, source: Any) -> Any:
    return verify_credential(document, resolver=resolver, status_source=source, now=NOW + timedelta(hours=1))


def test_the_list_from_before_the_revocation_is_refused(sqlite_city: City, resolver: Resolver, tmp_path: Path) -> None:
    cid, document = sqlite_city.issue()
    before = _publish(sqlite_city, tmp_path / "before", 0)
    sqlite_city.lists.revoke(cid, at=NOW)
    after = _publish(sqlite_city, tmp_path / "after", 5)
    # the attack: without memory, the old directory still says "not revoked"
    assert _verify(document, resolver, load_status_lists(before)).verified
    with StatusListMemory(tmp_path / "memory.sqlite3") as memory:
        result = _verify(document, resolver, memory.guard(load_status_lists(after)))
        assert result.codes == [CREDENTIAL_REVOKED]
        rolled_back = _verify(document, resolver, memory.guard(load_status_lists(before)))
        assert not rolled_back.verified and not rolled_back.could_not_check
        assert STATUS_LIST_ROLLBACK in rolled_back.codes
        # the newer list still works, again and again
        assert _verify(document, resolver, memory.guard(load_status_lists(after))).codes == [CREDENTIAL_REVOKED]
    with StatusListMemory(tmp_path / "memory.sqlite3") as reopened:  # durable across processes
        assert STATUS_LIST_ROLLBACK in _verify(document, resolver, reopened.guard(load_status_lists(before))).codes


def test_another_list_under_the_same_valid_from_is_refused(sqlite_city: City, resolver: Resolver,
                                                          tmp_path: Path) -> None:
    cid, document = sqlite_city.issue()
    first = _publish(sqlite_city, tmp_path / "first", 0)
    sqlite_city.lists.revoke(cid, at=NOW)
    fork = _publish(sqlite_city, tmp_path / "fork", 0)
    with StatusListMemory(tmp_path / "memory.sqlite3") as memory:
        assert _verify(document, resolver, memory.guard(load_status_lists(fork))).codes == [CREDENTIAL_REVOKED]
        assert STATUS_LIST_ROLLBACK in _verify(document, resolver, memory.guard(load_status_lists(first))).codes


def test_two_publications_in_one_second_are_ordered(sqlite_city: City, resolver: Resolver, tmp_path: Path) -> None:
    # a city may revoke and publish twice within a second: validFrom carries milliseconds, so the later
    # list is newer (it was refused as a fork when validFrom had whole seconds: seen in the whole suite)
    cid, document = sqlite_city.issue()
    first, second = tmp_path / "first", tmp_path / "second"
    sqlite_city.lists.publish(f"{first}/", sqlite_city.issuer.sign, issuer=sqlite_city.issuer.did,
                              now=NOW + timedelta(milliseconds=100))
    sqlite_city.lists.revoke(cid, at=NOW)
    sqlite_city.lists.publish(f"{second}/", sqlite_city.issuer.sign, issuer=sqlite_city.issuer.did,
                              now=NOW + timedelta(milliseconds=600))
    with StatusListMemory(tmp_path / "memory.sqlite3") as memory:
        assert _verify(document, resolver, memory.guard(load_status_lists(first))).verified
        assert _verify(document, resolver, memory.guard(load_status_lists(second))).codes == [CREDENTIAL_REVOKED]
        assert STATUS_LIST_ROLLBACK in _verify(document, resolver, memory.guard(load_status_lists(first))).codes


def test_a_list_that_does_not_verify_is_not_remembered(sqlite_city: City, resolver: Resolver, tmp_path: Path) -> None:
    _, document = sqlite_city.issue()
    good = _publish(sqlite_city, tmp_path / "good", 0)
    forged = _publish(sqlite_city, tmp_path / "forged", 60)
    for file in forged.rglob("*"):
        if file.is_file():  # a "newer" list whose bits were edited: its proof no longer holds
            data = json.loads(file.read_text())
            encoded = data["credentialSubject"]["encodedList"]
            data["credentialSubject"]["encodedList"] = encoded[:20] + ("B" if encoded[20] != "B" else "C") + encoded[21:]
            file.write_text(json.dumps(data))
    with StatusListMemory(tmp_path / "memory.sqlite3") as memory:
        assert STATUS_LIST_INVALID in _verify(document, resolver, memory.guard(load_status_lists(forged))).codes
        assert _verify(document, resolver, memory.guard(load_status_lists(good))).verified


def test_cli_verify_status_lists_refuses_a_rollback(sqlite_city: City, tmp_path: Path) -> None:
    cid, document = sqlite_city.issue()
    before = _publish(sqlite_city, tmp_path / "before", 0)
    sqlite_city.lists.revoke(cid, at=NOW)
    after = _publish(sqlite_city, tmp_path / "after", 5)
    credential = tmp_path / "credential.json"
    credential.write_text(json.dumps(document))
    env = {"KAGA_VC_HOME": str(tmp_path / "shop")}
    at = (NOW + timedelta(hours=1)).isoformat()
    runner = CliRunner()
    first = runner.invoke(app, ["verify", str(credential), "--status-lists", str(after), "--now", at, "--json"], env=env)
    assert first.exit_code == 1 and json.loads(first.stdout)["problems"][0]["code"] == CREDENTIAL_REVOKED
    shutil.rmtree(after)
    back = runner.invoke(app, ["verify", str(credential), "--status-lists", str(before), "--now", at, "--json"], env=env)
    assert back.exit_code == 1, back.output
    assert STATUS_LIST_ROLLBACK in [p["code"] for p in json.loads(back.stdout)["problems"]]
    assert (tmp_path / "shop" / "verifier" / "status-lists.sqlite3").stat().st_mode & 0o077 == 0
