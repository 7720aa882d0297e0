#!/usr/bin/env bash
# Benchmarks: ucprobe side by side with the established tools, whole-process
# time, median of repeated runs, against servers started here on loopback.
# Not a test: it prints a Markdown table and never fails on slowness. Both
# sides run under timeout(1), so a hang ends and both pay the same wrapper.
#
#   scripts/bench.sh [all|stun|turn]    (RUNS=21 by default)
#
# Sections are functions named bench_<name> that print table rows with
# `row`; add yours and list it in the case at the bottom. Only loopback
# traffic: every server is started by this script on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-21}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT

go build -o "$WORK/ucprobe" ./cmd/ucprobe
UCPROBE="$WORK/ucprobe"

# median_ms CMD...: runs CMD $RUNS times (output discarded), prints the
# median wall time in ms. A failing run aborts: a fast failure is no result.
median_ms() {
	local times=() i t0 t1
	for ((i = 0; i < RUNS; i++)); do
		t0=$(date +%s%N)
		if ! "$@" >/dev/null 2>&1; then
			echo "bench: command failed: $*" >&2
			return 1
		fi
		t1=$(date +%s%N)
		times+=($(((t1 - t0) / 1000)))
	done
	printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}

# row WHAT OURS_MS PEER PEER_MS
row() {
	local ratio
	ratio=$(awk -v a="$2" -v b="$4" 'BEGIN { if (b > 0) printf "%.3g", a / b; else print "-" }')
	printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$ratio"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_coturn: coturn on 127.0.0.1 with a long-term user; sets TURN_PORT.
TURN_PORT=""
start_coturn() {
	[[ -n "$TURN_PORT" ]] && return
	command -v turnserver >/dev/null || { echo "bench: turnserver missing (apt-get install -y coturn)" >&2; exit 1; }
	TURN_PORT=$(free_port)
	turnserver -n --no-cli -L 127.0.0.1 --listening-port="$TURN_PORT" --realm=bench.test \
		--lt-cred-mech --user=bench:bench-pass --fingerprint --allow-loopback-peers \
		--no-dtls --no-tls --no-tcp-relay --log-file="$WORK/turn.log" --simple-log \
		--pidfile="$WORK/turn.pid" --userdb="$WORK/turn.db" >/dev/null 2>&1 &
	PIDS+=($!)
	for _ in $(seq 50); do
		timeout 1 turnutils_stunclient -p "$TURN_PORT" 127.0.0.1 >/dev/null 2>&1 && return
		sleep 0.1
	done
	echo "bench: coturn did not start" >&2
	exit 1
}

# STUN binding: ucprobe's stun check (one binding, NAT test from a second
# socket) vs turnutils_stunclient (one binding).
bench_stun() {
	start_coturn
	local ours peer
	ours=$(median_ms timeout 20 "$UCPROBE" run -p generic --set server=127.0.0.1 --set tcp= --set stun="$TURN_PORT")
	peer=$(median_ms timeout 5 turnutils_stunclient -p "$TURN_PORT" 127.0.0.1)
	row "STUN binding (UDP)" "$ours" "turnutils_stunclient" "$peer"
}

# TURN: ucprobe's allocation + permission + 5 relayed round trips vs
# turnutils_uclient with one client, one message, client-to-client (-y).
bench_turn() {
	start_coturn
	local ours peer
	ours=$(median_ms timeout 20 "$UCPROBE" run -p generic --set server=127.0.0.1 --set tcp= --set turn="$TURN_PORT" --turn-user bench --turn-pass bench-pass)
	peer=$(median_ms timeout 20 turnutils_uclient -u bench -w bench-pass -p "$TURN_PORT" -y -n 1 -m 1 -l 20 -z 1 127.0.0.1)
	row "TURN allocate + relay round trip (UDP)" "$ours" "turnutils_uclient -y -n 1 -m 1" "$peer"
}

echo "ucprobe benchmarks: whole-process time, median of $RUNS runs, loopback ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)"
echo
echo "| what | ucprobe ms | peer | peer ms | ratio |"
echo "|---|---|---|---|---|"
case "${1:-all}" in
stun) bench_stun ;;
turn) bench_turn ;;
all)
	bench_stun
	bench_turn
	;;
*)
	echo "usage: $0 [all|stun|turn]" >&2
	exit 3
	;;
esac
