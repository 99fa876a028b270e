#!/usr/bin/env bash
# Starts a PostgreSQL server of its own in folder DIR (made if missing) on a
# free loopback port, as the browser tests on PostgreSQL need, and prints
# its postgres:// address. As root it runs PostgreSQL as the user postgres,
# which refuses to run as root. Stop it with tools/postgres/stop.sh DIR.
#
#   url=$(bash tools/postgres/start.sh /tmp/pg)
set -euo pipefail
dir=$1
bin=$(dirname "$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n1)")
run=()
mkdir -p "$dir"
chmod 755 "$dir"
if [ "$(id -u)" = 0 ]; then
  chown postgres "$dir"
  run=(runuser -u postgres --)
fi
"${run[@]}" "$bin/initdb" -D "$dir/data" -A trust -U aixin -E UTF8 --locale=C --no-sync >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${run[@]}" "$bin/pg_ctl" -D "$dir/data" -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300" \
  -l "$dir/log" -w -t 60 start >/dev/null
echo "postgres://aixin@127.0.0.1:$port/postgres?sslmode=disable"
