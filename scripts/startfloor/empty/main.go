// Command empty is a benchmark fixture of scripts/bench.sh startup: the
// start-up of a Go program that does nothing, the floor of any Go binary.
package main

func main() {}
