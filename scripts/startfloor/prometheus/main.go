// Command prometheus is a benchmark fixture of scripts/bench.sh startup: a
// program that does nothing but link the Prometheus libraries the exporter
// and --format prometheus use. Their package init (client_golang registers
// the Go and process collectors in its default registry, procfs compiles
// regexps, protobuf registers descriptors) runs in every process that links
// them, whatever the command: this is ucprobe's start-up floor while the
// exporter is in the same binary.
package main

import (
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/prometheus/common/expfmt"
	_ "github.com/prometheus/exporter-toolkit/web"
)

func main() {}
