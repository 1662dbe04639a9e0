#!/usr/bin/env bash
# 120 over TLS: CRIU's page server and lazyshm's own session with the
# source both use --tls with a throwaway CA (openssl); both ends of
# lazyshm's session must say it is protected, then the checks of 120.
# timeout: 300
REMOTE_TLS=1 . "$(dirname "$0")/120-remote-shm-lazy.sh"
