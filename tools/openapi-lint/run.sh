#!/usr/bin/env bash
# Lints static/openapi.yaml with Redocly CLI (the npm package @redocly/cli at
# the version package-lock.json pins; installed with npm ci when missing):
# the recommended rules, warnings counted as errors (redocly.yaml), and the
# exceptions listed place by place in .redocly.lint-ignore.yaml. Offline: no
# telemetry, no update check. Exits non-zero on any problem.
#
#   bash tools/openapi-lint/run.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "openapi-lint: installing nodejs and npm"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "openapi-lint: Node $(node --version) is too old; @redocly/cli needs Node 20.19 or later" >&2
  exit 1
fi

want=$(node -p 'require("./package-lock.json").packages["node_modules/@redocly/cli"].version')
have=$(node -p 'try { require("./node_modules/@redocly/cli/package.json").version } catch { "" }')
if [ "$want" != "$have" ]; then
  echo "openapi-lint: npm ci (@redocly/cli $want)"
  npm ci --no-audit --no-fund --loglevel=error
fi

export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_NOTIFICATIONS=true REDOCLY_SUPPRESS_UPDATE_NOTICE=true
exec ./node_modules/.bin/redocly lint --config redocly.yaml --format stylish --max-problems 1000 ../../static/openapi.yaml
