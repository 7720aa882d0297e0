#!/usr/bin/env bash
# Builds the release archives locally: static binaries for linux, windows
# and darwin (amd64, arm64), -trimpath, the version stamped; tar.gz (zip for
# Windows) with the README and LICENSE-like files; SHA256SUMS over them.
# CI runs it to prove it works; it publishes nothing.
#
#   scripts/release.sh                 # version from git describe, into dist/
#   VERSION=v1.2.0 OUT=/tmp/rel scripts/release.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
out=${OUT:-dist}
command -v zip >/dev/null || { echo "release.sh: zip is missing (apt-get install -y zip)" >&2; exit 3; }
rm -rf "$out"; mkdir -p "$out"; out=$(cd "$out" && pwd)
stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT

for os in linux windows darwin; do
  for arch in amd64 arm64; do
    name=ucprobe-$version-$os-$arch
    dir=$stage/$name; mkdir -p "$dir"
    exe=ucprobe; [ "$os" = windows ] && exe=ucprobe.exe
    CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath \
      -ldflags "-s -w -X main.version=$version" -o "$dir/$exe" ./cmd/ucprobe
    cp README.md "$dir/"
    [ -f SECURITY.md ] && cp SECURITY.md "$dir/"
    if [ "$os" = windows ]; then
      (cd "$stage" && zip -qr "$out/$name.zip" "$name")
    else
      tar -C "$stage" -czf "$out/$name.tar.gz" --owner=0 --group=0 "$name"
    fi
    echo "built $out/$name ($os/$arch)"
  done
done
(cd "$out" && sha256sum ucprobe-* > SHA256SUMS)
echo "release.sh: $(ls "$out" | wc -l) files in $out:"
ls -l "$out" | tail -n +2
