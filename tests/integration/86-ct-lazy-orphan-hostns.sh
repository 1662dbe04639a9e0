#!/usr/bin/env bash
# 85-ct-lazy-orphan with a container that shares the host's PID and network
# namespaces: ctinit is a child subreaper, so the orphan comes to it here too.
CT_ORPHAN_HOSTNS=1
. "$(dirname "$0")/85-ct-lazy-orphan.sh"
