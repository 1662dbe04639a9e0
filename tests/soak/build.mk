# The soak's workload (tests/soak/soakwl.c); `make soak` runs the driver
# tests/soak/soak.py, `make sanitize` the soak with an ASan/UBSan plugin in
# the lazy-pages daemon and lazyshm-img under valgrind (tests/soak/sanitize.py).

SOAKWL	:= $(BUILD)/tests/bin/soakwl

$(SOAKWL): tests/soak/soakwl.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< -o $@

BUILD_TARGETS += $(SOAKWL)

# make sanitize: the plugin again with ASan and UBSan, for `criu lazy-pages`
# only (LD_PRELOAD of the ASan runtime: CRIU itself is not instrumented, and
# criu restore cannot carry ASan into the tasks it turns into the restored
# ones). Same sources and flags as plugin/build.mk and images/build.mk.
SAN_CC		?= gcc
SAN_FLAGS	:= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined
SAN_DIR		:= $(BUILD)/asan
SAN_PLUGIN_SO	:= $(BUILD)/lib-asan/lazyshm_plugin.so
SAN_PLUGIN_OBJS	:= $(patsubst plugin/%.c,$(SAN_DIR)/plugin/%.o,$(PLUGIN_SRCS))
SAN_LZIMG_OBJS	:= $(patsubst images/%.c,$(SAN_DIR)/images/%.o,$(LZIMG_SRCS)) \
		   $(SAN_DIR)/images/lazyshm.pb-c.o \
		   $(patsubst %,$(SAN_DIR)/images/criu-%.pb-c.o,$(LZIMG_CRIU_PB))

$(SAN_DIR)/plugin/%.o: plugin/%.c $(PLUGIN_HDRS) $(wildcard plugin/*.h) $(PLUGIN_DEPS) | $(CRIU)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(PLUGIN_CFLAGS) $(SAN_FLAGS) -c $< -o $@
$(SAN_DIR)/images/%.o: images/%.c $(LZIMG_HDRS) | $(CRIU)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(LZIMG_CFLAGS) -fPIC -fvisibility=hidden $(SAN_FLAGS) -c $< -o $@
$(SAN_DIR)/images/lazyshm.pb-c.o: $(LZIMG_PB).c $(LZIMG_PB).h
	@mkdir -p $(dir $@)
	$(SAN_CC) $(LZIMG_CFLAGS) -fPIC -fvisibility=hidden $(SAN_FLAGS) -c $< -o $@
$(SAN_DIR)/images/criu-%.pb-c.o: | $(CRIU)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(LZIMG_CFLAGS) -fPIC -fvisibility=hidden $(SAN_FLAGS) -c $(CRIU_SRC)/images/$*.pb-c.c -o $@

$(SAN_PLUGIN_SO): $(SAN_PLUGIN_OBJS) $(SAN_LZIMG_OBJS)
	@mkdir -p $(dir $@)
	$(SAN_CC) -shared $(SAN_FLAGS) -o $@ $^ -lxxhash -lprotobuf-c -lpthread

# preloaded after the ASan runtime: tests/soak/san-preload.c says why
SAN_PRELOAD_SO	:= $(BUILD)/lib-asan/san-preload.so

$(SAN_PRELOAD_SO): tests/soak/san-preload.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -shared $< -o $@

sanitize-build: $(SAN_PLUGIN_SO) $(SAN_PRELOAD_SO) $(LAZYSHM_IMG) $(SOAKWL)

.PHONY: sanitize-build
