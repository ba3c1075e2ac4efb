"""A batch issuance process for the crash test: ``python -m tests.status._batch_worker CSV OUT RESULT RECORDS``.

It issues ``vc+jwt`` credentials with status entries from a fixed did:key through the real batch engine
and records; a row whose ``birthDate`` is not a past date is rejected. After each row it prints the row
number, so the test can kill it at a chosen point.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime

from kaga_vc.did.key import did_key_from_public_key
from kaga_vc.errors import MALFORMED_VALUE_ERROR, InputError
from kaga_vc.issuer.batch import Issued, run_batch
from kaga_vc.issuer.records import IssuanceStore
from kaga_vc.keys import KeySigner, KeyType, PrivateKey
from kaga_vc.proofs.jose import sign_vc_jwt
from kaga_vc.status import StatusLists

SEED = bytes(range(32))
BASE_URL = "https://city.kaga.example/status"


def main(csv_path: str, out_dir: str, result_path: str, records_url: str) -> None:
    key = PrivateKey.from_bytes(KeyType.ED25519, SEED)
    did = did_key_from_public_key(key.public_key)
    signer = KeySigner(key, f"{did}#{did.split(':')[-1]}")
    store = IssuanceStore.open(records_url)
    lists = StatusLists(store, BASE_URL)

    def issue_one(row: Mapping[str, str]) -> Issued:
        try:
            born = date.fromisoformat(row["birthDate"])
        except (KeyError, ValueError):
            raise InputError(MALFORMED_VALUE_ERROR, "birthDate is not a date") from None
        if born >= date.today():
            raise InputError(MALFORMED_VALUE_ERROR, "birthDate is in the future")
        entries = lists.allocate_entries()
        credential_id = f"urn:uuid:{uuid.uuid4()}"
        credential = {
            "@context": ["https://www.w3.org/ns/credentials/v2"], "id": credential_id,
            "type": ["VerifiableCredential", "ResidencyCredential"], "issuer": did,
            "credentialSubject": {"id": row["subject"], "name": row["name"], "birthDate": row["birthDate"]},
            "credentialStatus": [e.to_credential_status() for e in entries],
        }
        return Issued(credential_id, "ResidencyCredential", row["subject"], entries[0].list_id, entries[0].index,
                      "vc+jwt", "batch", datetime.now(UTC), sign_vc_jwt(credential, signer), "jwt")

    def on_row(number: int, outcome: str) -> None:
        sys.stdout.write(f"{number} {outcome}\n")
        sys.stdout.flush()

    summary = run_batch(csv_path, issue_one, result_path, store, out_dir=out_dir, progress=False, on_row=on_row)
    store.close()
    sys.stdout.write(f"done {summary.issued} {summary.already_issued} {summary.rejected}\n")


if __name__ == "__main__":
    main(*sys.argv[1:5])
