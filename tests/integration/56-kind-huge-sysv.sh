#!/usr/bin/env bash
# SysV SHM_HUGETLB 2M: lazy
. "$(dirname "$0")/../lib/kind.sh"
lz_kind_test huge-sysv lazy
