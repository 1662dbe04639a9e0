#!/usr/bin/env bash
# QEMU (TCG) with hugetlbfs guest RAM, restored lazily with the plugin's
# opt-in for objects a task holds open (LZ_FD_LAZY_VAR, see tests/lib/apps.sh):
# the guest RAM must be deferred to the daemon, filled on fault and by
# prefetch, exactly once, and the guest must verify it.
# LZ_QEMU_BACKEND=memfd|memfd-huge runs it on another backend.
. "$(dirname "$0")/../lib/app-qemu.sh"
lz_qemu_test "${LZ_QEMU_BACKEND:-hugetlbfs}" fd-lazy
