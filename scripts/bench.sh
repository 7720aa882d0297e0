#!/usr/bin/env bash
# Benchmarks: ucprobe side by side with the established tools, whole-process
# time, median of repeated runs, against servers started here on loopback.
# Not a test: it prints a Markdown table and never fails on slowness. Both
# sides run under timeout(1), so a hang ends and both pay the same wrapper.
#
#   scripts/bench.sh [all|startup|stun|turn|deadline|sweep]    (RUNS=21 by default;
#   NMAP_RUNS=5 for nmap's ~20 s scans in the sweep section, DEADLINE_RUNS=5
#   for the blocked sites of the deadline section)
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

# start_responder: `ucprobe serve --udp 30000-33000` on 127.0.0.1 with its
# HTTP endpoint on a free port; sets RESPONDER (host:port for --responder).
RESPONDER=""
start_responder() {
	[[ -n "$RESPONDER" ]] && return
	local http
	http=$(free_port)
	# 3,001 UDP sockets need about 3,300 open files.
	(ulimit -n 8192 && exec "$UCPROBE" serve --udp 30000-33000 --listen 127.0.0.1 --http "127.0.0.1:$http" --state-dir "$WORK/serve-state") \
		>"$WORK/serve.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do
		grep -q "Stop with Ctrl-C" "$WORK/serve.log" 2>/dev/null && break
		sleep 0.1
	done
	grep -q "Stop with Ctrl-C" "$WORK/serve.log" || { echo "bench: ucprobe serve did not start:" >&2; cat "$WORK/serve.log" >&2; exit 1; }
	if grep -q "not bound" "$WORK/serve.log"; then
		echo "bench: note: $(grep "not bound" "$WORK/serve.log" | sed 's/^ *//') (those ports count as not-served)" >&2
	fi
	RESPONDER="127.0.0.1:$http"
}

# sweep_profile FILE PORTS: a one-check profile sweeping 127.0.0.1 PORTS.
sweep_profile() {
	cat >"$1" <<YAML
id: bench-sweep
product: ucprobe bench
purpose: one UDP range sweep against a local responder
source: scripts/bench.sh
checks:
  - id: sweep
    kind: udp-range
    target: 127.0.0.1
    ports: $2
    needs: responder
YAML
}

# sweep_json PROFILE: $RUNS runs with --format json; checks that every
# served port is open (swept - not-served) and prints the median of the
# sweep check's own duration_ms, then "open/swept".
sweep_json() {
	local i out times=() counts ms open ports ns filtered closed sent rounds
	for ((i = 0; i < RUNS; i++)); do
		out=$(timeout 20 "$UCPROBE" run --profile "$1" --responder "$RESPONDER" --format json) || {
			echo "bench: sweep run failed (exit $?)" >&2
			return 1
		}
		counts=$(python3 -c '
import json, sys
r = json.load(sys.stdin)
c = [c for c in r["checks"] if c["id"] == "sweep"][0]
d = c["details"]["udp_range"]
print(c["duration_ms"], d["open"], d["ports"], d.get("not_served", 0), d["filtered"], d["closed"], d["sent"], d["rounds"])' <<<"$out")
		read -r ms open ports ns filtered closed sent rounds <<<"$counts"
		if ((open != ports - ns)); then
			echo "bench: misclassified: $open open of $ports swept ($ns not-served, $filtered filtered, $closed closed)" >&2
			return 1
		fi
		times+=("$ms")
	done
	printf '%s\n' "${times[@]}" | sort -n | awk -v o="$open" -v p="$ports" -v s="$sent" -v r="$rounds" \
		'{a[NR]=$1} END {printf "%.1f %d/%d %d %d", a[int((NR+1)/2)], o, p, s, r}'
}

# UDP range sweep: ucprobe's udp-range check (padded STUN from one socket,
# 25,000 packets/s, retransmissions, the responder's receipts) against
# `ucprobe serve`; on 101 ports side by side with nmap -sU, which cannot
# tell an open port that ignores its probe from a filtered one and so
# waits out its retransmissions on each.
bench_sweep() {
	start_responder
	local ours json ms counts sent rounds ours101 json101 peer nmap_runs=${NMAP_RUNS:-5}
	sweep_profile "$WORK/sweep.yaml" 30000-33000
	sweep_profile "$WORK/sweep101.yaml" 30000-30100
	json=$(sweep_json "$WORK/sweep.yaml")
	read -r ms counts sent rounds <<<"$json"
	if [[ "$counts" != "3001/3001" ]]; then
		echo "bench: the 3,001-port sweep reported $counts open (some ports of 30000-33000 are held by other programs?)" >&2
	fi
	ours=$(median_ms timeout 20 "$UCPROBE" run --profile "$WORK/sweep.yaml" --responder "$RESPONDER")
	row "UDP sweep 30000-33000, 3,001 ports (whole process; check alone: $ms ms, $counts open, $sent sent, $rounds rounds)" "$ours" "-" "-"
	json101=$(sweep_json "$WORK/sweep101.yaml")
	read -r ms counts sent rounds <<<"$json101"
	ours101=$(median_ms timeout 20 "$UCPROBE" run --profile "$WORK/sweep101.yaml" --responder "$RESPONDER")
	if ! command -v nmap >/dev/null && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nmap >/dev/null 2>&1 || true
	fi
	if ! command -v nmap >/dev/null; then
		row "UDP sweep 30000-30100, 101 ports (check alone: $ms ms, $counts open)" "$ours101" "nmap -sU (skipped: not installed; apt-get install nmap)" "-"
	elif [[ $(id -u) != 0 ]]; then
		row "UDP sweep 30000-30100, 101 ports (check alone: $ms ms, $counts open)" "$ours101" "nmap -sU (skipped: needs root)" "-"
	else
		peer=$(RUNS=$nmap_runs median_ms timeout 120 nmap -sU -n -Pn -p 30000-30100 127.0.0.1)
		local states
		# nmap's grepable output lists ports, or folds the commonest state
		# into "Ignored State: open|filtered (101)".
		states=$(timeout 120 nmap -sU -n -Pn -p 30000-30100 -oG - 127.0.0.1 | python3 -c '
import collections, re, sys
n = collections.Counter()
for line in sys.stdin:
    for st, k in re.findall(r"Ignored State: (\S+) \((\d+)\)", line):
        n[st] += int(k)
    m = re.search(r"Ports: (.*?)(\t|$)", line)
    if m:
        for p in m.group(1).split(", "):
            if p.count("/") >= 2:
                n[p.split("/")[1]] += 1
print(", ".join("%d %s" % (k, st) for st, k in n.most_common()))')
		states=${states//|/\\|} # "open|filtered" inside a Markdown table cell
		row "UDP sweep 30000-30100, 101 ports (check alone: $ms ms, $counts open; nmap: $states, median of $nmap_runs)" "$ours101" "nmap -sU -p 30000-30100" "$peer"
	fi
}

# judged CMD...: runs CMD and succeeds when it judged the site (exit 0 ok,
# 1 degraded, 2 failed): a blocked site is a failed run, not a failed bench.
judged() {
	local rc=0
	"$@" || rc=$?
	((rc <= 2))
}

# start_silent: a silent site on loopback: a UDP port that reads and never
# answers, and a TCP port whose accept queue is full, so the kernel drops
# further SYNs and a connect times out as through a filter. Sets SILENT_UDP
# and SILENT_TCP.
SILENT_UDP=""
SILENT_TCP=""
start_silent() {
	[[ -n "$SILENT_UDP" ]] && return
	python3 -u - >"$WORK/silent.out" 2>&1 <<'PY' &
import socket, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
t = socket.socket(); t.bind(("127.0.0.1", 0)); t.listen(0)
fill = []
for _ in range(3):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(t.getsockname())
    except BlockingIOError: pass
    fill.append(c)
time.sleep(0.2)
print(u.getsockname()[1], t.getsockname()[1])
while True:
    u.recv(4096)
PY
	PIDS+=($!)
	for _ in $(seq 50); do
		[[ -s "$WORK/silent.out" ]] && break
		sleep 0.1
	done
	read -r SILENT_UDP SILENT_TCP <"$WORK/silent.out" || { echo "bench: silent site did not start" >&2; exit 1; }
}

# The time budget: a blocked site's run ends within its deadline (+100 ms)
# with its cause named; a healthy run without a media window takes under
# 1 s. The peer column is the bound each must keep. DEADLINE_RUNS (5)
# runs each, since a blocked run takes seconds.
bench_deadline() {
	start_coturn
	start_silent
	local ms n=${DEADLINE_RUNS:-5}
	ms=$(RUNS=$n median_ms judged timeout 20 "$UCPROBE" run -p generic --set server=127.0.0.1 --set tcp="$TURN_PORT" \
		--set stun="$SILENT_UDP" --set turn="$SILENT_UDP" --turn-user bench --turn-pass bench-pass --timeout 5s)
	row "blocked site, UDP silent (STUN, TURN), TCP works, --timeout 5s (median of $n)" "$ms" "deadline + 100 ms" 5100
	ms=$(RUNS=$n median_ms judged timeout 20 "$UCPROBE" run -p generic --set server=127.0.0.1 --set tcp="$SILENT_TCP" \
		--set stun="$SILENT_UDP" --set turn="$SILENT_UDP" --turn-user bench --turn-pass bench-pass --timeout 5s)
	row "blocked site, everything silent (TCP filtered, UDP silent), --timeout 5s (median of $n)" "$ms" "deadline + 100 ms" 5100
	ms=$(median_ms judged timeout 20 "$UCPROBE" run -p generic --set server=127.0.0.1 --set tcp="$TURN_PORT" \
		--set stun="$TURN_PORT" --set turn="$TURN_PORT" --turn-user bench --turn-pass bench-pass --media 0)
	row "healthy site (TCP, STUN, TURN relay), --media 0" "$ms" "goal" 1000
}

echo "ucprobe benchmarks: whole-process time, median of $RUNS runs, loopback ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)"
echo
echo "| what | ucprobe ms | peer | peer ms | ratio |"
echo "|---|---|---|---|---|"
# The ICE timings and the exporter soak have scripts of their own (their
# output is not a table row); they run after the table.
extras() {
	echo
	case "$1" in
	ice | all) scripts/bench_ice.sh ;;
	esac
	case "$1" in
	exporter | all) PROBES="${PROBES:-1000}" scripts/bench_exporter.sh ;;
	esac
}

# Start-up: `ucprobe version` against an empty Go program and against one
# that only links the Prometheus libraries (scripts/startfloor): what
# start-up costs, and how much of it is theirs.
bench_startup() {
	go build -o "$WORK/empty" ./scripts/startfloor/empty
	go build -o "$WORK/promfloor" ./scripts/startfloor/prometheus
	local ours empty prom
	ours=$(median_ms "$UCPROBE" version)
	empty=$(median_ms "$WORK/empty")
	prom=$(median_ms "$WORK/promfloor")
	row "start-up (ucprobe version)" "$ours" "empty Go program" "$empty"
	row "start-up (ucprobe version)" "$ours" "Go program linking only the Prometheus libraries" "$prom"
}

case "${1:-all}" in
stun) bench_stun ;;
startup) bench_startup ;;
turn) bench_turn ;;
deadline) bench_deadline ;;
sweep) bench_sweep ;;
ice | exporter) ;;
all)
	bench_startup
	bench_stun
	bench_turn
	bench_deadline
	bench_sweep
	;;
*)
	echo "usage: $0 [all|startup|stun|turn|deadline|sweep|ice|exporter]" >&2
	exit 3
	;;
esac
extras "${1:-all}"
