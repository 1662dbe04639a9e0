# kernel/: compat header, feature probe library and CLI, conformance suite.
#
#   $(BUILD)/kernel/kprobe.pic.o        probe library, linked into the plugin
#                                       (hidden: the plugin exports none of it)
#   $(BIN)/lazyshm-kcheck               CLI over the same library
#   $(BUILD)/tests/kernel/uffd-conformance  run by tests/run.sh (make test)

KERNEL_LIB_CFLAGS := -I$(TOP)/kernel
KERNEL_DIR	:= $(BUILD)/kernel
KERNEL_HDRS	:= $(TOP)/kernel/kprobe.h $(TOP)/kernel/uffd-compat.h
KERNEL_LIB_OBJS	:= $(KERNEL_DIR)/kprobe.pic.o
PLUGIN_EXTRA_OBJS += $(KERNEL_LIB_OBJS)

KCHECK		:= $(BIN)/lazyshm-kcheck
CONFORMANCE	:= $(BUILD)/tests/kernel/uffd-conformance
CONF_SRCS	:= $(wildcard $(TOP)/kernel/conformance/*.c)
CONF_HDRS	:= $(wildcard $(TOP)/kernel/conformance/*.h) $(KERNEL_HDRS)
CONF_OBJS	:= $(patsubst $(TOP)/kernel/conformance/%.c,$(KERNEL_DIR)/conformance/%.o,$(CONF_SRCS))

$(KERNEL_DIR)/%.pic.o: $(TOP)/kernel/%.c $(KERNEL_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KERNEL_LIB_CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

$(KERNEL_DIR)/%.o: $(TOP)/kernel/%.c $(KERNEL_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KERNEL_LIB_CFLAGS) -c $< -o $@

$(KERNEL_DIR)/conformance/%.o: $(TOP)/kernel/conformance/%.c $(CONF_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KERNEL_LIB_CFLAGS) -I$(TOP)/kernel/conformance -c $< -o $@

$(KCHECK): $(KERNEL_DIR)/kcheck.o $(KERNEL_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^

$(CONFORMANCE): $(CONF_OBJS) $(KERNEL_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ -lpthread

BUILD_TARGETS += $(KERNEL_LIB_OBJS) $(KCHECK) $(CONFORMANCE)
