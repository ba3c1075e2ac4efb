"""Every "by hand" command ``kaga-vc demo --workdir`` prints runs, as printed, in the kept run folder.

The demo runs as a real process; then each printed command runs in ``bash`` in ``run-1`` after
``. ./env`` (the file the demo writes), in the order printed, against the demo's own city, chain,
wallets, bundle and access log. The QR codes it kept are read back (``wallet present request.png``,
``verify response.png``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

KAGA_VC = shutil.which("kaga-vc", path=str(Path(sys.executable).parent)) or "kaga-vc"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAGA_VC_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "80"
    return env


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    work = tmp_path_factory.mktemp("demo")
    done = subprocess.run([KAGA_VC, "demo", "--workdir", str(work)], check=False, capture_output=True, text=True,
                          env=_env(), cwd=work, stdin=subprocess.DEVNULL, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    return work / "run-1", done.stdout


def test_the_demo_prints_hints_and_keeps_an_env_file(demo_run: tuple[Path, str]) -> None:
    run, out = demo_run
    hints = [line[len("by hand: "):] for line in out.splitlines() if line.startswith("by hand: ")]
    assert len(hints) >= 12
    env = (run / "env").read_text()
    assert "KAGA_VC_HOME=" in env and "KAGA_VC_PASSWORD_FILE=" in env and "KAGA_VC_ACCESSLOG_URL=" in env
    assert "demo-password-not-for-production" in out  # the password is shown, and kept in password.txt
    assert f"cd {run}" in out


def test_every_hint_runs_as_printed_in_the_run_folder(demo_run: tuple[Path, str]) -> None:
    run, out = demo_run
    hints = [line[len("by hand: "):] for line in out.splitlines() if line.startswith("by hand: ")]
    outputs = {}
    for hint in hints:
        assert hint.startswith("kaga-vc "), hint
        done = subprocess.run(["bash", "-c", f". ./env && {hint}"], check=False, capture_output=True, text=True,
                              env=_env(), cwd=run, stdin=subprocess.DEVNULL, timeout=120)
        assert done.returncode == 0, f"{hint}\n{done.stdout}\n{done.stderr}"
        outputs[hint] = done.stdout + done.stderr
    by_name = {h.split()[1] + " " + h.split()[2]: o for h, o in outputs.items()}
    # the hand-made visit was verified, recorded and shows in Hanako's history next to the demo's two
    assert "verified" in by_name["verify hanako/response.png"]
    assert "bundleTrust" in by_name["verify hanako/kyc.sd-jwt"]  # one credential, the bundle alone, offline
    assert "recorded as access-log entry 2" in by_name["verify hanako/response.png"]  # the ryokan's third
    assert "who accessed" in by_name["log my-history"]
    # her history across two shops' logs, each with its own key
    across = ("kaga-vc log my-history --wallet hanako/wallet.json --log ryokan/accesslog.db --log-key "
              "ryokan/accesslog.key --log sake-shop/accesslog.db --log-key sake-shop/accesslog.key --json")
    done = subprocess.run(["bash", "-c", f". ./env && {across}"],
                          check=False, capture_output=True, text=True, env=_env(), cwd=run, timeout=120)
    assert done.returncode == 0, done.stderr
    history = json.loads(done.stdout)["entries"]
    places = [e["location"] for e in history]
    assert places.count("Yamanaka Onsen ryokan, front desk") == 2 and "Yamashiro Onsen sake shop, till" in places
    assert all(e["result"] == "accepted" for e in history)  # Taro's refusal is not hers
    assert len({e["logId"] for e in history}) == 2 and [e["time"] for e in history] == sorted(e["time"] for e in history)
    assert "revoked" in by_name["issued list"]
    assert (run / "open-data" / "access-counts.csv").is_file()


def _human(run: Path, command: str, columns: int = 80) -> str:
    done = subprocess.run(["bash", "-c", f". ./env && {command}"], check=False, capture_output=True, text=True,
                          env={**_env(), "COLUMNS": str(columns)}, cwd=run, stdin=subprocess.DEVNULL, timeout=120)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_human_output_has_no_python_reprs_and_ids_are_whole(demo_run: tuple[Path, str]) -> None:
    run, _ = demo_run
    for command in ("kaga-vc city show", "kaga-vc chain info", "kaga-vc bundle show trust-bundle.jwt"):
        shown = _human(run, command)
        assert "None" not in shown and "{'" not in shown and "['" not in shown, (command, shown)
    # piped at 80 columns, tables fold long values instead of cutting them with "…"
    for command in ("kaga-vc issued list", "kaga-vc log show", "kaga-vc wallet list --wallet hanako/wallet.json",
                    "kaga-vc log my-history --wallet hanako/wallet.json --no-chain"):
        assert "…" not in _human(run, command), command
    listed = json.loads(_human(run, "kaga-vc issued list --json"))["credentials"]
    ids = [c.get("credentialId") or c.get("credential_id") or c["id"] for c in listed]
    wide = _human(run, "kaga-vc issued list", columns=200)
    assert ids and all(i in wide for i in ids)


def test_verify_without_chain_options_gives_a_hint(demo_run: tuple[Path, str]) -> None:
    run, _ = demo_run
    done = subprocess.run(["bash", "-c", ". ./env && kaga-vc verify hanako/kyc.sd-jwt"], check=False,
                          capture_output=True, text=True, env=_env(), cwd=run, stdin=subprocess.DEVNULL, timeout=120)
    assert done.returncode == 4
    assert "hint:" in done.stderr and "--bundle trust-bundle.jwt" in done.stderr
    revoked = subprocess.run(["bash", "-c", ". ./env && kaga-vc verify taro/kyc.sd-jwt --bundle trust-bundle.jwt"],
                             check=False, capture_output=True, text=True, env=_env(), cwd=run, timeout=120)
    assert revoked.returncode == 1 and "kaga:credential-revoked" in revoked.stdout
