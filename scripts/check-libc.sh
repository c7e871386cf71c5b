#!/usr/bin/env bash
# modernc.org/sqlite is a C library translated to Go against one exact
# version of modernc.org/libc; a different libc (a careless `go get -u`)
# builds but can corrupt memory at run time. Fail when they drift apart.
set -euo pipefail
cd "$(dirname "$0")/.."
sqlite=$(go list -m -f '{{.Version}}' modernc.org/sqlite)
want=$(go mod graph | awk -v s="modernc.org/sqlite@$sqlite" '$1 == s && $2 ~ /^modernc.org\/libc@/ { sub(/.*@/, "", $2); print $2 }')
have=$(go list -m -f '{{.Version}}' modernc.org/libc)
if [ -z "$want" ]; then
  echo "check-libc: cannot find which modernc.org/libc modernc.org/sqlite $sqlite wants (go mod graph)" >&2
  exit 1
fi
if [ "$want" != "$have" ]; then
  echo "check-libc: modernc.org/sqlite $sqlite needs modernc.org/libc $want, but go.mod has $have." >&2
  echo "  Fix: go get modernc.org/libc@$want && go mod tidy" >&2
  exit 1
fi
echo "check-libc: modernc.org/sqlite $sqlite with modernc.org/libc $have, as it requires"
