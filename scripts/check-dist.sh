#!/usr/bin/env bash
# make check-dist: builds every release artifact twice, the second time from
# a copy of the tree in another directory (so no absolute path or checkout
# detail can leak into a binary), then checks them with build/distcheck.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
VERSION=${VERSION:-$($GO run ./build/dist -print-version)}
# Both builds date every file from the commit: the copy is not a checkout.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
export SOURCE_DATE_EPOCH

scratch=$(mktemp -d "${TMPDIR:-/tmp}/cairn-check-dist.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

start=$SECONDS
$GO run ./build/dist -out dist -version "$VERSION"
first=$((SECONDS - start))

mkdir "$scratch/src"
git ls-files --cached --others --exclude-standard -z |
  tar --null --ignore-failed-read -cf - -T - 2>/dev/null | tar -xf - -C "$scratch/src"
start=$SECONDS
(cd "$scratch/src" && $GO run ./build/dist -out "$scratch/dist2" -version "$VERSION")
echo "check-dist: first build ${first}s, second build $((SECONDS - start))s"

$GO test -count=1 -tags distcheck ./build/distcheck -args \
  -dist "$PWD/dist" -dist2 "$scratch/dist2" -version "$VERSION"
