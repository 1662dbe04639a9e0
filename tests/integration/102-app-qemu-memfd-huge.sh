#!/usr/bin/env bash
# QEMU (TCG) whose guest RAM is a hugetlb memfd (memory-backend-memfd,
# hugetlb=on): dumped, restored eagerly and lazily, the guest checks its
# memory each time. The guest RAM stays eager (QEMU holds the memfd open).
. "$(dirname "$0")/../lib/app-qemu.sh"
lz_qemu_test memfd-huge
