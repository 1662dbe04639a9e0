# Sourced first by the bench scripts (run.sh, migrate.sh), before anything
# else: it may re-execute the script.
#
# Descriptors inherited from make or a terminal would be inherited by the
# workload, and criu dump fails on a descriptor whose mount it cannot see
# (always so after the mount namespace below): keep only 0-2.
for fd in $(ls /proc/$$/fd); do
	[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
done

# CRIU caches its kernel probe in /run/criu.kdat only when /run is a tmpfs,
# as it is on systemd hosts. On a machine whose /run is a disk (this VM)
# every criu call probes the kernel again (~40 ms of each restore): bench
# what a normal host sees, in a mount namespace of our own (TMPFS_RUN=0:
# /run as it is). The script runs again there, with the same arguments.
if [ "${TMPFS_RUN:-1}" = 1 ] && [ -z "${_LZ_BENCH_NS:-}" ] && [ "$(stat -f -c %T /run)" != tmpfs ]; then
	exec unshare -m --propagation private env _LZ_BENCH_NS=1 \
		bash -c 'mount -t tmpfs -o mode=0755 lazyshm-bench-run /run && exec "$0" "$@"' "$0" "$@"
fi
