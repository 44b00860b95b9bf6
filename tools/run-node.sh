#!/bin/sh
# How tollgate's built services run, everywhere they do: `npm start` (root and each service),
# the image's CMD, and the tests and benches that start the build (e2e/src/production.ts).
#   tools/run-node.sh services/auth/dist/server.js
# exec: the shell is replaced, node is the only process left. Every setting can be overridden
# from the environment. Why each: architecture/decisions/0020-production-build.md.
#  - libuv's thread pool (argon2's hashes) as wide as the machine's cores.
#  - glibc: allocations over 128 KiB always mmap'd, so memory freed goes back to the system.
#    Otherwise glibc raises that threshold after the first free of a large block, and every
#    later 19 MiB argon2 buffer comes from an arena that is never given back (~65 MB of RSS).
#  - V8's young generation capped at 4 MiB semi-spaces: a start-up allocation burst otherwise
#    grows it to 64 MiB, kept for the life of the process (~25 MB of RSS; 8 MiB still kept 16).
#  - V8's old generation capped at 384 MiB: V8 scales how far it lets the heap grow between
#    major GCs with that cap (up to 4x the live heap under the default, 4.5 GB on a 24 GB machine,
#    about 1.3x under a few hundred MiB). With the default, auth's old space grew from 37 to
#    100-150 MiB of garbage under load and RSS stayed there; capped, it stays near 35 MiB, for no
#    measurable CPU. 384 leaves billing's AdminJS (loaded at the first /admin) room.
#  - source maps for the build output only: stack traces name the TypeScript sources (~4 MB
#    of heap). Not for node_modules (what --enable-source-maps alone does): published JS names
#    its own lines well enough, and the maps some packages ship (OpenTelemetry's, with their
#    sources inside) cost ~5 MB of heap in every process.
#  - no compile cache unless NODE_COMPILE_CACHE names a directory: Node keeps every loaded
#    module's cached code in memory for the life of the process (~5 MB of RSS for the emulator,
#    ~14 MB for `npm start`), and it saved only ~0.3 s of CPU in `npm start`'s ~3 s.
UV_THREADPOOL_SIZE="${UV_THREADPOOL_SIZE:-$(getconf _NPROCESSORS_ONLN)}"
MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-131072}"
export UV_THREADPOOL_SIZE MALLOC_MMAP_THRESHOLD_
exec node --import='data:text/javascript,import{setSourceMapsSupport}from"node:module";setSourceMapsSupport(true,{nodeModules:false,generatedCode:false})' \
  --max-semi-space-size="${NODE_SEMI_SPACE_MB:-4}" --max-old-space-size="${NODE_MAX_OLD_SPACE_MB:-384}" "$@"
