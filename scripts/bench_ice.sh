#!/bin/sh
# ICE part of the benchmarks (scripts/bench.sh ice|all runs it).
# Loopback only: pion/turn in process on 127.0.0.2, the responder's ICE
# peer on 127.0.0.1. Prints, per mode, the median time from the start of
# the check to ICE connected and the check's overhead beyond the media
# window. Goal: connected in under 500 ms when a direct pair works.
set -eu
cd "$(dirname "$0")/.."
N="${BENCH_ICE_N:-20}"
out=$(go test ./ice/ -run '^$' -bench 'BenchmarkICE' -benchtime "${N}x" -count 1)
# go test prints a benchmark's name first and its figures on a later line
# when the benchmark logs in between: take the figures from the line that
# has them, under the last name seen.
echo "$out" | awk '
/^BenchmarkICE/ { name=$1; sub(/^BenchmarkICE/, "", name); sub(/-[0-9]+$/, "", name) }
/connected-ms/ {
	c=""; o=""
	for (i = 1; i <= NF; i++) {
		if ($i == "connected-ms") c=$(i-1)
		if ($i == "overhead-ms") o=$(i-1)
	}
	printf "ice %-14s connected (median) %8.1f ms   overhead beyond media %8.1f ms\n", name, c, o
	if (name != "MediaOverhead" && c >= 500) { bad=1; printf "  ^ over the 500 ms goal\n" }
}
END { exit bad }'
