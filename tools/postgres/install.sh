#!/usr/bin/env bash
# Installs Debian's PostgreSQL server programs when they are missing, for the
# tests of the PostgreSQL engine (store/postgres/pgtest starts a server of
# its own in a temporary folder; the packaged cluster need not run).
set -euo pipefail
if command -v initdb >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  exit 0
fi
echo "postgres: installing Debian's postgresql"
export DEBIAN_FRONTEND=noninteractive
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
