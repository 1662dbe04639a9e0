#!/usr/bin/env bash
# Like 104, with the plugin's opt-in for objects a task holds open
# (LZ_FD_LAZY_VAR, see tests/lib/apps.sh): the shared_memory segment must be
# deferred to the daemon and still read back right, also in a process that
# attaches it anew during or after the lazy phase.
. "$(dirname "$0")/../lib/app-python.sh"
lz_python_test fd-lazy
