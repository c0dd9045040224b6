#!/usr/bin/env bash
# Back up a PostgreSQL database with pg_dump, restore it into a fresh database and
# compare the row count of every table. Exit status 0 only when all counts match.
#   ops/backup_check.sh postgres://user@host:port/name [DUMPFILE]
set -euo pipefail

url=${1:?usage: $0 DATABASE_URL [DUMPFILE]}
dump=${2:-$(mktemp /tmp/tracker-backup.XXXXXX.dump)}
bindir=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || dirname "$(command -v pg_dump)")
restore_db="$(basename "${url%%\?*}")_restore_check"
restore_url="${url%/*}/$restore_db"

counts() {
  "$bindir/psql" "$1" -Atc "
    SELECT string_agg(format('%s=%s', t.relname,
             (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I', t.relname), false, true, '')))[1]::text),
           ' ' ORDER BY t.relname)
    FROM pg_stat_user_tables t"
}

echo "Dumping to $dump"
"$bindir/pg_dump" --format=custom --no-owner --file="$dump" "$url"
"$bindir/psql" "$url" -qc "DROP DATABASE IF EXISTS \"$restore_db\"" -c "CREATE DATABASE \"$restore_db\""
trap '"$bindir/psql" "$url" -qc "DROP DATABASE IF EXISTS \"$restore_db\"" >/dev/null 2>&1 || true' EXIT
echo "Restoring into $restore_db"
"$bindir/pg_restore" --no-owner --exit-on-error --dbname="$restore_url" "$dump"

original=$(counts "$url")
restored=$(counts "$restore_url")
if [ "$original" != "$restored" ]; then
  echo "MISMATCH"; echo " original: $original"; echo " restored: $restored"; exit 1
fi
echo "OK: every table has the same row count after restore"
echo "$restored" | tr ' ' '\n' | grep -E '^incidents_(incident|historicalincident|courthouse|county)='
