#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the test suite and benchmarks.
#   tests/pgcluster.sh start DIR   -> prints the DATABASE_URL of a new cluster in DIR
#   tests/pgcluster.sh replica DIR PORT -> starts in DIR a streaming replica of the cluster
#                                    on 127.0.0.1:PORT and prints the replica's port
#   tests/pgcluster.sh stop DIR    -> stops it and removes DIR
# A new cluster already allows replication: wal_level=replica and initdb's pg_hba.conf.
# PostgreSQL refuses to run as root, so as root the server runs as `postgres`.
set -euo pipefail

cmd=${1:?start or stop}
dir=${2:?directory}
bindir=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || dirname "$(command -v initdb)")

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

new_dir() {
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
}

case "$cmd" in
  start)
    new_dir
    port=$(free_port)
    as_pg "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
    # Durability is not needed for a throwaway test cluster.
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
      "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null
    as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres tracker
    echo "postgres://postgres@127.0.0.1:$port/tracker"
    ;;
  replica)
    primary_port=${3:?port of the primary}
    new_dir
    port=$(free_port)
    # -R writes the standby settings: the copy starts as a replica that follows the primary.
    # A standby needs at least the primary's max_connections.
    as_pg "$bindir/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$dir/data" -R -X stream -c fast
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
      "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 -c hot_standby=on" start >/dev/null
    echo "$port"
    ;;
  stop)
    if [ -d "$dir/data" ]; then as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|replica|stop DIR [PORT]" >&2; exit 2 ;;
esac
