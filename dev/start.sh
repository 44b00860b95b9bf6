#!/bin/sh
# `npm start`: the dev stack from `npm run build`'s output (dev/dist/start.js), in one node
# process that replaces this shell (exec): no tsx, no esbuild left running. The build is
# (re)made first when missing or older than any source, so a fresh clone, a pull or an edit
# never runs stale code; that check costs a few milliseconds, a rebuild about a second.
set -eu
cd "$(dirname "$0")/.."
entry=dev/dist/start.js
stale() {
  [ ! -f "$entry" ] && return 0
  [ -n "$(find dev/src services/*/src services/*/prisma packages/*/src tools -newer "$entry" \
    \( -name '*.ts' -o -name '*.tsx' -o -name '*.mjs' -o -name '*.prisma' -o -name '*.json' \) \
    ! -name '*.test.ts' -print 2>/dev/null | head -n 1)" ]
}
if stale; then
  echo "[tollgate] building (npm run build)…"
  node tools/build.mjs >/dev/null
fi
exec tools/run-node.sh "$entry" "$@"
