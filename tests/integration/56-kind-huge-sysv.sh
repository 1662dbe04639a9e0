#!/usr/bin/env bash
# SysV SHM_HUGETLB 2M: lazy with LAZYSHM_SYSV=lazy (eager by default, since
# any process may shmat() the segment anew: test 40 checks that default)
. "$(dirname "$0")/../lib/kind.sh"
export LAZYSHM_SYSV=lazy
lz_kind_test huge-sysv lazy
