# The soak's workload (tests/soak/soakwl.c); `make soak` runs the driver
# tests/soak/soak.py, `make sanitize` the soak with an ASan/UBSan plugin in
# the lazy-pages daemon and lazyshm-img under valgrind (tests/soak/sanitize.sh).

SOAKWL	:= $(BUILD)/tests/bin/soakwl

$(SOAKWL): tests/soak/soakwl.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< -o $@

BUILD_TARGETS += $(SOAKWL)
