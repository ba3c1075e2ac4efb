"""Issuance anchoring as ``issue``, ``issue batch``, ``city anchor`` and ``city rotate-key`` do it.

An issued credential is released first (its file written, or printed), then the records' pending
digests are anchored: anchoring never takes back a credential. When it fails, the credentials stay
issued and recorded as pending; the command says so on stderr and exits 4 (the chain was not
reachable or refused), and ``kaga-vc city anchor --pending`` anchors them later.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.text import Text

from ._output import ExitCode, err_console

AnchorOption = typer.Option(True, "--anchor/--no-anchor", help="Anchor what was issued on the city's chain when "
                            "done (default; the embedded chain counts). --no-anchor leaves it pending for "
                            "`kaga-vc city anchor --pending` (e.g. on a schedule).")
AnchorContractOption = typer.Option(None, "--anchor-contract", help="The anchor contract on a node (else "
                                    "$KAGA_VC_ANCHOR; the embedded chain deploys its own).")


def open_city_anchor(config: Any, contract: str | None) -> Any:
    """The anchor contract client on the city's chain (``city.json``'s node, else the embedded chain)."""
    from ..registry import ChainSettings
    from ..registry.anchor import open_anchor

    return open_anchor(ChainSettings.from_env(rpc_url=config.rpc_url, registry=config.registry,
                                              chain_id=config.chain_id), contract=contract)


def anchor_pending_now(config: Any, store: Any, contract: str | None) -> dict[str, Any]:
    """Anchor every pending issuance of ``store``: the outcome as JSON, never an exception (but Ctrl-C)."""
    from ..accesslog.issuance import anchor_failure, anchor_pending

    try:
        chain = open_city_anchor(config, contract)
        try:
            batch = anchor_pending(store, config.did, chain)
        finally:
            chain.close()
    except Exception as error:  # noqa: BLE001 - whatever failed, the credentials stay issued and pending
        return {**anchor_failure(error), "pending": _pending(store)}
    if batch is None:
        return {"anchored": True, "size": 0, "pending": 0}
    return {**batch.to_json(), "pending": _pending(store)}


def _pending(store: Any) -> int | None:
    try:
        return int(store.count_pending())
    except Exception:  # noqa: BLE001 - the count is only a report
        return None


def report_anchor(outcome: dict[str, Any], *, quiet: bool) -> ExitCode:
    """Tell the user how anchoring went (stderr; JSON callers read ``anchor``); the exit code it calls for."""
    if outcome.get("anchored"):
        if not quiet and outcome.get("size"):
            err_console.print(Text(f"anchored {outcome['size']} credential(s) in block {outcome['blockNumber']} "
                                   f"(root {outcome['root'][:16]}…)"), soft_wrap=True)
        return ExitCode.OK
    skipped = outcome.get("skipped")
    if skipped:
        return ExitCode.OK
    err_console.print(Text(f"warning: issued, but not anchored ({outcome['code']}: {outcome['detail']}); "
                           f"{outcome['next']}"), soft_wrap=True)
    return ExitCode.COULD_NOT_CHECK


NOT_ANCHORED = {"anchored": False, "skipped": "--no-anchor",
                "next": "pending: anchor it with `kaga-vc city anchor --pending` before the key is rotated"}
