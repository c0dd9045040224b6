#!/usr/bin/env bash
# Runs the whole suite on SQLite, then on a throwaway PostgreSQL cluster.
# The cluster is stopped whatever happens; the exit status is non-zero if either run fails.
set -uo pipefail
cd "$(dirname "$0")/.."

export DJANGO_DEBUG=false DJANGO_SECRET_KEY=test-only-secret-key
unset DATABASE_URL
# Two workers: the suite is CPU-bound and the machines have two cores.
pytest=(.venv/bin/python -m pytest -p no:cacheprovider -n 2 "$@")

pgdir=$(mktemp -d /tmp/tracker-pg.XXXXXX)
trap 'bash tests/pgcluster.sh stop "$pgdir"' EXIT

echo "== Test suite on SQLite"
"${pytest[@]}"
sqlite_status=$?

echo "== Test suite on PostgreSQL"
if url=$(bash tests/pgcluster.sh start "$pgdir"); then
  DATABASE_URL=$url "${pytest[@]}"
  pg_status=$?
else
  echo "Could not start PostgreSQL; see $pgdir/server.log" >&2
  pg_status=1
fi

echo "== SQLite: exit $sqlite_status; PostgreSQL: exit $pg_status"
[ "$sqlite_status" = 0 ] && [ "$pg_status" = 0 ]
