#!/usr/bin/env bash
# Browser tests of aixin's pages in real Chromium (Debian's chromium, driven
# by playwright-core under node --test). Installs what is missing, builds
# aixin, starts it on a temporary data folder and a free loopback port, runs
# e2e/tests/*.test.mjs against it and stops it. Exits non-zero on failure.
#
#   bash e2e/run.sh                 every test
#   bash e2e/run.sh tests/roster.test.mjs
#
# Screenshots land in e2e/screenshots/ (not committed): look at them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$here"

# Debian packages: the browser, CJK fonts (without them Chinese renders as
# boxes), zbarimg (an independent QR decoder), ffmpeg (the fake camera's
# video), poppler's pdfinfo/pdftoppm (printed slips), LibreOffice Calc
# (opens the exported spreadsheets) and Node if missing.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
command -v zbarimg >/dev/null 2>&1 || missing+=(zbar-tools)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-calc-nogui)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
  echo "e2e: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The zh_CN.UTF-8 locale: Chromium's own language and non-ASCII download
# names need it (see lib.mjs).
if ! locale -a 2>/dev/null | grep -qix 'zh_CN.utf8'; then
  echo "e2e: making the zh_CN.UTF-8 locale"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  if ! command -v localedef >/dev/null 2>&1 || [ ! -d /usr/share/i18n/locales ]; then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends locales >/dev/null
  fi
  $sudo localedef -i zh_CN -f UTF-8 zh_CN.UTF-8
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "e2e: Node $(node --version) is too old; playwright-core and node --test need Node 20 or later" >&2
  exit 1
fi

# playwright-core and axe-core (the accessibility checker that
# tests/a11y.test.mjs injects into pages), at the versions package-lock.json
# pins: npm ci when any of them is missing or at another version.
stale=$(node -e '
  const lock = require("./package-lock.json").packages;
  for (const name of Object.keys(lock[""].devDependencies)) {
    const want = lock["node_modules/" + name].version;
    let have = "";
    try { have = require("./node_modules/" + name + "/package.json").version } catch {}
    if (have !== want) console.log(name + "@" + want);
  }')
if [ -n "$stale" ]; then
  echo "e2e: npm ci ($(echo $stale))"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Build and start aixin: on a data folder, or with AIXIN_TEST_ENGINE=postgres
# on a PostgreSQL server of its own (tools/postgres/start.sh), where each
# test's fresh server gets a database of its own (lib.mjs freshServer).
tmp=$(mktemp -d)
server_pid=""
pg_dir=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  [ -n "$pg_dir" ] && bash "$root/tools/postgres/stop.sh" "$pg_dir"
  rm -rf "$tmp"
}
trap cleanup EXIT

(cd "$root" && go build -o "$tmp/aixin" ./cmd/aixin)
export AIXIN_ADMIN_PASSWORD="e2e-admin-$(date +%s)-$RANDOM"
mkdir -p "$tmp/data"
db_flag=()
if [ "${AIXIN_TEST_ENGINE:-}" = postgres ]; then
  bash "$root/tools/postgres/install.sh"
  pg_dir=$(mktemp -d /tmp/aixin-e2e-pg-XXXXXX)
  export AIXIN_TEST_PG=$(bash "$root/tools/postgres/start.sh" "$pg_dir")
  psql -q "$AIXIN_TEST_PG" -c 'CREATE DATABASE e2e'
  db_flag=(--db "$(printf '%s' "$AIXIN_TEST_PG" | sed 's|/postgres?|/e2e?|')")
  echo "e2e: on PostgreSQL ${db_flag[1]}"
fi
"$tmp/aixin" serve --addr 127.0.0.1:0 --data "$tmp/data" "${db_flag[@]}" >"$tmp/stdout" 2>"$tmp/server.log" &
server_pid=$!

url=""
for _ in $(seq 1 100); do
  url=$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' "$tmp/stdout" | head -n1)
  [ -n "$url" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "e2e: aixin did not start:" >&2
    cat "$tmp/stdout" "$tmp/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "e2e: aixin printed no address in 10 s" >&2
  cat "$tmp/stdout" "$tmp/server.log" >&2
  exit 1
fi
echo "e2e: aixin at $url"

export AIXIN_URL="$url"
# The binary, for tests that need a server of their own on a fresh data folder.
export AIXIN_BIN="$tmp/aixin"
export AIXIN_ADMIN_LOGIN="${AIXIN_ADMIN_LOGIN:-admin}"
mkdir -p screenshots
status=0
if (($#)); then
  node --test --test-concurrency=1 "$@" || status=$?
else
  node --test --test-concurrency=1 tests/*.test.mjs || status=$?
fi
if [ "$status" -ne 0 ]; then
  echo "e2e: failed; the server's last log lines:" >&2
  tail -n 40 "$tmp/server.log" >&2
fi
exit "$status"
