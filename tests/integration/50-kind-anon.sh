#!/usr/bin/env bash
# MAP_SHARED|MAP_ANONYMOUS 4K: lazy
. "$(dirname "$0")/../lib/kind.sh"
lz_kind_test anon lazy
