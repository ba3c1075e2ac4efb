#!/usr/bin/env bash
# The one test command (README, .ci/run): install what the tests need, run the whole suite.
# - a virtualenv in .venv with the project and its [test] and [dev] extras
# - the lint gate: `ruff check` and `mypy --strict kaga_vc` must pass
# - PostgreSQL (Debian's package) when it is missing, for the issuance-records tests
# - the Node.js interop packages of every tests/interop/*/ folder that has a package-lock.json
# - services that tests need are started by the test session itself (tests/conftest.py) and
#   stopped when it ends
# pytest's exit code 5 ("no tests collected") is a failure here, never a pass.
set -euo pipefail
cd "$(dirname "$0")/.."

# PostgreSQL for the issuance-records tests: a real server, started and stopped by tests/_postgres.py.
# Installed from Debian's packages only when no initdb / pg_ctl is found (CI runs this as root, no stdin).
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || ! compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "installing PostgreSQL (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq </dev/null
    apt-get install -y -qq --no-install-recommends postgresql </dev/null >/dev/null
  else
    echo "PostgreSQL is not installed and this is not root: install the postgresql package" >&2
  fi
fi

# Chromium, ffmpeg and a Japanese font for the shop page's browser tests (tests/openid4vc/test_shop_browser.py):
# Debian's packages, driven by PyPI playwright with executable_path (no browser download).
if ! command -v chromium >/dev/null || ! command -v ffmpeg >/dev/null || [ ! -d /usr/share/fonts/opentype/ipafont-gothic ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "installing Chromium, ffmpeg and a Japanese font (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq </dev/null
    apt-get install -y -qq --no-install-recommends chromium ffmpeg fonts-ipafont-gothic </dev/null >/dev/null
  else
    echo "Chromium/ffmpeg are not installed and this is not root: the shop page's browser tests will skip" >&2
  fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
# [dev] adds the linters the gate below runs (ruff, mypy) to the [test] extra
python -m pip install --quiet --disable-pip-version-check ".[test,dev]"

# CI checks what the code claims: ruff's rules on the whole tree and mypy --strict on the package
# (configured in pyproject.toml); either failing fails the run before the tests start.
echo "ruff check"
ruff check --no-cache .
echo "mypy --strict kaga_vc"
mypy --strict kaga_vc

for lock in tests/interop/*/package-lock.json; do
  [ -e "$lock" ] || continue
  dir=$(dirname "$lock")
  echo "installing Node.js interop packages in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
done

export KAGA_VC_REQUIRE_NODE=1
set +e
python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
exit "$status"
