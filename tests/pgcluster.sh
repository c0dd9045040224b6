#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the test suite and benchmarks.
#   tests/pgcluster.sh start DIR   -> prints the DATABASE_URL of a new cluster in DIR
#   tests/pgcluster.sh stop DIR    -> stops it and removes DIR
# PostgreSQL refuses to run as root, so as root the server runs as `postgres`.
set -euo pipefail

cmd=${1:?start or stop}
dir=${2:?directory}
bindir=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || dirname "$(command -v initdb)")

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_pg "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
    # Durability is not needed for a throwaway test cluster.
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
      "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null
    as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres tracker
    echo "postgres://postgres@127.0.0.1:$port/tracker"
    ;;
  stop)
    if [ -d "$dir/data" ]; then as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
