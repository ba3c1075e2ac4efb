#!/usr/bin/env bash
# Vendor the QR decoder of the shop page from npm: jsqr's dist/jsQR.js (and its licence), byte for byte.
# The version is the one pinned in tests/interop/openid4vc/package.json; tests/openid4vc/test_shop_assets.py
# checks the vendored file against that npm package. Run after changing the pinned version.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(python3 -c 'import json; print(json.load(open("tests/interop/openid4vc/package.json"))["dependencies"]["jsqr"])')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "jsqr@$version" >/dev/null && tar -xzf "jsqr-$version.tgz")
target=kaga_vc/server/shop/vendor
mkdir -p "$target"
cp "$work/package/dist/jsQR.js" "$target/jsQR.js"
cp "$work/package/LICENSE" "$target/jsQR.LICENSE"
echo "vendored jsqr $version into $target"
