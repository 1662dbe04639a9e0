#!/usr/bin/env bash
# Lazy restore through runc of a container with a network namespace of its
# own but the host's PID namespace: only the network namespace is at stake
# (CRIU restores the tasks' shared objects inside it, and they must still
# reach the lazy-pages daemon, which runs outside). CRIU calls
# iptables-save for the namespace. The plugin dir comes from the
# org.criu.config annotation. Every shared object must be deferred to the
# daemon, both tasks must read back every byte, the daemon must fill each
# page once and exit by itself. The prefetch is slowed down, so that the
# tasks' reads fault and are served across the namespace.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/container.sh"

ct_require
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
ct_hugepages 16 || lz_skip "cannot reserve 33 available 2M hugepages"
ct_init
ct_spec --pid-host -- --kinds anon,huge-anon,huge-sysv --size-mb 64 --huge-mb 16 --children 1
ct_plugin_via annotation
ct_start
ct_checkpoint
ct_lazy_roundtrip 2 --faults
lz_log "PASS"
