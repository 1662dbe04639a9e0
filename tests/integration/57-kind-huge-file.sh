#!/usr/bin/env bash
# MAP_SHARED file on hugetlbfs 2M: CRIU 4.1.1 keeps only its path, the file stays in place and is used as it is (content migration: issue 7)
. "$(dirname "$0")/../lib/kind.sh"
lz_kind_test huge-file criu "mapping(s) of hugetlbfs files restored eagerly by CRIU"
