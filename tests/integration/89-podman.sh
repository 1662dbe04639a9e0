#!/usr/bin/env bash
# 88-podman-hostns with podman's default PID namespace and a network
# namespace of the container's own (--network none: lo only, no CNI).
PM_HOST_NS=0
. "$(dirname "$0")/88-podman-hostns.sh"
