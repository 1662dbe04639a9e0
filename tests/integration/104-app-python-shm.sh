#!/usr/bin/env bash
# Python (Debian's python3): multiprocessing.shared_memory (a named /dev/shm
# segment Python holds open) and an anonymous MAP_SHARED buffer shared with a
# Pool of workers; dumped with LAZYSHM_FILES=all, the segment removed, restored
# eagerly and lazily; the program hashes every MiB in its workers and in a
# process that attaches the segment anew. The segment stays eager (held open),
# the anonymous buffer is lazy.
. "$(dirname "$0")/../lib/app-python.sh"
lz_python_test
