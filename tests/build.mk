# Test programs: workloads driven by integration scripts, and cmocka unit
# tests. Each tests/unit/NAME.c is one binary; it may link objects listed in
# UNIT_OBJS_NAME by the build.mk of the directory it tests.

WORKLOAD_SRCS	:= $(wildcard tests/workloads/*.c)
WORKLOADS	:= $(patsubst tests/workloads/%.c,$(BUILD)/tests/bin/%,$(WORKLOAD_SRCS))
UNIT_SRCS	:= $(wildcard tests/unit/*.c)
UNITS		:= $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))

$(BUILD)/tests/bin/%: tests/workloads/%.c $(wildcard tests/workloads/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/workloads $< -o $@ -lpthread

# Programs the real-application tests run inside an application (the QEMU
# guest's initramfs): static, they run on the guest's kernel alone.
APP_SRCS	:= $(wildcard tests/apps/*.c)
APP_BINS	:= $(patsubst tests/apps/%.c,$(BUILD)/tests/apps/%,$(APP_SRCS))

$(BUILD)/tests/apps/%: tests/apps/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -static $< -o $@

.SECONDEXPANSION:
$(BUILD)/tests/unit/%: tests/unit/%.c $$(UNIT_OBJS_$$*)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PLUGIN_INCLUDES) -Iimages -I$(BUILD)/images $(UNIT_CFLAGS_$*) $< $(UNIT_OBJS_$*) \
		-o $@ -lcmocka $(UNIT_LIBS_$*)

# Unit tests of the plugin's own logic link its objects (plugin/build.mk);
# those that log get print_on_level() from tests/unit/lz-log-stub.h.
UNIT_OBJS_test_vmas	:= $(PLUGIN_DIR)/daemon/vmas.o
UNIT_OBJS_test_objects	:= $(patsubst %,$(PLUGIN_DIR)/daemon/%.o,objects pages fill stats) \
			   $(patsubst %,$(PLUGIN_DIR)/common/%.o,pending kinds) $(LZIMG_LIB)
UNIT_LIBS_test_objects	:= $(LZIMG_LIBS) -lpthread
UNIT_CFLAGS_test_objects := $(CRIU_INCLUDES) $(LZIMG_UNIT_CFLAGS)
UNIT_OBJS_test_registry	:= $(PLUGIN_DIR)/common/registry.o $(PLUGIN_DIR)/common/scm.o
UNIT_LIBS_test_registry	:= -lpthread
UNIT_OBJS_test_tree	:= $(PLUGIN_DIR)/daemon/tree.o $(PLUGIN_DIR)/common/pidfd.o
UNIT_LIBS_test_tree	:= -lpthread

# Statically linked copies of the workloads the container tests put into a
# busybox rootfs (tests/lib/container.sh), which has no shared libraries.
STATIC_WORKLOADS := $(patsubst %,$(BUILD)/tests/static/%,memkinds ctinit)

$(BUILD)/tests/static/%: tests/workloads/%.c $(wildcard tests/workloads/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -static -Itests/workloads $< -o $@ -lpthread

BUILD_TARGETS += $(WORKLOADS) $(APP_BINS) $(UNITS) $(STATIC_WORKLOADS)
