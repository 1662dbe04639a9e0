#!/usr/bin/env bash
# MAP_PRIVATE|MAP_HUGETLB: restored by CRIU eagerly (no page cache to populate lazily)
. "$(dirname "$0")/../lib/kind.sh"
lz_kind_test priv-huge criu
