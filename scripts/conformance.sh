#!/usr/bin/env bash
# Run one W3C / W3C-CCG Verifiable Credentials test suite against `kaga-vc serve`.
#
#   scripts/conformance.sh HARNESS SUITE [-v]
#
# HARNESS is a (writable) copy of the W3C suites harness (its run.sh, suites.json, ...; the harness
# needs W3C_MIRRORS, see its README); SUITE a suite name or alias of that harness (vc2.0, eddsa, ecdsa,
# bitstring, vc-api-issuer, vc-api-verifier, or `all` for each in turn).
# The script makes throw-away issuer keys (did:key Ed25519, P-256, P-384), a self-signed certificate
# for 127.0.0.1 and an admin token in a temporary folder, starts `kaga-vc serve` on a free port over
# HTTPS, writes the harness config, runs `HARNESS/run.sh SUITE CONFIG`, prints the harness's summary
# line (`SUITE: N passed, N failed, N pending`) and stops the server. Exit status: the harness's.
# KAGA_CONFORMANCE_KEEP=1 keeps the temporary folder (server log, config) and prints its path.
set -euo pipefail

usage() { echo "usage: $0 HARNESS SUITE [-v]" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
HARNESS="$(cd "$1" && pwd)" || usage
SUITE="$2"
shift 2
[[ -x "$HARNESS/run.sh" ]] || { echo "$0: $HARNESS/run.sh not found (HARNESS is the W3C suites harness)" >&2; exit 2; }
command -v kaga-vc >/dev/null || { echo "$0: kaga-vc not on PATH (activate the project's .venv)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "$0: openssl not found" >&2; exit 2; }

if [[ "$SUITE" == all ]]; then
  status=0
  for s in vc2.0 eddsa ecdsa bitstring vc-api-issuer vc-api-verifier; do
    "$0" "$HARNESS" "$s" "$@" || status=1
  done
  exit "$status"
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/kaga-conformance.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ "${KAGA_CONFORMANCE_KEEP:-}" == 1 ]]; then
    echo "conformance: kept $TMP" >&2
  else
    rm -rf "$TMP"
  fi
}
trap cleanup EXIT

# -- a throw-away home, password, keys and admin token ------------------------------------------
export KAGA_VC_HOME="$TMP/home"
mkdir -p "$KAGA_VC_HOME"
unset KAGA_VC_RECORDS_URL KAGA_VC_ACCESSLOG_URL
PASSWORD_FILE="$TMP/password"
(umask 077 && openssl rand -hex 24 > "$PASSWORD_FILE")
did_of() { # keystore-json-output -> didKey
  python3 -c 'import json,sys; print(json.load(sys.stdin)["didKey"])'
}
ED25519_DID="$(kaga-vc key generate --type ed25519 --out "$TMP/ed25519.json" --password-file "$PASSWORD_FILE" --json | did_of)"
P256_DID="$(kaga-vc key generate --type p256 --out "$TMP/p256.json" --password-file "$PASSWORD_FILE" --json | did_of)"
P384_DID="$(kaga-vc key generate --type p384 --out "$TMP/p384.json" --password-file "$PASSWORD_FILE" --json | did_of)"
ADMIN_TOKEN="$(kaga-vc admin-token add conformance --file "$TMP/admin-tokens.json" --password-file "$PASSWORD_FILE" --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')"

# -- a self-signed certificate for 127.0.0.1 ----------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" -addext "basicConstraints=critical,CA:TRUE" \
  -keyout "$TMP/tls-key.pem" -out "$TMP/tls-cert.pem" 2>/dev/null
chmod 600 "$TMP/tls-key.pem"

# -- the server -------------------------------------------------------------------------------------
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
BASE="https://127.0.0.1:$PORT"
kaga-vc serve --role all --no-city --host 127.0.0.1 --port "$PORT" \
  --tls-cert "$TMP/tls-cert.pem" --tls-key "$TMP/tls-key.pem" \
  --issuer-key "eddsa=$TMP/ed25519.json" --issuer-key "p256=$TMP/p256.json" --issuer-key "p384=$TMP/p384.json" \
  --issuer-key "bitstring=$TMP/ed25519.json" --status bitstring \
  --admin-tokens "$TMP/admin-tokens.json" --verify-rate 0 --password-file "$PASSWORD_FILE" \
  > "$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 150); do
  if curl -fsS --cacert "$TMP/tls-cert.pem" -o /dev/null "$BASE/" 2>/dev/null ||
     curl -sS --cacert "$TMP/tls-cert.pem" -o /dev/null "$BASE/" 2>/dev/null; then
    break
  fi
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "conformance: kaga-vc serve exited:" >&2; cat "$TMP/server.log" >&2; exit 2; }
  sleep 0.2
done

# -- the harness config -----------------------------------------------------------------------------
CONFIG="$TMP/kaga.cjs"
cat > "$CONFIG" <<EOF
// written by scripts/conformance.sh for one run of kaga-vc serve at $BASE
const base = '$BASE';
const headers = {Authorization: 'Bearer $ADMIN_TOKEN'};
const issue = name => \`\${base}/issuers/\${name}/credentials/issue\`;
module.exports = {
  settings: {enableInteropTests: false, testAllImplementations: false},
  implementations: [{
    name: 'kaga_vc',
    implementation: 'kaga_vc VC-API server (kaga-vc serve)',
    issuers: [{
      id: '$ED25519_DID', endpoint: issue('eddsa'), headers,
      supports: {vc: ['1.1', '2.0']}, tags: ['vc2.0', 'eddsa-rdfc-2022', 'vc-api']
    }, {
      id: '$P256_DID', endpoint: issue('p256'), headers,
      supports: {vc: ['1.1', '2.0']}, supportedEcdsaKeyTypes: ['P-256'], tags: ['ecdsa-rdfc-2019']
    }, {
      id: '$P384_DID', endpoint: issue('p384'), headers,
      supports: {vc: ['1.1', '2.0']}, supportedEcdsaKeyTypes: ['P-384'], tags: ['ecdsa-rdfc-2019']
    }, {
      id: '$ED25519_DID', endpoint: issue('bitstring'), headers, tags: ['BitstringStatusList']
    }],
    verifiers: [{
      id: '', endpoint: \`\${base}/credentials/verify\`, supports: {vc: ['1.1', '2.0']},
      supportedEcdsaKeyTypes: ['P-256', 'P-384'],
      tags: ['vc2.0', 'eddsa-rdfc-2022', 'ecdsa-rdfc-2019', 'BitstringStatusList', 'vc-api']
    }],
    vpVerifiers: [{id: '', endpoint: \`\${base}/presentations/verify\`, tags: ['vc2.0']}]
  }]
};
EOF

# -- run --------------------------------------------------------------------------------------------
# The suites' clients accept the self-signed certificate; the status list loader is told about it.
export NODE_EXTRA_CA_CERTS="$TMP/tls-cert.pem"
set +e
"$HARNESS/run.sh" "$SUITE" "$CONFIG" "$@" > "$TMP/harness.log" 2>&1
status=$?
set -e
grep -E '^(FAIL|run\.sh:)' "$TMP/harness.log" || true
summary="$(grep -E ': [0-9]+ passed, [0-9]+ failed, [0-9]+ pending' "$TMP/harness.log" | tail -1)"
if [[ -z "$summary" ]]; then
  echo "conformance: no summary from the harness; its output:" >&2
  tail -40 "$TMP/harness.log" >&2
  [[ $status -ne 0 ]] || status=2
else
  echo "$summary"
  grep -E 'report' "$TMP/harness.log" | tail -1 || true
fi
exit "$status"
