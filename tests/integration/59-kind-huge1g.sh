#!/usr/bin/env bash
# MAP_SHARED|MAP_HUGETLB 1G: lazy, when two 1G pages can be had
. "$(dirname "$0")/../lib/kind.sh"
lz_kind_test huge1g-anon lazy
