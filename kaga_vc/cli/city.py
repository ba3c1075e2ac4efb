"""``kaga-vc city``: set up the city as an issuer (keys in the keystore, its did:ethr on the chain)."""

from __future__ import annotations

from pathlib import Path

import typer

from ..credentials import parse_json
from ._anchoring import AnchorContractOption, open_city_anchor
from ._common import (
    JsonOption,
    PasswordFileOption,
    error_boundary,
    out_console,
    print_fields,
    print_json,
    read_password,
)
from .chain import ChainIdOption, RegistryOption, RpcUrlOption

app = typer.Typer(help="The city as an issuer: its keys and its did:ethr.", no_args_is_help=True)


@app.command("init")
@error_boundary
def init(
    service_endpoint: str = typer.Option(
        "https://city.kaga.ishikawa.jp", "--service-endpoint", help="The city's https:// service endpoint (LinkedDomains)."
    ),
    rpc_url: str = RpcUrlOption,
    registry: str = RegistryOption,
    chain_id: int = ChainIdOption,
    password_file: Path = PasswordFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Create the city's keys (encrypted, under $KAGA_VC_HOME/city) and its did:ethr; never replaces a city.

    The owner key (secp256k1) controls the DID; an Ed25519 and a secp256k1 assertion key and the
    service endpoint are published on the registry (the embedded chain unless --rpc-url names a node).
    Running it again prints the existing city. Example: kaga-vc city init --json
    """
    from ..issuer.service import city_dir, init_city

    password = read_password(password_file, confirm=True, prompt="Password for the city's keystores")
    config, created = init_city(password, service_endpoint=service_endpoint, rpc_url=rpc_url, registry=registry,
                                chain_id=chain_id)
    data = {**config.to_json(), "created": created, "directory": str(city_dir())}
    if as_json:
        print_json(data)
    else:
        out_console.print(("created " if created else "already set up: ") + config.did)
        out_console.print(f"assertion keys: {config.ed25519_method}, {config.secp256k1_method}")


@app.command("show")
@error_boundary
def show(as_json: bool = JsonOption) -> None:
    """Show the city's DID, verification methods, service endpoint and chain (public data only).

    Example: kaga-vc city show --json
    """
    from ..issuer.service import read_city

    config = read_city()
    if as_json:
        print_json(config.to_json())
    else:
        print_fields(config.to_json())


@app.command("rotate-key")
@error_boundary
def rotate_key(
    password_file: Path = PasswordFileOption,
    anchor: bool = typer.Option(True, "--anchor/--no-anchor", help="First anchor what was issued and not yet "
                                "anchored (default): after the revocation it could no longer be."),
    anchor_contract: str = AnchorContractOption,
    records: str = typer.Option(None, "--records", help="Issuance records database URL (else $KAGA_VC_RECORDS_URL, "
                                "else SQLite in $KAGA_VC_HOME)."),
    as_json: bool = JsonOption,
) -> None:
    """Replace the city's assertion keys: publish new ones on its did:ethr, switch issuance to them, revoke the old.

    First anchors every issuance still pending (a credential of the old key that was never anchored
    while it was valid is refused after the revocation, kaga:key-no-longer-valid); if that fails,
    nothing is rotated. Credentials issued before still verify (resolved at their issuance time, and
    anchored); run `kaga-vc status publish` and `kaga-vc bundle sync` afterwards so the status lists
    and the trust bundle carry the new signature and the retired keys' anchored digests.
    Runbook, including a compromised key: docs/key-rotation.md. Example: kaga-vc city rotate-key --json
    """
    from ..issuer.rotation import rotate_city_key
    from ..issuer.service import read_city

    config = read_city()  # a missing city is reported before asking for a password
    anchored = None
    if anchor:
        from ..accesslog.issuance import anchor_pending
        from ..issuer.records import IssuanceStore

        with IssuanceStore.open(records) as store:
            chain = open_city_anchor(config, anchor_contract)
            try:
                batch = anchor_pending(store, config.did, chain)
            finally:
                chain.close()
        anchored = batch.to_json() if batch is not None else {"anchored": True, "size": 0}
        if batch is not None:
            import time

            # the revocation must come in a later second than the anchor: the DID document at the
            # anchor's time must still hold the old key
            while time.time() < batch.anchor.anchored_at.timestamp() + 1:
                time.sleep(0.05)
    rotation = rotate_city_key(read_password(password_file))
    if as_json:
        print_json({**rotation.to_json(), "anchoredFirst": anchored})
    else:
        out_console.print(f"new assertion keys: {rotation.config.ed25519_method}, {rotation.config.secp256k1_method}")
        out_console.print("revoked: " + ", ".join(rotation.retired))


@app.command("bundle-key")
@error_boundary
def bundle_key(
    rotate: bool = typer.Option(False, "--rotate", help="Publish a new bundle key, certify it with the owner key, "
                                "switch bundle signing to it and revoke the old one on the DID."),
    valid_for: int = typer.Option(365 * 86400, "--valid-for", help="Seconds the new key's certificate (and its "
                                  "on-chain attribute) stays valid; rotate before it ends."),
    password_file: Path = PasswordFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Show, or with --rotate replace, the key that signs the city's trust bundles (not the owner key).

    The owner key certifies the bundle key (verifiers check that certificate offline against the city's
    DID) and publishes it as a KagaBundleKey service on the city's did:ethr. --rotate writes the new
    keystore before publishing anything and keeps the old ones; run `kaga-vc bundle sync` afterwards.
    Verifiers that saw a bundle of the new key refuse the old one (kaga:bundle-key-retired).
    Example: kaga-vc city bundle-key --rotate --json
    """
    from datetime import timedelta

    from ..errors import MALFORMED_VALUE_ERROR, InputError
    from ..issuer.service import read_city
    from ..verifier.bundle_key import read_certificate

    config = read_city()  # a missing city is reported before asking for a password
    if not rotate:
        current = (read_certificate(config.bundle_key_certificate, config.did).summary()
                   if config.bundle_key_certificate else None)
        data = {"did": config.did, "bundleKey": current, "keystore": config.bundle_key_file or None}
        if as_json:
            print_json(data)
        else:
            print_fields(data)
        return
    if valid_for <= 0:
        raise InputError(MALFORMED_VALUE_ERROR, "--valid-for must be a positive number of seconds")
    from ..issuer.bundle_keys import rotate_bundle_key

    rotation = rotate_bundle_key(read_password(password_file), valid_for=timedelta(seconds=valid_for))
    if as_json:
        print_json(rotation.to_json())
    else:
        out_console.print(f"new bundle key: {rotation.certificate.key_id} "
                          f"(certified until {rotation.certificate.summary()['validUntil']})")
        if rotation.retired:
            out_console.print(f"retired: {rotation.retired}")
        out_console.print("run `kaga-vc bundle sync` to sign a bundle with it")


@app.command("anchor")
@error_boundary
def anchor(
    files: list[Path] = typer.Argument(None, exists=True, dir_okay=False, help="Credentials the city issued (files)."),
    pending: bool = typer.Option(False, "--pending", help="Anchor, from the issuance records, everything issued and "
                                 "not yet anchored (after a failed or skipped anchor); no files needed."),
    anchor_contract: str = AnchorContractOption,
    records: str = typer.Option(None, "--records", help="Issuance records database URL (else $KAGA_VC_RECORDS_URL, "
                                "else SQLite in $KAGA_VC_HOME)."),
    as_json: bool = JsonOption,
) -> None:
    """Anchor an issuance batch on chain (Merkle root of the credentials' digests), and record it.

    With FILE…: those credentials, FILE.anchor.json written beside each. With --pending: what the
    issuance records hold as issued and never anchored (`issue` and `issue batch` anchor by themselves;
    this catches up after a failure or --no-anchor; safe to run on a schedule, nothing pending is a no-op).
    A credential whose signing key the city later rotates away verifies only if it was anchored while
    the key was valid: offline through the trust bundle (`kaga-vc bundle sync` lists the anchored
    digests of retired keys), online with its proof (`kaga-vc verify FILE --embedded-chain --anchor-proof
    FILE.anchor.json`). Examples: kaga-vc city anchor issued/*.json; kaga-vc city anchor --pending --json
    """
    import json

    from .._files import write_atomically
    from ..accesslog.issuance import anchor_issued, anchor_pending
    from ..errors import MALFORMED_VALUE_ERROR, InputError
    from ..issuer.records import IssuanceStore
    from ..issuer.service import read_city

    if bool(files) == pending:
        raise InputError(MALFORMED_VALUE_ERROR, "name the credential files to anchor, or --pending (not both)")
    config = read_city()
    documents: list[str | dict[str, object]] = []
    for path in files or ():
        text = path.read_text(encoding="utf-8")
        documents.append(parse_json(text) if text.lstrip().startswith("{") else text.strip())
    with IssuanceStore.open(records) as store:
        chain = open_city_anchor(config, anchor_contract)
        try:
            if pending:
                batch = anchor_pending(store, config.did, chain)
                remaining = store.count_pending()
            else:
                proofs = anchor_issued(documents, config.did, chain, store)
        finally:
            chain.close()
    if pending:
        data = {"anchored": True, "size": 0, "pending": remaining} if batch is None else \
            {**batch.to_json(), "pending": remaining}
        if as_json:
            print_json(data)
        elif batch is None:
            out_console.print("nothing pending: every recorded issuance is anchored")
        else:
            out_console.print(f"anchored {batch.anchor.tree_size} pending credential(s) in block "
                              f"{batch.anchor.block_number}, root {batch.anchor.root}")
        return
    written = []
    for path, proof in zip(files, proofs, strict=True):
        target = path.with_name(path.name + ".anchor.json")
        write_atomically(target, json.dumps(proof.to_json(), indent=2) + "\n", mode=0o644)
        written.append(str(target))
    if as_json:
        print_json({"root": proofs[0].root.hex(), "size": len(proofs), "contract": proofs[0].contract,
                    "proofs": written})
    else:
        out_console.print(f"anchored {len(proofs)} credential(s), root {proofs[0].root.hex()}")


@app.command("anchor-proof")
@error_boundary
def anchor_proof(
    files: list[Path] = typer.Argument(..., exists=True, dir_okay=False, help="Credentials the city issued (files)."),
    records: str = typer.Option(None, "--records", help="Issuance records database URL (else $KAGA_VC_RECORDS_URL, "
                                "else SQLite in $KAGA_VC_HOME)."),
    as_json: bool = JsonOption,
) -> None:
    """Write FILE.anchor.json for credentials already anchored, rebuilt from the issuance records.

    For the holder who keeps the proof with the credential (`kaga-vc verify FILE --embedded-chain
    --anchor-proof FILE.anchor.json`). A credential never anchored: kaga:anchor-not-found (run
    `kaga-vc city anchor --pending` first). Example: kaga-vc city anchor-proof issued/row-000001.jwt
    """
    import json

    from .._files import write_atomically
    from ..accesslog.issuance import proof_from_records
    from ..errors import ANCHOR_NOT_FOUND, AccessLogError
    from ..issuer.records import IssuanceStore

    written = []
    with IssuanceStore.open(records) as store:
        proofs = []
        for path in files:
            text = path.read_text(encoding="utf-8")
            proof = proof_from_records(store, parse_json(text) if text.lstrip().startswith("{") else text.strip())
            if proof is None:
                raise AccessLogError(ANCHOR_NOT_FOUND, f"{path.name} is in no recorded issuance anchor; "
                                     "run `kaga-vc city anchor --pending` (or `kaga-vc city anchor FILE`)")
            proofs.append((path, proof))
    for path, proof in proofs:
        target = path.with_name(path.name + ".anchor.json")
        write_atomically(target, json.dumps(proof.to_json(), indent=2) + "\n", mode=0o644)
        written.append(str(target))
    if as_json:
        print_json({"proofs": written})
    else:
        out_console.print(f"wrote {len(written)} proof(s)")
