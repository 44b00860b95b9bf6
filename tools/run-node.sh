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
#  - source maps for our own code only: stack traces name the TypeScript sources. Enabled through
#    module.setSourceMapsSupport before the entry point loads, because --enable-source-maps also
#    loads and keeps the maps of every package in node_modules that ships one (~7 MB of auth's RSS).
#  - Node's compile cache: V8's compiled code of every module kept on disk, so later starts
#    skip compiling the ~600 modules the services load (the first start fills it).
UV_THREADPOOL_SIZE="${UV_THREADPOOL_SIZE:-$(getconf _NPROCESSORS_ONLN)}"
MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-131072}"
NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/tollgate/node-compile-cache}"
export UV_THREADPOOL_SIZE MALLOC_MMAP_THRESHOLD_ NODE_COMPILE_CACHE
SOURCE_MAPS='data:text/javascript,import{setSourceMapsSupport}from"node:module";setSourceMapsSupport(true)'
exec node --import="$SOURCE_MAPS" --max-semi-space-size="${NODE_SEMI_SPACE_MB:-4}" \
  --max-old-space-size="${NODE_MAX_OLD_SPACE_MB:-384}" "$@"
