"""A process that appends to an access log until it is killed, printing each committed entry.

Usage: python -m tests.accesslog._appender URL VERIFIER_KEY_HEX SUBJECT_KEY_HEX
Prints ``seq hash`` after each ``record`` returned (the entry is committed then).
"""

from __future__ import annotations

import sys

from kaga_vc.accesslog import AccessEntry, AccessLog
from kaga_vc.did import did_key_from_public_key
from kaga_vc.keys import KeySigner, KeyType, PrivateKey

from .conftest import LOG_KEY


def main() -> None:
    url, verifier_hex, subject_hex = sys.argv[1:4]
    verifier = PrivateKey.from_bytes(KeyType.ED25519, bytes.fromhex(verifier_hex))
    subject = PrivateKey.from_bytes(KeyType.ED25519, bytes.fromhex(subject_hex))
    vdid, sdid = did_key_from_public_key(verifier.public_key), did_key_from_public_key(subject.public_key)
    signer = KeySigner(verifier, f"{vdid}#{vdid.split(':')[-1]}")
    log = AccessLog.open(url, log_key=LOG_KEY, signer=signer)
    print("ready", flush=True)
    while True:
        recorded = log.record(AccessEntry(verifier=vdid, subject=sdid, purpose="crash-test", result="accepted",
                                          credential_types=["KagaResidentCredential"], claims=["ageOver18"]))
        sys.stdout.write(f"{recorded.seq} {recorded.hash}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
