#!/usr/bin/env bash
# MAP_SHARED file on hugetlbfs 2M, still in place at restore: the plugin owns
# its content (LAZYSHM_FILES=default owns every hugetlbfs file), but the file
# at restore is the dumped one (same boot, dev, ino, ctime, size), so it is
# used as it is: nothing deferred, nothing filled (tests 61-67 cover the
# file gone or unlinked)
. "$(dirname "$0")/../lib/kind.sh"
lz_kind_test huge-file criu "used as it is"
