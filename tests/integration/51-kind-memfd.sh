#!/usr/bin/env bash
# memfd 4K nobody holds open: lazy
. "$(dirname "$0")/../lib/kind.sh"
lz_kind_test memfd lazy
