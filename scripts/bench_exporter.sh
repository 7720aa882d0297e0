#!/usr/bin/env bash
# Soak benchmark of the exporter (not a timed test): N consecutive probes
# (default 1,000) through /probe against loopback targets, alternating a
# healthy one (127.0.0.1: the exporter's own port is open) and a closed one
# (127.0.0.2: port-closed), then compares the exporter's own goroutines,
# open file descriptors and resident memory before and after.
#
# Bounds (exit 1 when exceeded): goroutines +5, file descriptors +5,
# RSS +16 MiB over the value after a 100-probe warm-up. Every probe must
# answer 200. Everything binds to 127.0.0.1 and is stopped on exit.
#
#   scripts/bench_exporter.sh            # 1,000 probes
#   PROBES=200 scripts/bench_exporter.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
probes=${PROBES:-1000}
max_goroutines=5
max_fds=5
max_rss_mib=16

fail() { echo "bench_exporter: FAIL: $*" >&2; exit 1; }
command -v curl >/dev/null || fail "needs curl (apt-get install -y curl)"

tmp=$(mktemp -d)
pid=
cleanup() {
	[[ -n $pid ]] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
	rm -rf "$tmp"
}
trap cleanup EXIT

(cd "$root" && go build -o "$tmp/ucprobe" ./cmd/ucprobe)
port=
for ((p = 19579; p < 19679; p++)); do
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[[ -n $port ]] || fail "no free port"
cat >"$tmp/probes.yaml" <<YAML
max_concurrent: 2
modules:
  tcp_local:
    profile: generic
    vars: {tcp: "$port"}
    timeout: 5s
    allowed_targets: [127.0.0.0/8]
YAML
"$tmp/ucprobe" exporter --config "$tmp/probes.yaml" --listen "127.0.0.1:$port" 2>"$tmp/exporter.log" &
pid=$!
base="http://127.0.0.1:$port"
for ((i = 0; i < 50; i++)); do
	curl -fsS --max-time 2 -o /dev/null "$base/-/healthy" 2>/dev/null && break
	sleep 0.2
done

# gauge NAME: the exporter's own value of an unlabelled metric.
gauge() { curl -fsS --max-time 5 "$base/metrics" | awk -v n="$1" '$1 == n { printf "%.0f\n", $2 }'; }

# run COUNT: COUNT probes, alternating targets; prints the non-200 count.
run() {
	local i t code bad=0
	for ((i = 0; i < $1; i++)); do
		t=127.0.0.$((i % 2 + 1))
		code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' \
			-H 'X-Prometheus-Scrape-Timeout-Seconds: 5' "$base/probe?module=tcp_local&target=$t") || code=000
		[[ $code == 200 ]] || bad=$((bad + 1))
	done
	echo "$bad"
}

[[ $(run 100) == 0 ]] || fail "warm-up probes failed"
sleep 1 # let the last connections close
g0=$(gauge go_goroutines) f0=$(gauge process_open_fds) r0=$(gauge process_resident_memory_bytes)
start=$(date +%s.%N)
bad=$(run "$probes")
end=$(date +%s.%N)
sleep 1
g1=$(gauge go_goroutines) f1=$(gauge process_open_fds) r1=$(gauge process_resident_memory_bytes)
probed=$(curl -fsS "$base/metrics" | awk '$1 ~ /^ucprobe_exporter_probes_total/ { s += $2 } END { printf "%d\n", s }')

secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
rate=$(awk -v n="$probes" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
rss_delta_mib=$(awk -v a="$r0" -v b="$r1" 'BEGIN { printf "%.1f", (b - a) / 1048576 }')
printf 'exporter soak: %d probes in %ss (%s/s incl. curl start-up), %d not 200, %d counted by the exporter\n' "$probes" "$secs" "$rate" "$bad" "$probed"
printf '  goroutines  %5d -> %5d (bound +%d)\n' "$g0" "$g1" "$max_goroutines"
printf '  open fds    %5d -> %5d (bound +%d)\n' "$f0" "$f1" "$max_fds"
printf '  RSS         %5.1f -> %5.1f MiB (%+.1f, bound +%d)\n' "$(awk -v x="$r0" 'BEGIN{print x/1048576}')" "$(awk -v x="$r1" 'BEGIN{print x/1048576}')" "$rss_delta_mib" "$max_rss_mib"

((bad == 0)) || fail "$bad probes did not answer 200"
((g1 - g0 <= max_goroutines)) || fail "goroutines grew by $((g1 - g0))"
((f1 - f0 <= max_fds)) || fail "file descriptors grew by $((f1 - f0))"
awk -v d="$rss_delta_mib" -v m="$max_rss_mib" 'BEGIN { exit !(d <= m) }' || fail "RSS grew by $rss_delta_mib MiB"
echo "bench_exporter: PASS"
