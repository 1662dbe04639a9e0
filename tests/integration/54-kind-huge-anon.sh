#!/usr/bin/env bash
# MAP_SHARED|MAP_HUGETLB 2M: lazy
. "$(dirname "$0")/../lib/kind.sh"
lz_kind_test huge-anon lazy
