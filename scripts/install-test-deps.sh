#!/usr/bin/env bash
# What `make test` needs beyond Python packages: Debian's Chromium for the
# browser tests, a Java runtime and vnu.jar (npm) for the HTML checker, and
# Debian's PostgreSQL server for the database tests' second run, nginx to check the site file
# (scripts/with-test-postgres.sh starts its own throwaway cluster).
set -euo pipefail

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v java >/dev/null 2>&1 || need_apt+=(default-jre-headless)
command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need_apt+=(postgresql)
[ -x /usr/sbin/nginx ] || need_apt+=(nginx)  # tests/operations/test_deploy.py: `nginx -t` on deploy/nginx-shop.conf
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "Installing from Debian: ${need_apt[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

if [ ! -f node_modules/vnu-jar/build/dist/vnu.jar ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --silent --no-audit --no-fund
fi

# The fake Stripe server the payment tests run as a separate process (tests/stripe_server.py).
# It has its own venv: it is a test tool (GPL, aiohttp), never part of the shop.
LOCALSTRIPE_VERSION=1.15.10
if [ ! -x .localstripe/bin/python ] || ! .localstripe/bin/python -c "import localstripe" 2>/dev/null \
   || [ "$(cat .localstripe/version 2>/dev/null)" != "$LOCALSTRIPE_VERSION" ]; then
  rm -rf .localstripe
  python3 -m venv .localstripe
  .localstripe/bin/pip install --quiet --disable-pip-version-check "localstripe==$LOCALSTRIPE_VERSION"
  echo "$LOCALSTRIPE_VERSION" > .localstripe/version
fi
