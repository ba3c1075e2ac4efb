"""``kaga-vc demo``: the whole story on the embedded chain, explained step by step, on throw-away data.

The city sets up its did:ethr, proofs two residents and issues them credentials; a ryokan, a sake shop
and a clinic verify offline with their trust bundles, and every verification lands in that shop's own
access log (a log is one verifier's); a credential is revoked and refused; each log is anchored on
chain; a resident reads her own history across the shops with proofs; the city exports open data
across the logs. Each step prints the command that does it by hand (README, "The demo").
"""

from __future__ import annotations

import json
import shlex
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from ._common import error_boundary, out_console

PASSWORD = "demo-password-not-for-production"
DEMO_SCRYPT_N = 2**12  # throw-away keystores: a small cost keeps the demo fast (real ones use the default)


@error_boundary
def demo(
    workdir: Path | None = typer.Option(None, "--workdir", file_okay=False,
                                        help="Keep the demo's files here, in a new run-N folder per run, ready to "
                                        "continue by hand (default: a temporary folder, removed afterwards)."),
) -> None:
    """Run the whole kaga_vc story once on the embedded chain, explaining each step (under a minute).

    With --workdir the run-N folder keeps every file (city home, wallets, credentials, requests,
    responses, QR codes, bundles, the access log, open data) and an env file: `. ./env` there and
    each printed "by hand" command runs as printed.
    Example: kaga-vc demo --workdir kaga-demo
    """
    with tempfile.TemporaryDirectory(prefix="kaga-vc-demo-") as tmp:
        base = _fresh_run_dir(workdir) if workdir is not None else Path(tmp)
        started = time.monotonic()
        run_story(base)
        out_console.print(f"[green]demo complete[/] in {time.monotonic() - started:.1f} s")
        if workdir is None:
            out_console.print("[dim]these files were temporary: run `kaga-vc demo --workdir kaga-demo` to keep a "
                              "folder you can continue in by hand[/]", soft_wrap=True)
        else:
            out_console.print(f"continue by hand: cd {shlex.quote(str(base))} && . ./env", soft_wrap=True)


def _fresh_run_dir(workdir: Path) -> Path:
    """A new ``run-N`` folder under ``workdir``: each run starts a new city, earlier runs stay readable."""
    workdir.mkdir(parents=True, exist_ok=True)
    number = 1 + max((int(p.name[4:]) for p in workdir.glob("run-*") if p.name[4:].isdigit()), default=0)
    while True:
        try:
            (run := workdir / f"run-{number}").mkdir()
            return run.resolve()
        except FileExistsError:  # another demo took this number meanwhile
            number += 1


# Every "by hand" command the demo prints, in order (tests/accesslog/test_demo_by_hand.py runs them in the
# kept run folder after `. ./env`); HINTS is reset by run_story.
HINTS: list[str] = []


def _step(number: int, title: str, *by_hand: str) -> None:
    out_console.rule(f"[bold]{number}. {title}")
    for command in by_hand:
        HINTS.append(command)
        out_console.print(Text("by hand: " + command, style="dim"), soft_wrap=True)


def _say(text: str) -> None:
    out_console.print(Text(text), soft_wrap=True)


def _q(value: str) -> str:
    return shlex.quote(value)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return path


def _yes_no(value: bool) -> str:
    return "accepted" if value else "refused"


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


def _env_file(base: Path, home: Path, city_did: str) -> Path:
    """``run-N/env``: what the CLI needs to continue in this folder (home, password file, city), at the
    ryokan's counter: its access log is the default one (each shop keeps its own: ``--log``)."""
    password_file = base / "password.txt"
    lines = [
        "# . ./env  (in this folder): the kaga-vc settings of this demo run, at the ryokan's counter",
        f"export KAGA_VC_HOME={_q(str(home))}",
        f"export KAGA_VC_ACCESSLOG_URL={_q(str(base / 'ryokan' / 'accesslog.db'))}",
        f"export KAGA_VC_ACCESSLOG_KEY={_q(str(base / 'ryokan' / 'accesslog.key'))}",
        f"export KAGA_VC_PASSWORD_FILE={_q(str(password_file))}",
        f'export KAGA_VC_PASSWORD="$(cat {_q(str(password_file))})"',
        f"export KAGA_VC_TRUSTED_CITY={_q(city_did)}",
        "export KAGA_VC_STAFF=clerk-1",
        "unset KAGA_VC_RPC_URL KAGA_VC_REGISTRY KAGA_VC_CHAIN_ID KAGA_VC_ANCHOR KAGA_VC_RECORDS_URL",
    ]
    return _write(base / "env", "\n".join(lines))


def run_story(base: Path) -> None:
    """The story, step by step; everything lives under ``base`` and stays there (see the final listing)."""
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
    from ..verifier.qr import qr_text, write_qr

    HINTS.clear()
    base.mkdir(parents=True, exist_ok=True)
    home = base / "home"
    password_file = _write(base / "password.txt", PASSWORD)
    password_file.chmod(0o600)

    _step(1, "The city sets up its did:ethr on the embedded chain", "kaga-vc city show")
    config, _ = init_city(PASSWORD, home=home, scrypt_n=DEMO_SCRYPT_N)
    _env_file(base, home, config.did)
    _say(f"city DID {config.did}\n  owner key (secp256k1) and assertion keys (Ed25519, secp256k1) in encrypted "
         f"keystores under home/city; keys and service endpoint published on the ERC-1056 registry\n"
         f"  every keystore of this run has the password {PASSWORD!s} (kept in password.txt; "
         f"`kaga-vc city init` made the same, asking for it)")
    with _chain(home) as registry:
        document = Resolver({"ethr": ethr_method(registry)}).resolve(config.did).did_document
        _wait_for_chain(registry)
    services = document.get("service") or [{}]
    _say(f"resolved: {len(document.get('verificationMethod', []))} verification methods, "
         f"service {services[0].get('serviceEndpoint', 'none')}")

    _step(2, "Two residents make their wallets (did:key)", "kaga-vc wallet list --wallet hanako/wallet.json")
    hanako = create_wallet(base / "hanako" / "wallet.json", PASSWORD, scrypt_n=DEMO_SCRYPT_N)
    taro = create_wallet(base / "taro" / "wallet.json", PASSWORD, scrypt_n=DEMO_SCRYPT_N)
    _say(f"Hanako {hanako.did}\nTaro   {taro.did}\n(each wallet keeps its key encrypted; the key never leaves "
         f"it; `kaga-vc wallet init --wallet hanako/wallet.json` made Hanako's)")

    people = ((hanako, "hanako", "加賀 花子", "カガ ハナコ", "1990-04-01"),
              (taro, "taro", "加賀 太郎", "カガ タロウ", "1958-11-03"))
    _step(3, "City hall proofs them and issues KYC credentials",
          f"kaga-vc issue kyc --subject {hanako.did} --name {_q(people[0][2])} --name-kana {_q(people[0][3])} "
          f"--birth-date {people[0][4]} --evidence myNumberCardPublicKey --out hanako/kyc-again.sd-jwt",
          "kaga-vc wallet add hanako/kyc-again.sd-jwt --wallet hanako/wallet.json",
          "kaga-vc issued list")
    with open_city_issuer(PASSWORD, home=home) as city:
        lists = city.status
        if not isinstance(lists, StatusLists):  # a bug: init_city sets them up
            raise TypeError("the city issuer has no status lists")
        issued = {}
        for wallet, folder, name, kana, birth in people:
            credential = city.issue("kyc", wallet.did, {"fullName": name, "fullNameKana": kana, "birthDate": birth,
                                                        "evidence": ["myNumberCardPublicKey"]},
                                    format="sd-jwt", staff="clerk-1")
            document_text = credential.document if isinstance(credential.document, str) else json.dumps(
                credential.document, ensure_ascii=False, indent=2)
            _write(base / folder / "kyc.sd-jwt", document_text)
            wallet.add(credential.document)
            issued[wallet.did] = credential
            _say(f"{name}: identity proofed with the My Number Card's public-key check (the number itself is never "
                 f"stored); KycCredential as SD-JWT (each claim selectively disclosable), with a status index in "
                 f"the city's revocation list; recorded as {credential.id}; kept in {folder}/kyc.sd-jwt")

        def bundle(out: Path) -> Any:
            signer = city.ed25519_signer
            documents = dict(lists.build_all(lambda c: issue_credential(c, signer=signer), issuer=config.did))
            types = tuple(kind.type_name for kind in CredentialKind)
            schemas = {kind.type_name: load_schema(kind) for kind in CredentialKind}
            with _chain(home) as registry:
                synced = sync_bundle(ethr_method(registry), signer=city_bundle_signer(PASSWORD, home=home),
                                     issuers=[TrustedIssuer(config.did, types)],
                                     status_lists=documents, schemas=schemas)
            _write(out, synced.token)
            return synced

        _step(4, "A ryokan, a sake shop and a clinic sync the trust bundle online",
              "kaga-vc bundle sync --out trust-bundle.jwt", "kaga-vc bundle show trust-bundle.jwt",
              "kaga-vc verify hanako/kyc.sd-jwt --bundle trust-bundle.jwt")
        synced = bundle(base / "trust-bundle.jwt")
        _say(f"bundle signed by the city: its did:ethr history (block {synced.chain.get('block')}), status lists, "
             f"credential types and schemas — everything needed to verify with no network; kept in trust-bundle.jwt")

        businesses = {name: _business(key_type, base / name / "verifier-key.json")
                      for name, key_type in (("ryokan", KeyType.ED25519), ("sake-shop", KeyType.ED25519),
                                             ("clinic", KeyType.P256))}
        # one access log per shop, with its own key: a log is one verifier's (its identity names it)
        logs = {name: AccessLog.open(str(base / name / "accesslog.db"),
                                     log_key=load_or_create_log_key(base / name / "accesslog.key"))
                for name in businesses}
        policy = Policy(trusted_cities=(config.did,))
        nonces = NonceStore(home / "verifier" / "nonces.sqlite3")
        visits: list[int] = []

        def visit(who: Any, folder: str, shop: str, purpose: str, claims: tuple[str, ...], where: str,
                  category: str, token: str) -> tuple[Any, Any]:
            business: KeySigner = businesses[shop]
            request = create_request(signer=business, purpose=purpose, location=where,
                                     credentials=[CredentialQuery("KycCredential", claims)])
            answer = who.present(request.token)
            visits.append(len(visits) + 1)
            stem = f"visit-{len(visits)}"
            _write(base / shop / f"{stem}-request.jwt", request.token)
            write_qr(request.token, base / shop / f"{stem}-request.png")
            _write(base / folder / f"{stem}-response.txt", answer.compact)
            write_qr(answer.compact, base / folder / f"{stem}-response.png")
            if len(visits) == 1:
                _say(f"the {shop}'s request as a QR code (also {shop}/{stem}-request.png; the resident's answer "
                     f"is {folder}/{stem}-response.png):")
                out_console.print(Text(qr_text(request.token)), soft_wrap=True, no_wrap=True)
            return verify_and_record(answer.compact, request=request.token, bundle=token, log=logs[shop], signer=business,
                                     policy=policy, nonce_store=nonces, verifier_category=category)

        try:
            ryokan_where = "Yamanaka Onsen ryokan, front desk"
            _step(5, "Offline at the counter: ask and disclose only what is needed",
                  "kaga-vc request create --key ryokan/verifier-key.json --purpose 'hotel check-in' "
                  f"--claims KycCredential:ageOver18 --location {_q(ryokan_where)} "
                  "--qr ryokan/request.png --out ryokan/request.jwt",
                  "kaga-vc wallet present ryokan/request.png --wallet hanako/wallet.json --yes "
                  "--out hanako/response.txt --qr hanako/response.png",
                  "kaga-vc verify hanako/response.png --request ryokan/request.jwt --bundle trust-bundle.jwt "
                  "--verifier-key ryokan/verifier-key.json --category lodging")
            result, entry = visit(hanako, "hanako", "ryokan", "hotel check-in", ("ageOver18",), ryokan_where,
                                  "lodging", synced.token)
            _say(f"ryokan: Hanako {_yes_no(result.verified)}; it saw only {_claims(result)} "
                 f"(not her name nor birth date) → entry {entry.seq} of the ryokan's access log "
                 "(ryokan/accesslog.db: each shop keeps its own)")
            result, entry = visit(taro, "taro", "ryokan", "hotel check-in", ("ageOver18",), ryokan_where,
                                  "lodging", synced.token)
            _say(f"ryokan: Taro {_yes_no(result.verified)}; it saw {_claims(result)} → access-log entry {entry.seq}")
            result, entry = visit(taro, "taro", "clinic", "patient registration", ("fullName", "birthDate"),
                                  "Kaga city clinic, reception", "healthcare", synced.token)
            _say(f"clinic: Taro {_yes_no(result.verified)}; it saw {_claims(result)} → access-log entry {entry.seq}")

            _step(6, "A credential is revoked and refused",
                  "kaga-vc issued list --status revoked",
                  "kaga-vc bundle sync --out trust-bundle.jwt")
            lists.revoke(issued[taro.did].id, staff="clerk-2")
            _write(base / "trust-bundle-before-revocation.jwt", synced.token)
            fresh = bundle(base / "trust-bundle.jwt")
            _say(f"city: Taro's credential {issued[taro.did].id} revoked by clerk-2 (`kaga-vc status revoke "
                 f"{issued[taro.did].id} --staff clerk-2`); new trust-bundle.jwt (the old one is kept as "
                 f"trust-bundle-before-revocation.jwt)")
            result, entry = visit(taro, "taro", "clinic", "patient registration", ("fullName", "birthDate"),
                                  "Kaga city clinic, reception", "healthcare", fresh.token)
            _say(f"clinic: Taro {_yes_no(result.verified)}, because {', '.join(result.codes) or 'no reason given'} "
                 f"→ access-log entry {entry.seq} (refusals are logged too)")
            result, entry = visit(hanako, "hanako", "sake-shop", "age check (sake)", ("ageOver18",),
                                  "Yamashiro Onsen sake shop, till", "retail", fresh.token)
            _say(f"sake shop: Hanako {_yes_no(result.verified)}; it saw {_claims(result)} "
                 f"→ access-log entry {entry.seq}")
        finally:
            nonces.close()

    _step(7, "Each shop's access log is anchored on chain", "kaga-vc log anchor", "kaga-vc log verify",
          "kaga-vc log verify --log clinic/accesslog.db")
    anchor = open_anchor(ChainSettings(home=home))
    try:
        for shop, log in logs.items():
            batch = log.anchor(anchor)
            report = log.verify(anchorer=anchor)
            found = "; ".join(f"{f.kind} entry {f.seq}: {f.detail}" for f in report.findings)
            _say(f"{shop}: {batch.size} entries → tree head {batch.index}: Merkle root {batch.root} in block "
                 f"{batch.block_number} (gas {batch.gas_used}); log verify: {'verified' if report.ok else found}")
        _say(f"on chain (contract {batch.contract}): per log its id, its identity's hash (the shop's DID and log key), "
             "the tree size and root; log verify checks the log key's signatures, that every entry is the shop's, "
             "the hash chain and the tree heads read from the chain")

        _step(8, "A resident reads her own access history across the shops, with proofs",
              "kaga-vc log my-history --wallet hanako/wallet.json --log ryokan/accesslog.db --log-key "
              "ryokan/accesslog.key --log sake-shop/accesslog.db --log-key sake-shop/accesslog.key")
        history = []
        for log in logs.values():  # she asks each shop's log; each finds her entries by its own keyed index
            challenge = log.create_challenge()
            did, entries = log.subject_history(answer_challenge(challenge, did=hanako.did, signer=hanako.signer))
            history += read_history(did, entries, hanako.signer.key, anchorer=anchor)
        for item in sorted(history, key=lambda i: i.time):
            _say(f"  {item.time} {item.verifier_category}: {item.location} — {item.purpose}; disclosed "
                 f"{', '.join(item.claims)}; {item.result}; proof checked against block {item.anchor_block}")
        _say(f"{len(history)} entries, hers only, from {len(logs)} shops' logs: each finds them by a keyed index, "
             "and only her key opens them")
    finally:
        anchor.close()

    _step(9, "The city exports anonymised open data across the shops' logs",
          "kaga-vc log export --anonymized --k 2 --out open-data/ --log ryokan/accesslog.db "
          "--log sake-shop/accesslog.db --log clinic/accesslog.db")
    export = export_anonymized(list(logs.values()), base / "open-data", k=2, bucket="month")
    for cell in export.cells:
        _say(f"  {cell['period']} {cell['verifier_category']:<10} {cell['credential_type']:<14} "
             f"{cell['purpose']:<22} {cell['result']:<8} {cell['count']}")
    _say(f"{export.suppressed_cells} cells with fewer than 2 residents suppressed; files: "
         f"{', '.join(p.name for p in export.files)}")
    for log in logs.values():
        log.close()
    _list_files(base)


def _claims(result: Any) -> str:
    claims = (result.details or {}).get("claims") or {}
    return ", ".join(sorted(claims)) or "nothing"


_DESCRIBED = {
    "env": "source it here (. ./env) to continue by hand",
    "password.txt": "the password of every keystore and wallet of this run",
    "home": "KAGA_VC_HOME: the city's keys, the embedded chain, records, nonces",
    "trust-bundle.jwt": "the city's current trust bundle",
}


def _list_files(base: Path) -> None:
    """Every file the run kept (databases and keystores under home/ summarised as one line)."""
    out_console.rule("[bold]files of this run")
    _say(f"in {base}:")
    for path in sorted(base.iterdir()):
        if path.is_dir() and path.name != "home":
            for inner in sorted(p for p in path.rglob("*") if p.is_file()):
                _say(f"  {inner.relative_to(base)}")
        else:
            note = _DESCRIBED.get(path.name)
            _say(f"  {path.name}{'/' if path.is_dir() else ''}" + (f"  ({note})" if note else ""))


def _business(key_type: Any, keystore: Path) -> Any:
    """A business's verifier key (kept as a keystore, as `request create --key` reads it) and its did:key."""
    from ..did import did_key_from_public_key
    from ..keys import KeySigner, PrivateKey
    from ..keys.keystore import save_key

    key = PrivateKey.generate(key_type)
    keystore.parent.mkdir(parents=True, exist_ok=True)
    save_key(keystore, key, PASSWORD, label="verifier", scrypt_n=DEMO_SCRYPT_N)
    did = did_key_from_public_key(key.public_key)
    return KeySigner(key, f"{did}#{did.rsplit(':', 1)[-1]}")
