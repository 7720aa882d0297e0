#!/usr/bin/env bash
# End-to-end test of the monitoring path with a real Prometheus on loopback:
# builds ucprobe, starts the exporter, starts Prometheus with the example
# config (scripts/monitoring/prometheus.yml) pointed at it, waits for
# scrapes, and asserts through Prometheus' HTTP API that probe_success and a
# port-closed finding arrived with the expected values and that the alert
# rules load and go pending. Also runs promtool check rules / test rules /
# check config / check metrics. The exporter serves HTTPS with basic auth
# from web.example.yml (a certificate made here) and Prometheus scrapes it
# with the example's commented TLS lines switched on; a module without
# allowed_targets is refused. Everything binds to 127.0.0.1, every wait is
# bounded, and everything started here is stopped on exit.
#
# Targets: 127.0.0.1 (the exporter's own port is open: healthy) and
# 127.0.0.2 (same port, nothing listens there: port-closed).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

fail() { echo "test-prometheus: FAIL: $*" >&2; exit 1; }
log() { echo "test-prometheus: $*"; }

# Tools: prometheus + promtool (Debian package prometheus), curl.
missing=()
command -v prometheus >/dev/null && command -v promtool >/dev/null || missing+=(prometheus)
command -v curl >/dev/null || missing+=(curl)
command -v openssl >/dev/null || missing+=(openssl)
if ((${#missing[@]})); then
	[[ $(id -u) == 0 ]] || fail "need ${missing[*]} (apt-get install -y ${missing[*]})"
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
		{ apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } ||
		fail "could not install ${missing[*]}"
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
	local rc=$?
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if ((rc != 0)); then
		for f in "$tmp"/*.log; do
			[[ -f $f ]] && { echo "--- $(basename "$f") (last 20 lines)"; tail -n 20 "$f"; }
		done
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# free_port FIRST: the first free TCP port on 127.0.0.1 from FIRST on.
free_port() {
	local p
	for ((p = $1; p < $1 + 100; p++)); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	fail "no free port from $1"
}

# ecurl ARGS: curl to the exporter (HTTPS, its certificate, basic auth).
ecurl() { curl -fsS --cacert "$tmp/web/ucprobe.crt" -u prometheus:change-me "$@"; }

# wait_http URL SECONDS: until URL answers 200.
wait_http() {
	local i
	for ((i = 0; i < $2 * 5; i++)); do
		ecurl --max-time 2 -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

log "promtool check rules / test rules"
promtool check rules "$here"/*.rules.yml >"$tmp/promtool.log" 2>&1 || { cat "$tmp/promtool.log"; fail "promtool check rules"; }
promtool test rules "$here"/*.rules.test.yml >"$tmp/promtool.log" 2>&1 || { cat "$tmp/promtool.log"; fail "promtool test rules"; }
alerts=$(grep -c -- '- alert:' "$here/ucprobe.rules.yml"); runbooks=$(grep -c 'runbook_url:' "$here/ucprobe.rules.yml")
[ "$alerts" = "$runbooks" ] || fail "$alerts alerts but $runbooks runbook_url annotations in ucprobe.rules.yml"
for anchor in $(grep -o 'causes.md#[a-z-]*' "$here/ucprobe.rules.yml" | sort -u | cut -d'#' -f2); do
	grep -q '^## `'"$anchor"'`' "$here/../../docs/causes.md" || fail "runbook anchor #$anchor is not a cause in docs/causes.md"
done

log "building ucprobe"
(cd "$root" && go build -o "$tmp/ucprobe" ./cmd/ucprobe)

exp_port=$(free_port 19479)
cat >"$tmp/probes.yaml" <<YAML
max_concurrent: 4
modules:
  tcp_local:
    profile: generic
    vars:
      tcp: "$exp_port"
    timeout: 5s
    allowed_targets: [127.0.0.0/8]
YAML
"$tmp/ucprobe" exporter --config "$tmp/probes.yaml" --check >/dev/null || fail "exporter --check refused the test config"

# Safe by default: a module without allowed_targets is refused, one line.
printf 'modules:\n  open:\n    profile: generic\n' >"$tmp/open.yaml"
rc=0
"$tmp/ucprobe" exporter --config "$tmp/open.yaml" --check >"$tmp/open.log" 2>&1 || rc=$?
[[ $rc == 3 ]] && [[ $(wc -l <"$tmp/open.log") == 1 ]] && grep -q "open.yaml:2: module open: no allowed_targets" "$tmp/open.log" ||
	fail "a module without allowed_targets: exit $rc, $(cat "$tmp/open.log")"

# The exporter's HTTPS: the example web config next to a certificate for
# 127.0.0.1 made now (the example's paths are relative to the file).
mkdir -p "$tmp/web"
cp "$here/web.example.yml" "$tmp/web/web.yml"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=ucprobe-test \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$tmp/web/ucprobe.key" -out "$tmp/web/ucprobe.crt" >/dev/null 2>&1 ||
	fail "openssl could not make a test certificate"
printf 'change-me' >"$tmp/web/pass"
"$tmp/ucprobe" exporter --config "$tmp/probes.yaml" --listen "127.0.0.1:$exp_port" \
	--web.config.file "$tmp/web/web.yml" >"$tmp/exporter.log" 2>&1 &
pids+=($!)
wait_http "https://127.0.0.1:$exp_port/-/healthy" 10 || fail "exporter did not come up on https://127.0.0.1:$exp_port"
log "exporter on https://127.0.0.1:$exp_port (TLS, basic auth)"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$tmp/web/ucprobe.crt" "https://127.0.0.1:$exp_port/metrics")
[[ $code == 401 ]] || fail "/metrics without credentials answered $code, want 401"
ecurl --max-time 10 -X POST "https://127.0.0.1:$exp_port/-/reload" | grep -q "config reloaded" || fail "POST /-/reload from loopback"

log "promtool check metrics on /probe, /metrics and the textfile output"
for t in 127.0.0.1 127.0.0.2; do
	ecurl --max-time 10 "https://127.0.0.1:$exp_port/probe?module=tcp_local&target=$t" >"$tmp/probe-$t.prom" || fail "/probe for $t"
	promtool check metrics <"$tmp/probe-$t.prom" >"$tmp/promtool.log" 2>&1 || { cat "$tmp/promtool.log"; fail "promtool check metrics on /probe for $t"; }
done
grep -qx 'probe_success 1' "$tmp/probe-127.0.0.1.prom" || fail "/probe for 127.0.0.1 lacks probe_success 1"
ecurl --max-time 10 "https://127.0.0.1:$exp_port/metrics" | promtool check metrics >"$tmp/promtool.log" 2>&1 ||
	{ cat "$tmp/promtool.log"; fail "promtool check metrics on /metrics"; }
rc=0
"$tmp/ucprobe" run --profile generic --server 127.0.0.2 --set "tcp=$exp_port" --timeout 5s \
	--format prometheus --output "$tmp/textfile.prom" || rc=$?
[[ $rc == 2 ]] || fail "run --format prometheus against a closed port exited $rc, want 2"
promtool check metrics <"$tmp/textfile.prom" >"$tmp/promtool.log" 2>&1 || { cat "$tmp/promtool.log"; fail "promtool check metrics on the textfile"; }
grep -q '^ucprobe_finding{cause="port-closed",profile="generic",severity="critical",target="127.0.0.2"} 1$' "$tmp/textfile.prom" ||
	fail "textfile output lacks the port-closed finding: $(cat "$tmp/textfile.prom")"

# Prometheus with the example config: the exporter address, the targets
# and the intervals (60 s is too slow for a test) are the only changes.
prom_port=$(free_port 19090)
mkdir -p "$tmp/prom/targets"
cp "$here/ucprobe.rules.yml" "$tmp/prom/"
sed -e "s/127\.0\.0\.1:9479/127.0.0.1:$exp_port/g" \
	-e 's/scrape_interval: 60s/scrape_interval: 2s/' -e 's/scrape_timeout: 30s/scrape_timeout: 2s/' \
	-e 's/evaluation_interval: 30s/evaluation_interval: 2s/' \
	-e 's/^    #\(scheme\|basic_auth\|tls_config\):/    \1:/' \
	-e "s|/etc/prometheus/ucprobe.pass|$tmp/web/pass|; s|/etc/prometheus/ucprobe.crt|$tmp/web/ucprobe.crt|" \
	"$here/prometheus.yml" >"$tmp/prom/prometheus.yml"
[[ $(grep -c '^    scheme: https' "$tmp/prom/prometheus.yml") == 2 ]] || fail "the example prometheus.yml no longer has the two commented TLS blocks"
grep -q "127.0.0.1:$exp_port" "$tmp/prom/prometheus.yml" || fail "the example prometheus.yml no longer names the exporter at 127.0.0.1:9479"
cat >"$tmp/prom/targets/test.yml" <<YAML
- targets: [127.0.0.1, 127.0.0.2]
  labels:
    __param_module: tcp_local
YAML
promtool check config "$tmp/prom/prometheus.yml" >"$tmp/promtool.log" 2>&1 || { cat "$tmp/promtool.log"; fail "promtool check config"; }
prometheus --config.file="$tmp/prom/prometheus.yml" --storage.tsdb.path="$tmp/prom/data" \
	--web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$tmp/prometheus.log" 2>&1 &
pids+=($!)
api="http://127.0.0.1:$prom_port/api/v1"
wait_http "http://127.0.0.1:$prom_port/-/ready" 30 || fail "Prometheus did not become ready on 127.0.0.1:$prom_port"
log "Prometheus on 127.0.0.1:$prom_port"

# query_value PROMQL: the value of the single series the query returns, or
# nothing (no series yet; more than one is an error).
query_value() {
	local out n
	out=$(curl -fsS --max-time 5 -G "$api/query" --data-urlencode "query=$1") || return 0
	n=$(grep -o '"value":\[' <<<"$out" | wc -l)
	((n == 0)) && return 0
	((n == 1)) || fail "query $1 returned $n series, want 1: $out"
	sed -e 's/.*"value":\[[^,]*,"\([^"]*\)"\].*/\1/' <<<"$out"
}

# expect PROMQL WANT: wait (30 s at most) for the query to return one series.
expect() {
	local v i
	for ((i = 0; i < 60; i++)); do
		v=$(query_value "$1")
		[[ -n $v ]] && break
		sleep 0.5
	done
	[[ -n $v ]] || fail "no series for $1 after 30 s (Prometheus did not scrape the exporter?)"
	[[ $v == "$2" ]] || fail "$1 = $v, want $2"
	log "ok: $1 = $v"
}

expect 'probe_success{job="ucprobe",instance="127.0.0.1",module="tcp_local"}' 1
expect 'probe_success{job="ucprobe",instance="127.0.0.2"}' 0
expect 'ucprobe_finding{job="ucprobe",instance="127.0.0.2",cause="port-closed",severity="critical"}' 1
expect 'ucprobe_check_success{job="ucprobe",instance="127.0.0.1",check="tcp",kind="tcp"}' 1
expect 'ucprobe_check_error{job="ucprobe",instance="127.0.0.2",check="tcp",class="refused"}' 1
expect 'count(ucprobe_finding{job="ucprobe",instance="127.0.0.1"}) or vector(0)' 0
expect 'up{job="ucprobe",instance="127.0.0.1"}' 1
expect 'up{job="ucprobe_exporter"}' 1
expect 'ucprobe_exporter_config_last_reload_successful{job="ucprobe_exporter"}' 1

# The rules loaded and evaluate on real data: the critical finding at
# 127.0.0.2 goes pending (for: 10m keeps it from firing in a test).
for ((i = 0; i < 60; i++)); do
	alerts=$(curl -fsS --max-time 5 "$api/alerts" || true)
	grep -q '"alertname":"UcprobeCriticalFinding"' <<<"$alerts" && break
	sleep 0.5
done
grep -q '"alertname":"UcprobeCriticalFinding"' <<<"$alerts" || fail "UcprobeCriticalFinding is not pending after 30 s: $alerts"
grep -q '"instance":"127.0.0.2"' <<<"$alerts" || fail "the pending alert is not for 127.0.0.2: $alerts"
grep -q '"instance":"127.0.0.1"' <<<"$alerts" && fail "an alert is pending for the healthy target: $alerts"
rules=$(curl -fsS --max-time 5 "$api/rules")
grep -q '"health":"err"' <<<"$rules" && fail "a rule fails to evaluate: $rules"
log "ok: UcprobeCriticalFinding pending for 127.0.0.2, rules healthy"

# The Grafana dashboard: valid JSON, and every panel's query is valid PromQL
# that this Prometheus evaluates ($instance and $module as "all").
command -v python3 >/dev/null || fail "python3 is needed to read grafana-dashboard.json"
python3 - "$here/grafana-dashboard.json" >"$tmp/exprs" <<'PY' || fail "grafana-dashboard.json is not a dashboard"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["panels"], "no panels"
for p in d["panels"]:
    for t in p["targets"]:
        print(t["expr"].replace("$instance", ".*").replace("$module", ".*"))
PY
while IFS= read -r expr; do
	out=$(curl -sS --max-time 5 -G "$api/query" --data-urlencode "query=$expr")
	grep -q '"status":"success"' <<<"$out" || fail "dashboard query does not evaluate: $expr: $out"
done <"$tmp/exprs"
for expr in 'probe_success{job="ucprobe",instance=~".*",module=~".*"}' \
	'max by (instance, module, cause, severity) (ucprobe_finding{job="ucprobe",instance=~".*",module=~".*",severity=~"critical|warning"}) == 1'; do
	grep -qxF "$expr" "$tmp/exprs" || fail "the dashboard lost its panel $expr"
	[[ -n $(curl -sS --max-time 5 -G "$api/query" --data-urlencode "query=$expr" | grep -o '"value":\[') ]] ||
		fail "dashboard panel shows no data: $expr"
done
log "ok: $(wc -l <"$tmp/exprs") dashboard queries evaluate; success and causes panels have data"
log "PASS"
