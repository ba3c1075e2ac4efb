"""Access-log benchmark: durable appends, anchoring cost, inclusion-proof verification.

    python benchmarks/accesslog_bench.py                     # SQLite, PostgreSQL (a throw-away server), chain
    python benchmarks/accesslog_bench.py --appends 500 --sizes 10,1000

Each figure comes with a peer measured in the same run:
- appends: ``AccessLog.record`` (sign, seal to the subject, chain, commit) against a bare INSERT of a
  same-sized row with one commit each, on the same database settings (the durability floor); and
  grouped appends, ``AccessLog.record_many`` of 1,000 entries per transaction;
- anchoring: gas of one anchor transaction — a log's first tree head, which also commits its identity — (and per entry) on the embedded chain, against
  the gas of one registry ``setAttribute`` (what anchoring through DID attributes would cost);
- proofs: ``verify_inclusion`` against pymerkle's ``verify_inclusion`` on the same tree.
PostgreSQL needs initdb/postgres (Debian's postgresql package); it is skipped with a note otherwise.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kaga_vc.accesslog import AccessEntry, AccessLog, verify_inclusion
from kaga_vc.did import did_key_from_public_key
from kaga_vc.keys import KeySigner, KeyType, PrivateKey

LOG_KEY = os.urandom(32)


def party() -> tuple[PrivateKey, str, KeySigner]:
    key = PrivateKey.generate(KeyType.ED25519)
    did = did_key_from_public_key(key.public_key)
    return key, did, KeySigner(key, f"{did}#{did.rsplit(':', 1)[-1]}")


_, VERIFIER, SIGNER = party()
_, SUBJECT, _ = party()


def entry(subject: str | None = SUBJECT) -> AccessEntry:
    return AccessEntry(verifier=VERIFIER, subject=subject, purpose="hotel check-in", result="accepted",
                       credential_types=["KycCredential"], claims=["ageOver18"], location="Yamanaka Onsen",
                       verifier_category="lodging")


def appends(url: str, n: int, rounds: int = 10) -> tuple[float, float]:
    """(entries/s through AccessLog.record, rows/s of a bare INSERT+commit) on the same database.

    The two alternate in ``rounds`` slices of n/rounds appends each, so a change in the machine's load
    (it is shared) falls on both alike instead of on whichever ran second."""
    from sqlalchemy import text

    log = AccessLog.open(url, log_key=LOG_KEY, signer=SIGNER)
    log.record(entry())  # warm up (schema, keys)
    row = "x" * len(next(log.entries(0, 1)).leaf)
    with log.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_peer (id INTEGER PRIMARY KEY, body TEXT)"))
    step = max(1, n // rounds)
    ours = peer = 0.0
    i = 0
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(step):
            log.record(entry())
        ours += time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(step):
            with log.engine.begin() as conn:
                conn.execute(text("INSERT INTO bench_peer (id, body) VALUES (:i, :b)"), {"i": i, "b": row})
            i += 1
        peer += time.perf_counter() - start
    log.close()
    return rounds * step / ours, rounds * step / peer


def anchoring(home: Path, sizes: list[int]) -> list[dict[str, Any]]:
    from kaga_vc.registry import ChainSettings, key_attribute, open_embedded
    from kaga_vc.registry.anchor import open_anchor

    anchor = open_anchor(ChainSettings(home=home))
    rows = []
    try:
        for size in sizes:
            log = AccessLog.open(str(home / f"anchor-{size}.db"), log_key=LOG_KEY, signer=SIGNER)
            fill = time.perf_counter()
            remaining = size
            while remaining:  # bulk fill; entries without a subject: the gas does not depend on content
                step = min(remaining, 5000)
                log.record_many([entry(None) for _ in range(step)])
                remaining -= step
            fill = time.perf_counter() - fill
            start = time.perf_counter()
            batch = log.anchor(anchor)
            took = time.perf_counter() - start
            proof = log.proof(size // 2)
            held = next(log.entries(size // 2, size // 2 + 1))
            ours = _median(lambda h=held, p=proof: verify_inclusion(h, p, p.root), 300)
            from kaga_vc.accesslog.merkle import leaf_hash, root_from_path

            base, path = leaf_hash(held.leaf), [bytes.fromhex(p) for p in proof.path]
            bare = _median(lambda b=base, i=proof.index, n=size, q=path: root_from_path(b, i, n, q), 300)
            peer = _pymerkle_verify(log, size, size // 2)
            rows.append({"size": size, "gas": batch.gas_used, "gas_per_entry": batch.gas_used / size,
                         "anchor_s": took, "fill_s": fill, "path": len(proof.path), "verify_us": ours * 1e6, "path_us": bare * 1e6,
                         "pymerkle_us": peer * 1e6})
            log.close()
    finally:
        anchor.close()
    registry = open_embedded(home / "registry-peer")
    try:
        owner = PrivateKey.generate(KeyType.SECP256K1)
        from kaga_vc.keys import ethereum_address

        identity = ethereum_address(owner.public_key)
        attribute = key_attribute(PrivateKey.generate(KeyType.ED25519).public_key)
        first = registry.set_attribute(identity, *attribute, signer=owner).gas_used
        later = registry.set_attribute(identity, *attribute, signer=owner).gas_used
    finally:
        from kaga_vc.registry import close_registry

        close_registry(registry)
    for row in rows:
        row["attribute_gas"] = (first, later)
    return rows


def _pymerkle_verify(log: AccessLog, size: int, index: int) -> float:
    import pymerkle

    from kaga_vc.accesslog.merkle import leaf_hash

    tree = pymerkle.InmemoryTree(algorithm="sha256")
    leaves = [e.leaf for e in log.entries(0, size)]
    for leaf in leaves:
        tree.append_entry(leaf)
    proof = tree.prove_inclusion(index + 1, size)
    root = tree.get_root()
    base = leaf_hash(leaves[index])
    return _median(lambda: pymerkle.verify_inclusion(base, root, proof), 300)


def _median(func: Any, n: int) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def postgres_url() -> tuple[str, Any] | None:
    try:
        from tests._postgres import PostgresServer, find_postgres_bin, fresh_database
    except ImportError:
        return None
    bindir = find_postgres_bin()
    if bindir is None:
        return None
    server = PostgresServer(bindir)
    server.start()
    return fresh_database(server, "bench"), server


def grouped(url: str, n: int, group: int = 1000) -> float:
    """Entries/s through ``AccessLog.record_many``: ``group`` entries (each signed, sealed to its subject,
    chained) per transaction, ``n`` in all."""
    log = AccessLog.open(url, log_key=LOG_KEY, signer=SIGNER)
    log.record_many([entry() for _ in range(10)])  # warm up
    batches = [[entry() for _ in range(group)] for _ in range(max(1, n // group))]
    start = time.perf_counter()
    for batch in batches:
        log.record_many(batch)
    rate = sum(len(b) for b in batches) / (time.perf_counter() - start)
    log.close()
    return rate


def crypto_floor(n: int) -> float:
    """Entries/s of the bare per-entry cryptography of a sealed, signed entry, on one core: an Ed25519
    signature over a body-sized message (libsodium), a fresh X25519 key and the shared secret (libsodium),
    SHA-256 for the KDF and the record hash, AES-256-GCM over the subject data — no JSON, no database."""
    import hashlib

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from nacl.bindings import crypto_scalarmult, crypto_scalarmult_base, crypto_sign, crypto_sign_keypair

    _, secret = crypto_sign_keypair()
    recipient = crypto_scalarmult_base(os.urandom(32))
    body, payload = os.urandom(700), os.urandom(110)
    start = time.perf_counter()
    for _ in range(n):
        drawn = os.urandom(44)
        crypto_scalarmult_base(drawn[:32])
        cek = hashlib.sha256(crypto_scalarmult(drawn[:32], recipient)).digest()
        AESGCM(cek).encrypt(drawn[32:], payload, b"h" * 120)
        crypto_sign(body, secret)
        hashlib.sha256(body).digest()
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appends", type=int, default=1000)
    parser.add_argument("--sizes", default="10,1000,100000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="kaga-accesslog-bench-") as tmp:
        home = Path(tmp)
        print(f"durable appends, {args.appends} single-entry commits (sign Ed25519, seal JWE, chain, commit)")
        ours, peer = appends(str(home / "appends.db"), args.appends)
        print(f"  SQLite WAL FULL   {ours:8.0f} entries/s   bare INSERT+commit {peer:8.0f}/s   ratio {ours / peer:.2f}")
        print(f"  SQLite grouped    {grouped(str(home / 'grouped.db'), 4 * args.appends):8.0f} entries/s "
              "(record_many, 1000 entries per transaction)")
        print(f"  floor             {crypto_floor(4 * args.appends):8.0f} entries/s   the bare cryptography of a "
              "sealed, signed entry on one core (Ed25519 sign, X25519 key + agreement, AES-GCM, SHA-256)")
        pg = postgres_url()
        if pg is None:
            print("  PostgreSQL        skipped: no initdb/postgres on this machine")
        else:
            url, server = pg
            try:
                ours, peer = appends(url, args.appends)
                print(f"  PostgreSQL        {ours:8.0f} entries/s   bare INSERT+commit {peer:8.0f}/s   "
                      f"ratio {ours / peer:.2f}")
                print(f"  PostgreSQL grouped {grouped(url, 4 * args.appends):7.0f} entries/s "
                      "(record_many, 1000 entries per transaction)")
            finally:
                server.stop()
        print("anchoring on the embedded chain: one transaction per tree head (each log's first, which commits its identity)")
        rows = anchoring(home, sizes)
        first, later = rows[0]["attribute_gas"]
        print(f"  peer: one registry setAttribute costs {first} gas (first change of a DID) / {later} after")
        for r in rows:
            print(f"  {r['size']:>7} entries: gas {r['gas']:6d} per head,  {r['gas_per_entry']:10.2f} per entry; "
                  f"root+tx {r['anchor_s']:.2f} s; fill {r['fill_s']:.1f} s")
        print("inclusion-proof verification, median: the audit path from a leaf hash (as pymerkle's verify_inclusion) "
              "and verify_inclusion from the entry's JSON (JCS + leaf hash + path)")
        for r in rows:
            print(f"  {r['size']:>7} entries: path {r['path']:2d} hashes: {r['path_us']:6.1f} µs vs pymerkle "
                  f"{r['pymerkle_us']:6.1f} µs (ratio {r['path_us'] / r['pymerkle_us']:.2f}); "
                  f"from the entry {r['verify_us']:6.1f} µs")


if __name__ == "__main__":
    main()
