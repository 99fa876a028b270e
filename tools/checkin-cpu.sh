#!/usr/bin/env bash
# checkin-cpu.sh: the server's CPU time per check-in, as issue 14 measures it.
#
#   bash tools/checkin-cpu.sh [-r ROUNDS] [-s SHORT] [-l LONG] BINARY...
#
# For each round and each binary (interleaved, so that the load the other
# users of the machine put on it falls on every binary alike) it starts
# `BINARY serve` on a new data folder, runs `BINARY bench checkin
# --duration SHORT` against it, reads the server's user+system CPU time from
# /proc/PID/stat and stops it; then the same with --duration LONG. The
# figure is (CPU of the long run - CPU of the short run) / (scans of the long
# run - scans of the short run): start-up, the benchmark's set-up (argon2
# hashes for its volunteers' passwords and logins) and the finalisation at
# the end cost the same in both runs and cancel. Defaults: 3 rounds, 8s and
# 24s. The load generator is BENCH_BIN (default: the first BINARY), the
# same for every server; extra flags for it go in BENCH_FLAGS (e.g.
# BENCH_FLAGS="--volunteers 200"). The long run's own figure (CPU over its
# scans alone, from /metrics, when BENCH_BIN prints it) is shown after.
set -euo pipefail

rounds=3 short=8s long=24s
while getopts r:s:l: o; do
	case $o in
	r) rounds=$OPTARG ;;
	s) short=$OPTARG ;;
	l) long=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-r ROUNDS] [-s SHORT] [-l LONG] BINARY..." >&2; exit 2; }

tick=$(getconf CLK_TCK)
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

# run BINARY DURATION: prints "CPU_SECONDS SCANS" of one server and one benchmark.
run() {
	local bin=$1 dur=$2 port data out
	port=$((20000 + RANDOM % 20000))
	data=$(mktemp -d "$work/data.XXXX")
	AIXIN_DATA=$data AIXIN_ADDR=127.0.0.1:$port AIXIN_ADMIN_PASSWORD=bench-admin-pass \
		AIXIN_LOGIN_LIMIT=100000 AIXIN_USER_LIMIT=1000000 AIXIN_CHECKIN_REPEAT=0s \
		"$bin" serve >"$data.log" 2>&1 &
	server=$!
	for _ in $(seq 100); do
		curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
		sleep 0.1
	done
	out=$(AIXIN_ADMIN_PASSWORD=bench-admin-pass "$bench" bench checkin --url "http://127.0.0.1:$port" --duration "$dur" ${BENCH_FLAGS:-})
	# Fields 14 and 15 of /proc/PID/stat (counted after the command's name,
	# which may hold spaces) are user and system time in clock ticks.
	local stat
	stat=$(sed 's/^.*) //' "/proc/$server/stat")
	kill "$server"
	wait "$server" 2>/dev/null || true
	server=
	rm -rf "$data" "$data.log"
	echo "$stat" | awk -v t="$tick" -v scans="$(echo "$out" | grep -v 'server CPU' | grep -o '[0-9]* scans' | awk '{s += $1} END {print s}')" \
		-v own="$(echo "$out" | grep -o '[0-9.]* ms per scan' | cut -d' ' -f1)" \
		'{printf "%.2f %d %s\n", ($12 + $13) / t, scans, own == "" ? "-" : own}'
}
bench=${BENCH_BIN:-$1}

for r in $(seq "$rounds"); do
	for bin in "$@"; do
		read -r c1 n1 _ < <(run "$bin" "$short")
		read -r c2 n2 own < <(run "$bin" "$long")
		awk -v b="$bin" -v r="$r" -v c1="$c1" -v n1="$n1" -v c2="$c2" -v n2="$n2" -v own="$own" -v s="$short" -v l="$long" 'BEGIN {
			printf "%s round %d: %s %.2f s CPU, %d scans; %s %.2f s, %d scans: %.3f ms of server CPU per scan (over the long run\x27s scans alone: %s ms)\n",
				b, r, s, c1, n1, l, c2, n2, (c2 - c1) / (n2 - n1) * 1000, own }'
	done
done
