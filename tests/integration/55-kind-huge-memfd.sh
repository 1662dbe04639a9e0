#!/usr/bin/env bash
# memfd MFD_HUGETLB 2M: lazy
. "$(dirname "$0")/../lib/kind.sh"
lz_kind_test huge-memfd lazy
