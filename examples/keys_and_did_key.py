"""Make a resident's key, keep it in an encrypted keystore, and resolve its did:key offline.

Run: python examples/keys_and_did_key.py [WORKDIR]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from kaga_vc.did import KeyMethod, Resolver, did_key_from_public_key
from kaga_vc.keys import KeyType, PrivateKey
from kaga_vc.keys.keystore import load_key, save_key


def main(workdir: Path) -> None:
    key = PrivateKey.generate(KeyType.ED25519)
    path = save_key(workdir / "resident.json", key, "resident password", overwrite=True)
    restored = load_key(path, "resident password")

    did = did_key_from_public_key(restored.public_key)
    resolver = Resolver({"key": KeyMethod()})
    document = resolver.resolve(did).did_document
    vm_id = document["authentication"][0]

    challenge = b"kaga ryokan check-in 2026-11-22"
    method, _ = resolver.dereference_verification_method(vm_id, relationship="authentication")
    method.public_key().verify(restored.sign(challenge), challenge)
    print(f"{did} signed and verified a challenge with {vm_id.split('#')[1][:12]}…")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp))
