"""``kaga-vc demo``: the whole story on the embedded chain, explained step by step, on throw-away data.

The city sets up its did:ethr, proofs two residents and issues them credentials; a ryokan and a clinic
verify offline with their trust bundles, and every verification lands in the access log; a credential
is revoked and refused; the log is anchored on chain; a resident reads their own history with proofs;
the city exports open data. Each step prints the command that does it by hand (README, "The demo").
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from ._common import error_boundary, out_console

PASSWORD = "demo-password-not-for-production"
DEMO_SCRYPT_N = 2**12  # throw-away keystores: a small cost keeps the demo fast (real ones use the default)


@error_boundary
def demo(
    workdir: Path | None = typer.Option(None, "--workdir", file_okay=False,
                                        help="Keep the demo's files here, in a new run-N folder per run "
                                        "(default: a temporary folder, removed afterwards)."),
) -> None:
    """Run the whole kaga_vc story once on the embedded chain, explaining each step (under a minute).

    Example: kaga-vc demo --workdir kaga-demo
    """
    with tempfile.TemporaryDirectory(prefix="kaga-vc-demo-") as tmp:
        base = _fresh_run_dir(workdir) if workdir is not None else Path(tmp)
        if workdir is not None:
            out_console.print(f"[dim]files of this run: {base}[/]")
        started = time.monotonic()
        run_story(base)
        out_console.print(f"[green]demo complete[/] in {time.monotonic() - started:.1f} s")


def _fresh_run_dir(workdir: Path) -> Path:
    """A new ``run-N`` folder under ``workdir``: each run starts a new city, earlier runs stay readable."""
    workdir.mkdir(parents=True, exist_ok=True)
    number = 1 + max((int(p.name[4:]) for p in workdir.glob("run-*") if p.name[4:].isdigit()), default=0)
    while True:
        try:
            (run := workdir / f"run-{number}").mkdir()
            return run
        except FileExistsError:  # another demo took this number meanwhile
            number += 1


def _step(number: int, title: str, by_hand: str) -> None:
    out_console.rule(f"[bold]{number}. {title}")
    out_console.print(f"[dim]by hand: {by_hand}[/]", soft_wrap=True)


def _say(text: str) -> None:
    out_console.print(text, soft_wrap=True)


@contextmanager
def _chain(home: Path) -> Iterator[Any]:
    from ..registry import close_registry, open_embedded

    registry = open_embedded(home)
    try:
        yield registry
    finally:
        close_registry(registry)


def _wait_for_chain(registry: Any) -> None:
    """Let the wall clock pass the newest block's time (the embedded chain stamps blocks ahead in bursts)."""
    _, stamp = registry.head()
    while time.time() < stamp + 1.05:
        time.sleep(0.05)


def run_story(base: Path) -> None:
    """The story, step by step; everything lives under ``base`` (the city's home, wallets, logs)."""
    from ..accesslog import (
        AccessLog,
        answer_challenge,
        export_anonymized,
        load_or_create_log_key,
        read_history,
        verify_and_record,
    )
    from ..credentials import issue_credential
    from ..credentials.kaga import CredentialKind, load_schema
    from ..did import Resolver
    from ..holder import create_wallet
    from ..issuer import city_bundle_signer, init_city, open_city_issuer
    from ..keys import KeySigner, KeyType
    from ..registry import ChainSettings, ethr_method
    from ..registry.anchor import open_anchor
    from ..status import StatusLists
    from ..verifier import CredentialQuery, NonceStore, Policy, TrustedIssuer, create_request, sync_bundle

    home = base / "city-home"

    _step(1, "The city sets up its did:ethr on the embedded chain",
          "kaga-vc city init")
    config, _ = init_city(PASSWORD, home=home, scrypt_n=DEMO_SCRYPT_N)
    _say(f"city DID {config.did}\n  owner key (secp256k1) and assertion keys (Ed25519, secp256k1) in encrypted "
         f"keystores under {home.name}/city; keys and service endpoint published on the ERC-1056 registry")
    with _chain(home) as registry:
        document = Resolver({"ethr": ethr_method(registry)}).resolve(config.did).did_document
        _wait_for_chain(registry)
    _say(f"resolved: {len(document.get('verificationMethod', []))} verification methods, "
         f"service {document.get('service', [{}])[0].get('serviceEndpoint')}")

    _step(2, "Two residents make their wallets (did:key)",
          "kaga-vc wallet init")
    hanako = create_wallet(base / "hanako" / "wallet.json", PASSWORD, scrypt_n=DEMO_SCRYPT_N)
    taro = create_wallet(base / "taro" / "wallet.json", PASSWORD, scrypt_n=DEMO_SCRYPT_N)
    _say(f"Hanako {hanako.did}\nTaro   {taro.did}\n(each wallet keeps its key encrypted; the key never leaves it)")

    _step(3, "City hall proofs them and issues KYC credentials",
          "kaga-vc issue kyc --subject DID --name … --birth-date … --evidence myNumberCardPublicKey --out kyc.jwt")
    with open_city_issuer(PASSWORD, home=home) as city:
        lists = city.status
        if not isinstance(lists, StatusLists):  # a bug: init_city sets them up
            raise TypeError("the city issuer has no status lists")
        issued = {}
        for wallet, name, kana, birth in ((hanako, "加賀 花子", "カガ ハナコ", "1990-04-01"),
                                          (taro, "加賀 太郎", "カガ タロウ", "1958-11-03")):
            credential = city.issue("kyc", wallet.did, {"fullName": name, "fullNameKana": kana, "birthDate": birth,
                                                        "evidence": ["myNumberCardPublicKey"]},
                                    format="sd-jwt", staff="clerk-1")
            wallet.add(credential.document)
            issued[wallet.did] = credential
            _say(f"{name}: identity proofed with the My Number Card's public-key check (the number itself is never "
                 f"stored); KycCredential as SD-JWT (each claim selectively disclosable), with a status index in "
                 f"the city's revocation list; recorded as {credential.id}")

        def bundle() -> Any:
            signer = city.ed25519_signer
            documents = dict(lists.build_all(lambda c: issue_credential(c, signer=signer), issuer=config.did))
            types = tuple(kind.type_name for kind in CredentialKind)
            schemas = {kind.type_name: load_schema(kind) for kind in CredentialKind}
            with _chain(home) as registry:
                return sync_bundle(ethr_method(registry), signer=city_bundle_signer(PASSWORD, home=home),
                                   issuers=[TrustedIssuer(config.did, types)],
                                   status_lists=documents, schemas=schemas)

        _step(4, "A ryokan and a clinic sync the trust bundle online",
              "kaga-vc bundle sync --out trust-bundle.jwt")
        synced = bundle()
        _say(f"bundle signed by the city: its did:ethr history (block {synced.chain.get('block')}), status lists, "
             f"credential types and schemas — everything needed to verify with no network")

        ryokan, clinic = _business(KeyType.ED25519), _business(KeyType.P256)
        log_key = load_or_create_log_key(base / "accesslog.key")
        log = AccessLog.open(str(base / "accesslog.db"), log_key=log_key)
        policy = Policy(trusted_cities=(config.did,))
        nonces = NonceStore(base / "nonces.sqlite3")

        def visit(who: Any, business: KeySigner, purpose: str, claims: tuple[str, ...], where: str, category: str,
                  token: str) -> tuple[Any, Any]:
            request = create_request(signer=business, purpose=purpose, location=where,
                                     credentials=[CredentialQuery("KycCredential", claims)])
            answer = who.present(request.token)
            return verify_and_record(answer.compact, request=request.token, bundle=token, log=log, signer=business,
                                     policy=policy, nonce_store=nonces, verifier_category=category)

        try:
            _step(5, "Offline at the counter: ask and disclose only what is needed",
                  "kaga-vc request create --purpose 'hotel check-in' --claims KycCredential:ageOver18 --out req.jwt; "
                  "kaga-vc wallet present req.jwt --out resp.txt; kaga-vc verify resp.txt --request req.jwt "
                  "--bundle trust-bundle.jwt --category lodging")
            result, entry = visit(hanako, ryokan, "hotel check-in", ("ageOver18",), "Yamanaka Onsen ryokan, front desk",
                                  "lodging", synced.token)
            _say(f"ryokan: Hanako verified={result.verified}, saw {sorted(result.details['claims'])} "
                 f"(not her name nor birth date) → access-log entry {entry.seq}")
            result, entry = visit(taro, ryokan, "hotel check-in", ("ageOver18",), "Yamanaka Onsen ryokan, front desk",
                                  "lodging", synced.token)
            _say(f"ryokan: Taro verified={result.verified} → entry {entry.seq}")
            result, entry = visit(taro, clinic, "patient registration", ("fullName", "birthDate"),
                                  "Kaga city clinic, reception", "healthcare", synced.token)
            _say(f"clinic: Taro verified={result.verified}, saw {sorted(result.details['claims'])} "
                 f"→ access-log entry {entry.seq}")

            _step(6, "A credential is revoked and refused",
                  "kaga-vc status revoke CREDENTIAL_ID --staff clerk-2; kaga-vc bundle sync --out trust-bundle.jwt")
            lists.revoke(issued[taro.did].id, staff="clerk-2")
            fresh = bundle()
            result, entry = visit(taro, clinic, "patient registration", ("fullName", "birthDate"),
                                  "Kaga city clinic, reception", "healthcare", fresh.token)
            _say(f"clinic: Taro verified={result.verified}, reason {result.codes[0]} → entry {entry.seq} "
                 "(refusals are logged too)")
            result, entry = visit(hanako, ryokan, "hotel check-in", ("ageOver18",), "Yamanaka Onsen ryokan, front desk",
                                  "lodging", fresh.token)
            _say(f"ryokan: Hanako again, verified={result.verified} → entry {entry.seq}")
        finally:
            nonces.close()

    _step(7, "The access log is anchored on chain",
          "kaga-vc log anchor; kaga-vc log verify")
    anchor = open_anchor(ChainSettings(home=home))
    try:
        batch = log.anchor(anchor)
        report = log.verify(anchorer=anchor)
        _say(f"{batch.size} entries → Merkle root {batch.root[:16]}… in block {batch.block_number} "
             f"(contract {batch.contract}, gas {batch.gas_used}); on chain: the log id, the root, the range")
        _say(f"log verify: {'verified' if report.ok else report.findings} — signatures, hash chain, root on chain")

        _step(8, "A resident reads her own access history, with proofs",
              "kaga-vc log my-history --wallet hanako/wallet.json")
        challenge = log.create_challenge()
        did, entries = log.subject_history(answer_challenge(challenge, did=hanako.did, signer=hanako.signer))
        for item in read_history(did, entries, hanako.signer.key, anchorer=anchor):
            _say(f"  {item.time} {item.verifier_category}: {item.location} — {item.purpose}; disclosed "
                 f"{', '.join(item.claims)}; {item.result}; proof checked against block {item.anchor_block}")
        _say(f"{len(entries)} entries, hers only: the log finds them by a keyed index, and only her key opens them")
    finally:
        anchor.close()

    _step(9, "The city exports anonymised open data",
          "kaga-vc log export --anonymized --k 2 --out open-data/")
    export = export_anonymized(log, base / "open-data", k=2, bucket="month")
    for cell in export.cells:
        _say(f"  {cell['period']} {cell['verifier_category']:<10} {cell['credential_type']:<14} "
             f"{cell['purpose']:<22} {cell['result']:<8} {cell['count']}")
    _say(f"{export.suppressed_cells} cells with fewer than 2 residents suppressed; files: "
         f"{', '.join(p.name for p in export.files)}")
    log.close()


def _business(key_type: Any) -> Any:
    """A business's verifier key and its did:key (a did:ethr works the same way)."""
    from ..did import did_key_from_public_key
    from ..keys import KeySigner, PrivateKey

    key = PrivateKey.generate(key_type)
    did = did_key_from_public_key(key.public_key)
    return KeySigner(key, f"{did}#{did.rsplit(':', 1)[-1]}")
