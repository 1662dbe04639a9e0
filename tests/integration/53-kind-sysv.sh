#!/usr/bin/env bash
# SysV 4K: eager (userfaultfd refuses SysV VMAs), validated
. "$(dirname "$0")/../lib/kind.sh"
lz_kind_test sysv eager 'userfaultfd cannot register 4K SysV'
