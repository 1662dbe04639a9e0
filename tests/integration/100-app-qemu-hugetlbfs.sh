#!/usr/bin/env bash
# QEMU (TCG) whose guest RAM is an unlinked file on hugetlbfs (-object
# memory-backend-file,mem-path=<hugetlbfs>,share=on): dumped with the plugin,
# restored eagerly and lazily from the same images, the guest checks its
# memory each time. The guest RAM stays eager (QEMU holds it open).
. "$(dirname "$0")/../lib/app-qemu.sh"
lz_qemu_test hugetlbfs
