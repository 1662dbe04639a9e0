#!/usr/bin/env bash
# sealed memfd held open: eager (read() would bypass userfaultfd), validated
. "$(dirname "$0")/../lib/kind.sh"
lz_kind_test memfd-sealed eager 'a task holds it open'
