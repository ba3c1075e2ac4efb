"""One answer to "where is home": ``$KAGA_VC_HOME``, else the user data directory, used by every layer."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from kaga_vc._home import default_home


def _every_default(home: Path) -> dict[str, Path]:
    """Each layer's default location, as the path of ``home`` it lives under."""
    from kaga_vc import registry
    from kaga_vc.accesslog import log_url
    from kaga_vc.cli.request import verifier_key_path
    from kaga_vc.holder import default_wallet_path
    from kaga_vc.issuer.service import city_dir
    from kaga_vc.verifier import default_bundle_memory_path, default_nonce_path
    from kaga_vc.verifier.openid4vp import default_openid4vp_path

    return {
        "registry": registry.default_home(),
        "city": city_dir().parent,
        "accesslog": Path(log_url().removeprefix("sqlite:///")).parent,
        "wallet": default_wallet_path().parent.parent,
        "nonces": default_nonce_path().parent.parent,
        "bundles": default_bundle_memory_path().parent.parent,
        "openid4vp": default_openid4vp_path().parent.parent,
        "verifier key": verifier_key_path().parent.parent,
    }


def test_every_layer_uses_kaga_vc_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAGA_VC_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KAGA_VC_ACCESSLOG_URL", raising=False)
    assert default_home() == tmp_path / "home"
    assert _every_default(tmp_path) == dict.fromkeys(_every_default(tmp_path), tmp_path / "home")


@pytest.mark.parametrize("value", [None, ""])
def test_unset_or_empty_means_the_user_data_directory(value: str | None, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # the log's default creates its folder
    monkeypatch.setenv("HOME", str(tmp_path))
    if value is None:
        monkeypatch.delenv("KAGA_VC_HOME", raising=False)
    else:
        monkeypatch.setenv("KAGA_VC_HOME", value)
    monkeypatch.delenv("KAGA_VC_ACCESSLOG_URL", raising=False)
    expected = Path(platformdirs.user_data_dir("kaga-vc", appauthor=False))
    assert default_home() == expected
    assert expected.is_relative_to(tmp_path)
    assert set(_every_default(expected).values()) == {expected}
