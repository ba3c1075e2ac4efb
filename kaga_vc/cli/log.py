"""``kaga-vc log``: the access log — show, verify, anchor, export open data, a resident's own history."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import typer

from ._common import (
    ExitCode,
    JsonOption,
    PasswordFileOption,
    err_console,
    error_boundary,
    out_console,
    print_json,
    read_password,
)
from ._verifier_home import log_key_path, opened_log, verification_recorder

__all__ = ["app", "log_key_path", "opened_anchor", "opened_log", "verification_recorder"]

app = typer.Typer(help="The access log: every verification, signed, hash-chained and anchored on chain.",
                  no_args_is_help=True)

LogOption = typer.Option(None, "--log", help="Log database: a path (SQLite) or postgresql://… "
                         "(else $KAGA_VC_ACCESSLOG_URL, else $KAGA_VC_HOME/accesslog.db).")
LogKeyOption = typer.Option(None, "--log-key", dir_okay=False, help="The log's subject-index key file "
                            "(else $KAGA_VC_ACCESSLOG_KEY, else $KAGA_VC_HOME/accesslog.key).")
RpcUrlOption = typer.Option(None, "--rpc-url", help="JSON-RPC node of the anchors (else $KAGA_VC_RPC_URL, "
                            "else the embedded chain).")
ChainIdOption = typer.Option(None, "--chain-id", help="Expected chain id of the node (else $KAGA_VC_CHAIN_ID).")
ContractOption = typer.Option(None, "--anchor-contract", help="KagaAccessAnchor address on the node "
                              "(else $KAGA_VC_ANCHOR; the embedded chain deploys its own).")
LogsOption = typer.Option(None, "--log", help="A log database (path or postgresql://…; else $KAGA_VC_ACCESSLOG_URL, "
                          "else $KAGA_VC_HOME/accesslog.db). Repeat for several verifiers' logs: a log is one "
                          "verifier's.")
NoChainOption = typer.Option(False, "--no-chain", help="Do not read the log's tree heads on chain.")
AccountOption = typer.Option(None, "--anchorer", help="The log operator's anchoring account (0x…) whose tree heads "
                             "to read (default: the one the log recorded with its first head, else the chain's "
                             "own account); an auditor gives the operator's published account.")


@contextmanager
def opened_anchor(rpc_url: str | None, chain_id: int | None, contract: str | None, *,
                  sender_key: Path | None = None, password_file: Path | None = None) -> Iterator[Any]:
    from ..registry import ChainSettings
    from ..registry.anchor import open_anchor

    sender = None
    if sender_key is not None:
        from ..keys.keystore import load_key

        sender = load_key(sender_key, read_password(password_file, prompt="Anchoring account password"))
    anchor = open_anchor(ChainSettings.from_env(rpc_url=rpc_url, chain_id=chain_id), sender=sender, contract=contract)
    try:
        yield anchor
    finally:
        anchor.close()


@app.command("show")
@error_boundary
def show(
    log: str = LogOption,
    start: int = typer.Option(0, "--from", min=0, help="First entry to show."),
    limit: int = typer.Option(50, "--limit", min=1, help="How many entries to show."),
    as_json: bool = JsonOption,
) -> None:
    """Show the log's entries as stored (subject data stays encrypted).

    Example: kaga-vc log show --from 0 --limit 20 --json
    """
    with opened_log(log) as opened:
        entries = list(opened.entries(start, start + limit))
        head = opened.head()
        log_id = opened.log_id
    if as_json:
        print_json({"logId": log_id, "entries": head[0], "shown": [e.to_json() for e in entries]})
        return
    from rich.table import Table

    table = Table(title=f"access log {log_id} ({head[0]} entries)")
    for column in ("seq", "time", "verifier", "where", "types", "purpose", "result", "subject"):
        table.add_column(column, overflow="fold")
    for e in entries:
        b = e.body
        table.add_row(str(e.seq), _text(b.get("time")), _text(b.get("verifier")),
                      ", ".join(_text(x) for x in (b.get("verifierName"), b.get("location") or b.get("service")) if x),
                      ", ".join(b.get("credentialTypes") or []),
                      _text(b.get("purpose")), f"{b.get('result')} {b.get('reason') or ''}".strip(),
                      "encrypted" if b.get("subjectData") else "-")
    out_console.print(table)


def _text(value: object) -> str:
    """A value for a human table: never Python's ``None``; ids whole (columns fold, never cut)."""
    return "" if value is None else str(value)


@app.command("verify")
@error_boundary
def verify(
    log: str = LogOption,
    no_chain: bool = NoChainOption,
    rpc_url: str = RpcUrlOption,
    chain_id: int = ChainIdOption,
    contract: str = ContractOption,
    embedded_chain: bool = typer.Option(False, "--embedded-chain",
                                        help="Resolve did:ethr verifiers on the embedded chain."),
    registry: str = typer.Option(None, "--registry", help="Registry address for did:ethr verifiers on --rpc-url "
                                 "(else $KAGA_VC_REGISTRY; neither: did:ethr verifiers are not resolved on a node)."),
    account: str = AccountOption,
    as_json: bool = JsonOption,
) -> None:
    """Verify every entry's signature (the log's own key), the hash chain, the head, and the log against
    the signed tree heads the chain holds for it (read from the chain, not from the log's tables).

    Names each edited, deleted, reordered, inserted or forged entry, and a truncated
    (kaga:log-truncated) or rewritten (kaga:log-rewritten) history, another identity on chain
    (kaga:log-identity-mismatch), a head the anchors table lost (kaga:anchor-record-missing); exit 1 if
    any. See docs/accesslog.md. Example: kaga-vc log verify --json
    """
    from ..registry.chains import ENV_REGISTRY
    from ._resolver import cli_resolver
    from .chain import chain_resolver

    # the node resolves did:ethr verifiers only with a registry: without one it is the anchors' node only
    registry_address = registry or os.environ.get(ENV_REGISTRY) or None
    chain: AbstractContextManager[Any] = nullcontext(cli_resolver())
    if registry_address or embedded_chain:
        chain = chain_resolver(cli_resolver(), rpc_url, registry_address, chain_id, embedded_chain)
    with chain as resolver, opened_log(log, resolver=resolver) as opened:
        if no_chain:
            report = opened.verify()
        else:
            with opened_anchor(rpc_url, chain_id, contract) as anchor:
                report = opened.verify(anchorer=anchor, account=account)
    if as_json:
        print_json(report.to_json())
    else:
        for finding in report.findings:
            err_console.print(f"[bold red]{finding.kind}[/] entry {finding.seq}: {finding.detail} [dim]{finding.code}[/]")
        where = "checked on chain" if report.on_chain_checked else "not checked on chain"
        if report.ok:
            out_console.print(f"[green]verified[/]: {report.entries} entries, {report.anchored} anchored in "
                              f"{report.batches} tree heads ({where})")
        else:
            out_console.print(f"[red]not verified[/]: {len(report.findings)} findings in {report.entries} entries")
    if not report.ok:
        raise typer.Exit(int(ExitCode.INVALID))


@app.command("anchor")
@error_boundary
def anchor(
    log: str = LogOption,
    max_batch: int = typer.Option(None, "--max-batch", min=1, help="Anchor at most this many entries."),
    every: str = typer.Option(None, "--every", help="Keep running: anchor what is new every DURATION "
                              "(30s, 10m, 1h) until stopped (Ctrl-C) or --rounds are done."),
    rounds: int = typer.Option(None, "--rounds", min=1, help="With --every: stop after this many rounds."),
    rpc_url: str = RpcUrlOption,
    chain_id: int = ChainIdOption,
    contract: str = ContractOption,
    anchorer_key: Path = typer.Option(None, "--anchorer-key", exists=True, dir_okay=False,
                                      help="Keystore of the account that anchors and pays "
                                      "(the embedded chain's funded account by default)."),
    password_file: Path = PasswordFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Anchor the log's signed tree head (its size and Merkle root over every entry) in one transaction.

    The first head commits the log's identity (verifier, log key); the contract refuses a head that does
    not grow the tree.

    With nothing new to anchor it says so and succeeds. --every runs on a schedule (one JSON line per
    round with --json). Example: kaga-vc log anchor --json
    Example: kaga-vc log anchor --every 10m --rpc-url http://node:8545 --anchor-contract 0x… --anchorer-key a.json
    """
    import time

    from ..accesslog import parse_duration
    from ..errors import NOTHING_TO_ANCHOR, AccessLogError

    if rounds is not None and every is None:
        raise typer.BadParameter("--rounds goes with --every", param_hint="--rounds")
    period = parse_duration(every).total_seconds() if every is not None else None
    done = 0

    def emit(data: dict[str, Any]) -> None:
        if period is None:
            print_json(data)
        else:  # a stream: one compact JSON document per line, flushed as it happens
            import json
            import sys

            sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
            sys.stdout.flush()
    with opened_log(log) as opened, opened_anchor(rpc_url, chain_id, contract, sender_key=anchorer_key,
                                                  password_file=password_file) as chain:
        while True:
            try:
                batch = opened.anchor(chain, max_batch=max_batch)
            except AccessLogError as exc:
                if exc.code != NOTHING_TO_ANCHOR:
                    raise
                if as_json:
                    emit({"anchored": None, "detail": exc.detail})
                else:
                    out_console.print(exc.detail)
            else:
                if as_json:
                    emit(batch.to_json())
                else:
                    out_console.print(f"anchored tree head {batch.index}: entries 0-{batch.tree_size - 1} "
                                      f"({batch.size} new, root {batch.root[:16]}…) in block {batch.block_number} "
                                      f"of chain {batch.chain_id}, one transaction, gas {batch.gas_used}")
            done += 1
            if period is None or (rounds is not None and done >= rounds):
                return
            time.sleep(period)


@app.command("check-entry")
@error_boundary
def check_entry(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSON holding the entry's \"record\" and "
                                "its \"proof\" (one entry of `log my-history --json`)."),
    rpc_url: str = RpcUrlOption,
    chain_id: int = ChainIdOption,
    contract: str = ContractOption,
    as_json: bool = JsonOption,
) -> None:
    """Check one entry with its inclusion proof against the chain alone, trusting no log operator.

    Checks the audit path to the proof's tree head, that the entry is signed by the log's key, that
    the chain committed the proof's log identity (verifier, key) for the log, and that the chain holds
    the tree head under the operator's account. Needs no log database. Exit 1 if any fails.
    Example: kaga-vc log check-entry entry.json --rpc-url http://node.city.example:8545 --anchor-contract 0x…
    """
    from ..accesslog import InclusionProof, check_inclusion
    from ..credentials import parse_json
    from ..errors import MALFORMED_VALUE_ERROR, AccessLogError, InputError

    data = parse_json(file.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("record"), dict) or not data.get("proof"):
        raise InputError(MALFORMED_VALUE_ERROR, "the file holds no {\"record\": …, \"proof\": …} of an entry")
    proof = InclusionProof.from_json(data["proof"])
    with opened_anchor(rpc_url, chain_id, contract or proof.contract) as chain:
        try:
            head = check_inclusion(data["record"], proof, chain)
        except AccessLogError as exc:
            result: dict[str, Any] = {"verified": False, "seq": proof.seq, "logId": proof.log_id,
                                      "code": exc.code, "detail": exc.detail}
        else:
            result = {"verified": True, "seq": proof.seq, "logId": proof.log_id, "identity": proof.identity.to_json(),
                      "treeHead": {"index": head.index, "treeSize": head.tree_size, "root": head.root,
                                   "blockNumber": head.block_number, "timestamp": head.timestamp},
                      "chainId": chain.chain_id, "contract": proof.contract, "anchorer": proof.anchorer}
    if as_json:
        print_json(result)
    elif result["verified"]:
        out_console.print(f"[green]verified[/]: entry {proof.seq} of log {proof.log_id} is in tree head "
                          f"{result['treeHead']['index']} ({proof.tree_size} entries, block "
                          f"{result['treeHead']['blockNumber']}), signed by the log's key {proof.identity.key} "
                          f"of {proof.identity.verifier}")
    else:
        out_console.print(f"[red]not verified[/]: {result['detail']} [dim]{result['code']}[/]")
    if not result["verified"]:
        raise typer.Exit(int(ExitCode.INVALID))


@app.command("heads")
@error_boundary
def heads(
    log: str = LogOption,
    log_id: str = typer.Option(None, "--log-id", help="The log's id (hex; default: the local log's)."),
    account: str = AccountOption,
    rpc_url: str = RpcUrlOption,
    chain_id: int = ChainIdOption,
    contract: str = ContractOption,
    as_json: bool = JsonOption,
) -> None:
    """List the signed tree heads and the identity the chain holds for a log (read from the chain only).

    An auditor gives --log-id and --anchorer (the operator's account) and needs no database.
    Example: kaga-vc log heads --log-id 3f…e2 --anchorer 0x… --rpc-url http://node.city.example:8545 --json
    """
    from ..errors import MALFORMED_VALUE_ERROR, InputError

    who = account
    if log_id is None:
        with opened_log(log) as opened:
            log_id = opened.log_id
            recorded = opened.batches()
            who = who or (recorded[0].anchorer if recorded else None)
    try:
        raw = bytes.fromhex(log_id)
        if len(raw) != 32:
            raise ValueError
    except ValueError:
        raise InputError(MALFORMED_VALUE_ERROR, "--log-id is the log's 64 hex digits") from None
    with opened_anchor(rpc_url, chain_id, contract) as chain:
        who = who or chain.anchorer
        on_chain = chain.read_log(who, raw)
    data = {"logId": log_id, "anchorer": who, "chainId": chain.chain_id, "contract": chain.contract,
            "identity": on_chain.identity,
            "heads": [{"index": h.index, "treeSize": h.tree_size, "root": h.root, "blockNumber": h.block_number,
                       "timestamp": h.timestamp} for h in on_chain.heads]}
    if as_json:
        print_json(data)
        return
    if not on_chain.heads:
        out_console.print(f"no tree head of log {log_id} by {who} on chain {chain.chain_id}")
        return
    out_console.print(f"log {log_id} by {who} on chain {chain.chain_id} (identity {on_chain.identity}):")
    for h in on_chain.heads:
        out_console.print(f"  head {h.index}: {h.tree_size} entries, root {h.root}, block {h.block_number}")


@app.command("export")
@error_boundary
def export(
    out: Path = typer.Option(..., "--out", file_okay=False, help="Directory for access-counts.csv and .json."),
    anonymized: bool = typer.Option(False, "--anonymized", help="Required: only aggregate, k-anonymous counts."),
    k: int = typer.Option(5, "--k", min=2, help="Publish a cell only when at least K residents are behind it."),
    bucket: str = typer.Option("month", "--bucket", help="Time bucket: day, week or month."),
    log: list[str] | None = LogsOption,
    as_json: bool = JsonOption,
) -> None:
    """Export anonymised open data: counts by verifier category, credential type, purpose and period.

    A view across the logs given (one per verifier: --log repeated), read and never written. A resident is
    counted once per log key: across logs with different keys a cell counts the most residents behind it
    in one key's logs, never more than there are.
    Example: kaga-vc log export --anonymized --k 5 --out open-data/ --log ryokan.db --log clinic.db
    """
    from ..accesslog import export_anonymized

    if not anonymized:  # a missing required flag is a usage error (exit 2), not bad input
        raise typer.BadParameter("only the anonymised export exists: pass --anonymized", param_hint="--anonymized")
    with ExitStack() as stack:
        targets: list[str | None] = [*log] if log else [None]
        opened = [stack.enter_context(opened_log(target)) for target in targets]
        result = export_anonymized(opened, out, k=k, bucket=bucket)  # type: ignore[arg-type]
    if as_json:
        print_json(result.to_json())
    else:
        out_console.print(f"{len(result.cells)} cells published, {result.suppressed_cells} suppressed "
                          f"(fewer than {k} residents): {', '.join(str(p) for p in result.files)}")


@app.command("my-history")
@error_boundary
def my_history(
    did: str = typer.Option(None, "--did", help="Your DID (default: the wallet's)."),
    key: Path = typer.Option(None, "--key", exists=True, dir_okay=False, help="Your keystore file."),
    wallet: Path = typer.Option(None, "--wallet", exists=True, dir_okay=False,
                                help="Your wallet file instead of a keystore (default: "
                                "$KAGA_VC_HOME/wallet/wallet.json when no --key is given)."),
    key_id: str = typer.Option(None, "--key-id", help="Your authentication method (default: did:key's own)."),
    password_file: Path = PasswordFileOption,
    log: list[str] | None = LogsOption,
    log_key: list[Path] | None = typer.Option(None, "--log-key", dir_okay=False, help="The log's subject-index key "
                                              "file (else $KAGA_VC_ACCESSLOG_KEY, else $KAGA_VC_HOME/accesslog.key); "
                                              "with several --log, one per --log in the same order, or one for all."),
    no_chain: bool = NoChainOption,
    rpc_url: str = RpcUrlOption,
    chain_id: int = ChainIdOption,
    contract: str = ContractOption,
    as_json: bool = JsonOption,
) -> None:
    """Prove control of your DID and read who accessed your data, when, where and why, with proofs.

    Each verifier keeps its own log: give each shop's --log (and its --log-key) to read your history
    across them, in time order.
    Example: kaga-vc log my-history --did "$RESIDENT_DID" --key resident.json
    Example: kaga-vc log my-history --wallet wallet.json --log ryokan.db --log-key ryokan.key --log shop.db --log-key shop.key --json
    """
    from ..accesslog import answer_challenge, read_history
    from ..errors import MALFORMED_VALUE_ERROR, InputError
    from ..keys import KeySigner

    if key is None and wallet is None:
        from ..holder import default_wallet_path

        wallet = default_wallet_path()  # the resident's own wallet, where `kaga-vc wallet init` made it
        if not wallet.exists():
            raise InputError(MALFORMED_VALUE_ERROR, f"no wallet at {wallet}: give --wallet or --key (a keystore)")
    if key is not None and wallet is not None:
        raise InputError(MALFORMED_VALUE_ERROR, "give either --key (a keystore) or --wallet, not both")
    if wallet is not None:
        from ..holder import open_wallet

        opened_wallet = open_wallet(wallet, read_password(password_file, prompt="Wallet password"))
        private, did = opened_wallet.signer.key, did or opened_wallet.did
    else:
        from ..keys.keystore import load_key

        private = load_key(key, read_password(password_file))
    if not did:
        raise InputError(MALFORMED_VALUE_ERROR, "--did is needed with --key")
    method_id = key_id or f"{did}#{did.rsplit(':', 1)[-1]}"
    targets: list[str | None] = [*log] if log else [None]
    keys = list(log_key or [])
    if len(keys) not in (0, 1, len(targets)):
        raise typer.BadParameter("give one --log-key per --log, or one for all", param_hint="--log-key")
    found: list[tuple[str, Any, Any]] = []  # (log id, history item, subject entry), across the logs
    subject = did
    for n, target in enumerate(targets):
        with opened_log(target, keys[n] if len(keys) > 1 else (keys[0] if keys else None), need_key=True) as opened:
            challenge = opened.create_challenge()
            response = answer_challenge(challenge, did=did, signer=KeySigner(private, method_id))
            subject, entries = opened.subject_history(response)
            identity, log_id = opened.identity(), opened.log_id
        if no_chain or not any(e.proof for e in entries):
            items = read_history(subject, entries, private, identity=identity)
        else:
            with opened_anchor(rpc_url, chain_id, contract) as chain:
                items = read_history(subject, entries, private, anchorer=chain, identity=identity)
        found += [(log_id, i, e) for i, e in zip(items, entries, strict=True)]
    found.sort(key=lambda f: (f[1].time, f[0], f[1].seq))
    items = [i for _, i, _ in found]
    if as_json:
        print_json({"did": subject, "entries": [
            {**i.to_json(), "logId": log_id, "record": e.entry.record, "proof": e.proof.to_json() if e.proof else None}
            for log_id, i, e in found]})
        return
    from rich.table import Table

    table = Table(title=f"who accessed {subject}")
    for column in ("time", "where", "verifier", "disclosed", "purpose", "result", "proof"):
        table.add_column(column, overflow="fold")
    for i in items:
        proof = (f"NOT GENUINE ({i.problem})" if i.problem else f"on chain, block {i.anchor_block}" if i.anchor_block
                 else ("in tree head" if i.proven else "not anchored yet"))
        where = ", ".join(x for x in (i.verifier_name, i.location, i.service, i.verifier_category) if x) or "-"
        table.add_row(i.time, where, i.verifier, ", ".join(i.claims), _text(i.purpose),
                      f"{i.result} {i.reason or ''}".strip(), proof)
    out_console.print(table)
