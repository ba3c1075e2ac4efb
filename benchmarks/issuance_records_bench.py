"""Issuance records and status list timings, each beside a bare peer in the same run (run on demand).

    python benchmarks/issuance_records_bench.py [--n 2000] [--postgres-url URL]

* record + allocate: ``StatusLists.allocate_entries`` (a random index claimed durably) and
  ``IssuanceStore.record_issued`` per credential — two committed transactions — on SQLite (WAL,
  synchronous=FULL) and PostgreSQL (a throw-away server started here, as the tests do, unless
  ``--postgres-url`` names one); the peer is the same two single-row INSERT transactions through the
  bare driver (sqlite3 / psycopg) with the same durability settings;
* a 131,072-entry Bitstring Status List with 5 % of the bits set: encode (GZIP + base64url), decode and
  read one bit, beside the bare ``gzip``/``base64`` round trip of the same bytes;
* a status check in verification: ``verify_credential`` of an ``eddsa-rdfc-2022`` credential with its
  two status lists checked (each list credential verified on first use, then taken from the bounded
  cache keyed by its digest), beside the same verification without status.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kaga_vc import issue_credential, verify_credential
from kaga_vc.did import KeyMethod, Resolver, did_key_from_public_key
from kaga_vc.issuer.records import IssuanceStore
from kaga_vc.keys import KeySigner, KeyType, PrivateKey
from kaga_vc.status import MIN_ENTRIES, BitstringStatusList, MappingStatusListSource, StatusLists

BASE = "https://city.kaga.example/status"


def per_second(n: int, fn: Callable[[int], None]) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - start)


def timings(n: int, fn: Callable[[], object]) -> tuple[float, float]:
    fn()
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def store_rate(url: str, n: int, *, one_transaction: bool = False) -> float:
    with IssuanceStore.open(url) as store:
        lists = StatusLists(store, BASE)
        now = datetime.now(UTC)

        def one(i: int) -> None:
            if one_transaction:  # as CityIssuer.issue does: the claim and the record commit together
                with store.transaction() as conn:
                    entries = lists.allocate_entries(now=now, conn=conn)
                    store.record_issued(f"urn:uuid:one-{i}", "ResidencyCredential", f"did:key:z{i}",
                                        entries[0].list_id, entries[0].index, "staff", "dc+sd-jwt", now, conn=conn)
                return
            entries = lists.allocate_entries(now=now)
            store.record_issued(f"urn:uuid:bench-{i}", "ResidencyCredential", f"did:key:z{i}", entries[0].list_id,
                                entries[0].index, "staff", "dc+sd-jwt", now)

        return per_second(n, one)


def sqlite_peer_rate(path: Path, n: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE a (list TEXT, idx INTEGER, at TEXT, PRIMARY KEY (list, idx))")
    conn.execute("CREATE TABLE r (id TEXT PRIMARY KEY, type TEXT, subject TEXT, list TEXT, idx INTEGER, fmt TEXT,"
                 " staff TEXT, at TEXT, status TEXT)")
    rng = random.Random(1)

    def one(i: int) -> None:
        idx = rng.randrange(MIN_ENTRIES * 1000)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO a VALUES (?, ?, ?)", ("L", idx, "t"))
        conn.execute("COMMIT")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO r VALUES (?,?,?,?,?,?,?,?,?)", (f"urn:{i}", "T", "did", "L", idx, "f", "s", "t", "a"))
        conn.execute("COMMIT")

    rate = per_second(n, one)
    conn.close()
    return rate


def postgres_peer_rate(url: str, n: int) -> float:
    import psycopg

    rng = random.Random(1)
    with psycopg.connect(url, autocommit=False) as conn:
        conn.execute("CREATE TABLE peer_a (list TEXT, idx INTEGER, at TEXT, PRIMARY KEY (list, idx))")
        conn.execute("CREATE TABLE peer_r (id TEXT PRIMARY KEY, type TEXT, subject TEXT, list TEXT, idx INTEGER,"
                     " fmt TEXT, staff TEXT, at TEXT, status TEXT)")
        conn.commit()

        def one(i: int) -> None:
            idx = rng.randrange(MIN_ENTRIES * 1000)
            conn.execute("INSERT INTO peer_a VALUES (%s, %s, %s)", ("L", idx, "t"))
            conn.commit()
            conn.execute("INSERT INTO peer_r VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                         (f"urn:{i}", "T", "did", "L", idx, "f", "s", "t", "a"))
            conn.commit()

        return per_second(n, one)


def bitstring_bench(n: int) -> None:
    bits = BitstringStatusList()
    for i in random.Random(2).sample(range(MIN_ENTRIES), MIN_ENTRIES // 20):
        bits.set(i)
    encoded = bits.encode()
    raw = bits.to_bytes()
    print(f"\nBitstring Status List, {MIN_ENTRIES:,} entries, 5 % set (encodedList {len(encoded):,} chars):")
    rows = [
        ("encode (GZIP level 9 + base64url)", timings(n, bits.encode),
         timings(n, lambda: base64.urlsafe_b64encode(gzip.compress(raw, 9, mtime=0)))),
        ("decode + read one bit", timings(n, lambda: BitstringStatusList.decode(encoded).get(12345)),
         timings(n, lambda: gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))))),
    ]
    for name, (p50, p99), (peer50, _) in rows:
        print(f"  {name:36s} p50 {p50 * 1e3:7.3f} ms  p99 {p99 * 1e3:7.3f} ms   bare gzip/base64 {peer50 * 1e3:7.3f} ms"
              f"  ratio {p50 / peer50:4.2f}x")


def check_bench(n: int) -> None:
    key = PrivateKey.generate(KeyType.ED25519)
    did = did_key_from_public_key(key.public_key)
    signer = KeySigner(key, f"{did}#{did.split(':')[-1]}")
    resolver = Resolver({"key": KeyMethod()})
    with tempfile.TemporaryDirectory() as tmp, IssuanceStore.open(f"sqlite:///{tmp}/r.sqlite3") as store:
        lists = StatusLists(store, BASE)
        entries = lists.allocate_entries()
        vc = issue_credential({
            "@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:uuid:bench", "type": ["VerifiableCredential"],
            "issuer": did, "credentialSubject": {"id": "did:example:resident"},
            "credentialStatus": [e.to_credential_status() for e in entries]}, signer=signer)
        source = MappingStatusListSource(lists.build_all(lambda c: issue_credential(c, signer=signer), issuer=did))
        with_status = timings(n, lambda: verify_credential(vc, resolver=resolver, status_source=source))
        without = timings(n, lambda: verify_credential(vc, resolver=resolver))
    print("\nverify_credential (eddsa-rdfc-2022) with its two status lists checked (verified lists cached by digest):")
    print(f"  with status    p50 {with_status[0] * 1e3:6.2f} ms  p99 {with_status[1] * 1e3:6.2f} ms")
    print(f"  without status p50 {without[0] * 1e3:6.2f} ms  p99 {without[1] * 1e3:6.2f} ms"
          f"   ratio {with_status[0] / without[0]:4.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="credentials per store run")
    parser.add_argument("--postgres-url", default=None, help="an existing server (default: start one)")
    args = parser.parse_args()

    print(f"record + allocate, {args.n} credentials; two transactions (index, then record) and one (as"
          " CityIssuer.issue); the peer commits two bare INSERT transactions:")
    with tempfile.TemporaryDirectory() as tmp:
        ours = store_rate(f"sqlite:///{tmp}/records.sqlite3", args.n)
        single = store_rate(f"sqlite:///{tmp}/single.sqlite3", args.n, one_transaction=True)
        peer = sqlite_peer_rate(Path(tmp) / "peer.sqlite3", args.n)
    print(f"  SQLite (WAL, FULL)  {ours:8.0f} credentials/s   bare sqlite3 {peer:8.0f}/s   ratio {peer / ours:4.2f}x"
          f"   66,000 in {66000 / ours:5.1f} s")
    print(f"  SQLite, one txn     {single:8.0f} credentials/s   bare sqlite3 {peer:8.0f}/s   ratio {peer / single:4.2f}x"
          f"   66,000 in {66000 / single:5.1f} s")

    server = None
    url = args.postgres_url
    if url is None:
        from tests._postgres import PostgresServer, find_postgres_bin

        bindir = find_postgres_bin()
        if bindir is None:
            print("  PostgreSQL: not installed (scripts/test.sh installs it); skipped")
        else:
            server = PostgresServer(bindir)
            server.start()
            url = server.url
    try:
        if url is not None:
            ours = store_rate(url, args.n)
            single = store_rate(url, args.n, one_transaction=True)
            peer = postgres_peer_rate(url, args.n)
            print(f"  PostgreSQL          {ours:8.0f} credentials/s   bare psycopg {peer:8.0f}/s   ratio {peer / ours:4.2f}x"
                  f"   66,000 in {66000 / ours:5.1f} s")
            print(f"  PostgreSQL, one txn {single:8.0f} credentials/s   bare psycopg {peer:8.0f}/s   ratio {peer / single:4.2f}x"
                  f"   66,000 in {66000 / single:5.1f} s")
    finally:
        if server is not None:
            server.stop()

    bitstring_bench(200)
    check_bench(200)


if __name__ == "__main__":
    main()
