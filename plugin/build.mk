# lazyshm_plugin.so: the CRIU plugin. Built against the patched CRIU tree's
# headers; CRIU loads it with --libdir $(BUILD)/lib.

PLUGIN_DIR	:= $(BUILD)/plugin
PLUGIN_SO	:= $(BUILD)/lib/lazyshm_plugin.so
PLUGIN_SRCS	:= $(wildcard plugin/*.c)
PLUGIN_OBJS	:= $(patsubst plugin/%.c,$(PLUGIN_DIR)/%.o,$(PLUGIN_SRCS))
CRIU_INCLUDES	:= -iquote $(CRIU_SRC)/criu/include -iquote $(CRIU_SRC)/include \
		   -iquote $(CRIU_SRC)/criu/arch/x86/include -I$(CRIU_SRC)/images
PLUGIN_CFLAGS	:= $(CFLAGS) -fPIC -fvisibility=hidden $(CRIU_INCLUDES) -Iplugin \
		   -I$(BUILD)/images -Iimages $(KERNEL_LIB_CFLAGS)
PLUGIN_LIBS	:= $(PLUGIN_EXTRA_OBJS) -lxxhash -lprotobuf-c -lpthread

# the patched tree's headers change with the series: rebuild then
$(PLUGIN_DIR)/%.o: plugin/%.c $(wildcard plugin/*.h) $(PLUGIN_DEPS) $(wildcard $(CRIU_SRC)/.lazyshm-series) | $(CRIU)
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) -c $< -o $@

$(PLUGIN_SO): $(PLUGIN_OBJS) $(PLUGIN_EXTRA_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -shared -o $@ $(PLUGIN_OBJS) $(PLUGIN_LIBS)

BUILD_TARGETS += $(PLUGIN_SO)
