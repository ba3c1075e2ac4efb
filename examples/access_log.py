"""The access log on its own: record verifications, anchor them, tamper-check, a resident's history, open data.

Run: python examples/access_log.py WORKDIR   (WORKDIR holds the log, its key and the embedded chain)
The verifier's real entry point is ``verify_and_record`` (see examples/whole_story.py); here entries are
made directly, as a verifier that built its own ``AccessEntry`` would.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from kaga_vc.accesslog import (
    AccessEntry,
    AccessLog,
    answer_challenge,
    export_anonymized,
    load_or_create_log_key,
    read_history,
    verify_inclusion,
)
from kaga_vc.did import did_key_from_public_key
from kaga_vc.keys import KeySigner, KeyType, PrivateKey
from kaga_vc.registry import ChainSettings
from kaga_vc.registry.anchor import open_anchor


def did_key_signer(key: PrivateKey) -> KeySigner:
    did = did_key_from_public_key(key.public_key)
    return KeySigner(key, f"{did}#{did.rsplit(':', 1)[-1]}")


def main(workdir: Path) -> None:
    ryokan = did_key_signer(PrivateKey.generate(KeyType.ED25519))
    residents = [did_key_signer(PrivateKey.generate(KeyType.ED25519)) for _ in range(3)]
    ryokan_did = ryokan.key_id.split("#")[0]
    log = AccessLog.open(str(workdir / "accesslog.db"), log_key=load_or_create_log_key(workdir / "accesslog.key"),
                         signer=ryokan)
    for resident in residents:
        did = resident.key_id.split("#")[0]
        log.record(AccessEntry(verifier=ryokan_did, subject=did, purpose="hotel check-in", result="accepted",
                               credential_types=["KycCredential"], claims=["ageOver18"],
                               location="Yamanaka Onsen, front desk", verifier_category="lodging"))
    log.record(AccessEntry(verifier=ryokan_did, subject=None, purpose="hotel check-in", result="refused",
                           reason="PROOF_VERIFICATION_ERROR", verifier_category="lodging"))
    print(f"{len(log)} entries recorded, head {log.head()[1][:16]}…")

    anchor = open_anchor(ChainSettings(home=workdir))  # the embedded chain; deploys KagaAccessAnchor once
    try:
        batch = log.anchor(anchor)
        print(f"anchored {batch.size} entries in block {batch.block_number}: one transaction, gas {batch.gas_used}")
        report = log.verify(anchorer=anchor)
        print(f"log verify: {'ok' if report.ok else report.findings}")
        assert report.ok

        first = residents[0]
        did = first.key_id.split("#")[0]
        subject, entries = log.subject_history(answer_challenge(log.create_challenge(), did=did, signer=first))
        for item in read_history(subject, entries, first.key, anchorer=anchor):
            print(f"her entry {item.seq}: {item.verifier_category} {item.purpose} {item.claims} "
                  f"(root on chain in block {item.anchor_block})")
        held = entries[0]
        assert held.proof is not None and verify_inclusion(held.entry.record, held.proof, held.proof.root)
    finally:
        anchor.close()

    export = export_anonymized(log, workdir / "open-data", k=3)
    print(f"open data: {len(export.cells)} cells, {export.suppressed_cells} suppressed (k=3)")
    log.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()))
