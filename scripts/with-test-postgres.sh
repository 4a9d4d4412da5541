#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL server: `scripts/with-test-postgres.sh CMD ARGS…`
#
# Installs Debian's PostgreSQL when no server binaries are found, creates a new
# cluster in a temporary folder (fsync off: test data only), listening on a Unix
# socket in that folder only (no TCP port, so it never meets a system server on
# 5432), exports SHOP_TEST_POSTGRES_URL for tests/conftest.py, runs CMD, then
# stops the server and deletes the folder however CMD ends. Exits with CMD's status.
#
# PostgreSQL refuses to run as root: as root the server runs as the `postgres`
# system user (created by Debian's package), otherwise as the current user.
# With SHOP_TEST_POSTGRES_URL already set, CMD runs against that server instead.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGS…]" >&2
  exit 2
fi

if [ -n "${SHOP_TEST_POSTGRES_URL:-}" ]; then
  echo "Using the PostgreSQL server at SHOP_TEST_POSTGRES_URL"
  exec "$@"
fi

# The newest installed server version's binaries, e.g. /usr/lib/postgresql/15/bin
# (a version with only the client installed has a bin folder without initdb).
find_pg_bin() {
  local initdb
  initdb=$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n 1) || true
  if [ -n "$initdb" ] && [ -x "${initdb%/initdb}/pg_ctl" ]; then
    echo "${initdb%/initdb}"
  fi
}

pg_bin=$(find_pg_bin)
if [ -z "$pg_bin" ]; then
  echo "Installing PostgreSQL from Debian"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  # The `postgresql` package is Debian's current version. Its own cluster (if the
  # package starts one) stays on port 5432; ours below uses only a private socket.
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql
  pg_bin=$(find_pg_bin)
  if [ -z "$pg_bin" ]; then
    echo "PostgreSQL was installed but no /usr/lib/postgresql/*/bin/initdb was found" >&2
    exit 1
  fi
fi

run_as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  if ! id postgres >/dev/null 2>&1; then
    echo "Running as root, but there is no 'postgres' user to run the server as" >&2
    exit 1
  fi
  run_as_owner=(runuser -u postgres --)
fi

# In memory when there is room (creating a database per test is about ten times
# faster on tmpfs than on disk), else under /tmp. A short path either way: the
# Unix socket's path must stay under about 100 characters.
parent=/tmp
if [ -d /dev/shm ] && [ -w /dev/shm ] \
  && [ "$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 {print $4}')" -ge 1048576 ] 2>/dev/null; then
  parent=/dev/shm
fi
work=$(mktemp -d "$parent/shop-test-pg.XXXXXX")
data="$work/data"
log="$work/server.log"

as_owner() {
  # From the work folder: the server's user may not be allowed into the caller's directory.
  (cd "$work" && "${run_as_owner[@]}" "$@")
}

stop_server() {
  if [ -f "$data/postmaster.pid" ]; then
    as_owner "$pg_bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The server's user owns the folder; the test processes (this user) reach its socket.
[ "$(id -u)" -ne 0 ] || chown postgres: "$work"
chmod 755 "$work"

as_owner "$pg_bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-sync \
  >"$work/initdb.log" 2>&1 || {
  cat "$work/initdb.log" >&2
  exit 1
}

# Settings for a disposable test server. The socket lives in the work folder and
# listen_addresses is empty: no TCP port at all. Appended as the file's owner.
as_owner tee -a "$data/postgresql.conf" >/dev/null <<EOF

# scripts/with-test-postgres.sh: a throwaway server for tests
listen_addresses = ''
unix_socket_directories = '$work'
unix_socket_permissions = 0777
port = 5432
max_connections = 100
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
shared_buffers = 128MB
log_min_messages = warning
EOF

if ! as_owner "$pg_bin/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null; then
  echo "The test PostgreSQL server did not start:" >&2
  cat "$log" >&2 || true
  exit 1
fi

export SHOP_TEST_POSTGRES_URL="postgresql://postgres@/postgres?host=$work&port=5432"
echo "Test PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on socket $work"

status=0
"$@" || status=$?
exit "$status"
