#!/usr/bin/env bash
# A throwaway PostgreSQL + PostGIS cluster for the tests and benchmarks.
#
#   scripts/pg.sh run -- CMD ...   start a cluster, export GRIDATLAS_TEST_PG, run CMD, stop and remove
#                                  the cluster (also when CMD fails or is interrupted); exit with CMD's status
#   scripts/pg.sh start DIR        start a cluster in DIR (created), print its URL
#   scripts/pg.sh stop DIR         stop the cluster in DIR and remove DIR
#
# The server runs as an unprivileged user (postgres, else nobody) on a free
# local port, listens on 127.0.0.1 only, trusts local connections and holds one
# database `gridatlas` with the postgis extension.
set -euo pipefail

bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
    echo "pg.sh: PostgreSQL server binaries not found under /usr/lib/postgresql (make system installs them)" >&2
    exit 1
  fi
  echo "$d"
}

run_as() {  # run_as USER CMD...: as USER when we are root, else as ourselves
  local user=$1; shift
  if [ "$(id -u)" = "0" ]; then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

server_user() {
  if [ "$(id -u)" != "0" ]; then id -un; elif id postgres >/dev/null 2>&1; then echo postgres; else echo nobody; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local dir=$1 bin user port
  bin=$(bindir)
  user=$(server_user)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  chmod 755 "$dir"
  [ "$(id -u)" = "0" ] && chown "$user" "$dir"
  run_as "$user" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  port=$(free_port)
  run_as "$user" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100 -c shared_buffers=256MB -c work_mem=64MB -c maintenance_work_mem=256MB -c max_wal_size=4GB" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  echo "$port" >"$dir/port"
  psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE gridatlas" >/dev/null
  psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d gridatlas -c "CREATE EXTENSION postgis" >/dev/null \
    || { echo "pg.sh: the postgis extension is missing (make system installs postgresql-*-postgis-3)" >&2; stop "$dir"; exit 1; }
  echo "postgresql://postgres@127.0.0.1:$port/gridatlas"
}

stop() {
  local dir=$1 bin user
  [ -d "$dir" ] || return 0
  bin=$(bindir)
  user=$(server_user)
  if [ -f "$dir/data/postmaster.pid" ]; then
    run_as "$user" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start "$2" ;;
  stop) stop "$2" ;;
  run)
    shift
    [ "${1:-}" = "--" ] && shift
    dir=$(mktemp -d /tmp/gridatlas-pg.XXXXXX)
    trap 'stop "$dir"' EXIT
    trap 'exit 130' INT TERM
    url=$(start "$dir")
    echo "pg.sh: PostGIS test cluster at $url" >&2
    set +e
    GRIDATLAS_TEST_PG=$url "$@"
    status=$?
    set -e
    exit $status
    ;;
  *) echo "usage: scripts/pg.sh run -- CMD... | start DIR | stop DIR" >&2; exit 2 ;;
esac
