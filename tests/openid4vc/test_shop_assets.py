"""The shop page's assets: the vendored jsQR is byte for byte npm's jsqr (the version package.json pins)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
VENDORED = ROOT / "kaga_vc" / "server" / "shop" / "vendor" / "jsQR.js"
NPM = ROOT / "tests" / "interop" / "openid4vc" / "node_modules" / "jsqr"


def test_vendored_jsqr_is_the_npm_package_file() -> None:
    if not NPM.is_dir():
        if os.environ.get("KAGA_VC_REQUIRE_NODE"):
            raise AssertionError("tests/interop/openid4vc is not installed (npm ci)")
        pytest.skip("npm package jsqr not installed in tests/interop/openid4vc (scripts/test.sh runs npm ci)")
    pinned = json.loads((ROOT / "tests" / "interop" / "openid4vc" / "package.json").read_text())["dependencies"]["jsqr"]
    assert json.loads((NPM / "package.json").read_text())["version"] == pinned
    assert hashlib.sha256(VENDORED.read_bytes()).digest() == hashlib.sha256((NPM / "dist" / "jsQR.js").read_bytes()).digest()
    assert (VENDORED.parent / "jsQR.LICENSE").read_bytes() == (NPM / "LICENSE").read_bytes()


def test_the_page_loads_nothing_from_elsewhere() -> None:
    shop = VENDORED.parent.parent
    for name in ("shop.html", "shop.js", "shop.css"):
        text = (shop / name).read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, name
