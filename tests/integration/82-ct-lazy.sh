#!/usr/bin/env bash
# Lazy restore through runc of a container with runc's default namespaces:
# its own PID namespace (the tasks are PID 1, 2, ... inside, other numbers
# outside) and its own network namespace, besides ipc, uts and mount. The
# plugin dir comes from /etc/criu/runc.conf. Every shared object must be
# deferred to the daemon, both tasks must read back every byte, the daemon
# must fill each page once and exit by itself. The prefetch is slowed down,
# so that the tasks' reads fault and are served across the namespace.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/container.sh"

ct_require
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
ct_hugepages 16 || lz_skip "cannot reserve 33 available 2M hugepages"
ct_init
ct_spec -- --kinds anon,huge-anon,huge-sysv --size-mb 64 --huge-mb 16 --children 1
ct_plugin_via runc.conf
ct_start
ct_checkpoint
ct_lazy_roundtrip 2 --faults
lz_log "PASS"
