#!/usr/bin/env bash
# The one test command (README, CI): formatting, vet, race tests (with the
# real servers they need), cross-compiles for the helpdesk platforms, and
# the namespace lab when run as root.
#
#   scripts/test.sh            # everything
#   scripts/test.sh -short     # quick: no lab, no Prometheus (passes -short to go test)
#
# It starts with the fresh-clone check: HEAD cloned into an empty temporary
# folder (nothing beside it, as in a user's clone) must pass go vet and
# go test -short, so nothing in the build or the tests reads outside the
# repository. Uncommitted changes are not in that clone; the suite after it
# tests the working tree.
#
# Tests that need coturn, sipp, Prometheus or root skip on a developer
# machine without them, but CI (CI=true) installs them and sets
# UCPROBE_CI=1, which turns every such skip into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:$(go env GOPATH 2>/dev/null || echo /root/go)/bin"

short=""
[ "${1:-}" = "-short" ] && short="-short"

step() { printf '\n=== %s\n' "$*"; }

# Debian packages the real-server tests use.
need_pkgs=()
command -v turnserver >/dev/null || need_pkgs+=(coturn)
command -v sipp >/dev/null || need_pkgs+=(sip-tester)
command -v dnsmasq >/dev/null || need_pkgs+=(dnsmasq-base)
command -v iptables >/dev/null || need_pkgs+=(iptables)
command -v nft >/dev/null || need_pkgs+=(nftables)
command -v ip >/dev/null || need_pkgs+=(iproute2)
command -v openssl >/dev/null || need_pkgs+=(openssl)
command -v promtool >/dev/null || need_pkgs+=(prometheus)
command -v chromium >/dev/null || need_pkgs+=(chromium)   # the HTML report's browser test
command -v zip >/dev/null || need_pkgs+=(zip)             # scripts/release.sh (Windows archives)
command -v xmllint >/dev/null || need_pkgs+=(libxml2-utils) # JUnit output against its schema
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "installing ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  else
    echo "note: missing ${need_pkgs[*]}; tests that need them will skip (not root, or no apt-get)"
  fi
fi
# coturn's package starts a system service on install; tests start their own.
if command -v systemctl >/dev/null && systemctl is-active --quiet coturn 2>/dev/null; then
  systemctl stop coturn || true
fi

if [ "$(id -u)" != 0 ]; then
  echo "note: not root: the namespace lab and the network-namespace tests skip (they need CAP_NET_ADMIN); run as root for the whole suite"
fi

if [ "${CI:-}" = "true" ]; then
  export UCPROBE_CI=1 UCPROBE_REQUIRE_LAB=1
fi
# The browser test keeps its screenshots here (the CI artifacts).
export UCPROBE_ARTIFACTS=${UCPROBE_ARTIFACTS:-/tmp/ucprobe-artifacts}

step "fresh clone: HEAD alone in an empty folder (go vet, go test -short)"
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
git clone -q --no-local . "$fresh/ucprobe"
[ "$(ls -A "$fresh")" = ucprobe ]   # nothing beside the clone
(cd "$fresh/ucprobe" && go vet ./... && go test -short -count=1 ./...)
rm -rf "$fresh"

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "not gofmt'ed:"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...

step "cross-compile: the release archives (linux, windows, darwin; amd64, arm64)"
rel=$(mktemp -d)
OUT=$rel scripts/release.sh
rm -rf "$rel"

step "go test -race ./..."
go test -race $short -timeout 15m ./...

# Each fuzz target runs briefly (seeds in testdata/fuzz/ run in every
# go test above too). FUZZTIME overrides; a finding is written to the
# package's testdata/fuzz/ and fails the step. Targets are found by name, so
# a new Fuzz function joins without an edit here.
# Go before 1.27 can end a -fuzztime run with a bare "context deadline
# exceeded" and no input written (its coordinator's shutdown race,
# go.dev/issue/75804): such a run is retried once; a written input never is.
fuzz_one() {
  go test -run '^$' -fuzz "^$2\$" -fuzztime "${FUZZTIME:-5s}" -fuzzminimizetime 1s "./$1" 2>&1
}
if [ -z "$short" ]; then
  step "fuzz (${FUZZTIME:-5s} per target)"
  for pkg in $(git grep -l '^func Fuzz' -- '*_test.go' | xargs -n1 dirname | sort -u); do
    for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$pkg"/*_test.go | cut -d' ' -f2); do
      echo "$pkg $target"
      out=$(fuzz_one "$pkg" "$target") && continue
      if [ -z "$(git status --porcelain --untracked-files=all -- "$pkg/testdata/fuzz/$target")" ] &&
        echo "$out" | grep -q '^    context deadline exceeded$'; then
        echo "fuzz: $target ended on Go's fuzztime shutdown race with no input written; once more"
        out=$(fuzz_one "$pkg" "$target") && continue
      fi
      echo "$out" | tail -n 40; echo "fuzz: $target in $pkg failed (the input is in $pkg/testdata/fuzz/$target/)"; exit 1
    done
  done
fi

if [ -z "$short" ] && [ -x scripts/monitoring/test-prometheus.sh ]; then
  step "Prometheus scraping the exporter"
  scripts/monitoring/test-prometheus.sh
fi
echo
ls "$UCPROBE_ARTIFACTS"/*.png 2>/dev/null | sed 's/^/artifact: /' || true
echo "scripts/test.sh: all green"
