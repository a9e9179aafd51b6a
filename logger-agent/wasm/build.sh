#!/bin/sh
# Rebuilds line-check.wasm from line-check.c (Debian: apt-get install clang lld).
# The .wasm is committed; logger-agent/test/line-check.test.ts rebuilds it and compares when clang is present.
set -eu
here=$(dirname "$0")
out=${1:-$here/line-check.wasm}
clang --target=wasm32 -O3 -msimd128 -mbulk-memory -nostdlib -fno-builtin-memset \
  -Wl,--no-entry -Wl,--export=build_messages -Wl,--export=__heap_base -Wl,--strip-all \
  -o "$out" "$here/line-check.c"
