# lazyshm_plugin.so: the CRIU plugin. Built against the patched CRIU tree's
# headers; CRIU loads it with --libdir $(BUILD)/lib.
#
#   plugin/lazyshm_plugin.c  registration and hook routing
#   plugin/common/           what every stage uses (settings, kinds, ABI check,
#                            descriptor passing, the registry protocol, pidfds,
#                            the remote transport and protocol)
#   plugin/dump/             criu dump
#   plugin/restore/          criu restore
#   plugin/daemon/           criu lazy-pages
#   plugin/track/            write tracking for incremental dumps; its holder
#                            program lazyshm-trackd is plugin/track/holder/

PLUGIN_DIR	:= $(BUILD)/plugin
PLUGIN_SO	:= $(BUILD)/lib/lazyshm_plugin.so
PLUGIN_SUBDIRS	:= common dump restore daemon track
PLUGIN_SRCS	:= $(wildcard plugin/*.c) $(foreach d,$(PLUGIN_SUBDIRS),$(wildcard plugin/$(d)/*.c))
PLUGIN_HDRS	:= $(foreach d,$(PLUGIN_SUBDIRS),$(wildcard plugin/$(d)/*.h))
PLUGIN_OBJS	:= $(patsubst plugin/%.c,$(PLUGIN_DIR)/%.o,$(PLUGIN_SRCS))
# before CRIU's: plugin/dump/dump.h, not criu/include/dump.h
PLUGIN_INCLUDES	:= -iquote plugin $(foreach d,$(PLUGIN_SUBDIRS),-iquote plugin/$(d))
CRIU_INCLUDES	:= -iquote $(CRIU_SRC)/criu/include -iquote $(CRIU_SRC)/include \
		   -iquote $(CRIU_SRC)/criu/arch/x86/include -I$(CRIU_SRC)/images
PLUGIN_CFLAGS	:= $(CFLAGS) -fPIC -fvisibility=hidden $(PLUGIN_INCLUDES) $(CRIU_INCLUDES) \
		   -I$(BUILD)/images -Iimages $(KERNEL_LIB_CFLAGS)
PLUGIN_LIBS	:= $(PLUGIN_EXTRA_OBJS) -lxxhash -lprotobuf-c -lgnutls -lpthread

# the patched tree's headers change with the series: rebuild then
$(PLUGIN_DIR)/%.o: plugin/%.c $(PLUGIN_HDRS) $(PLUGIN_DEPS) $(wildcard $(CRIU_SRC)/.lazyshm-series) | $(CRIU)
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) -c $< -o $@

# Linked aside and renamed into place: a criu running meanwhile keeps the old one.
# -z now: a symbol missing from the .so fails the load, not a hook mid-restore
$(PLUGIN_SO): $(PLUGIN_OBJS) $(PLUGIN_EXTRA_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-z,now -o $@.tmp $(PLUGIN_OBJS) $(PLUGIN_LIBS)
	@mv -f $@.tmp $@

BUILD_TARGETS += $(PLUGIN_SO)

# where the plugin looks for lazyshm-trackd when it is not beside it
# (build/lib/../bin) nor named by LAZYSHM_TRACKD
$(PLUGIN_DIR)/track/holder.o: PLUGIN_CFLAGS += -DLZ_TRACKD_DEFAULT='"$(PREFIX)/bin/lazyshm-trackd"'

TRACKD	:= $(BIN)/lazyshm-trackd
TRACKD_SRC := plugin/track/holder/trackd.c plugin/track/holder/serve.c plugin/common/scm.c \
	      plugin/common/uffdinfo.c
$(TRACKD): $(TRACKD_SRC) plugin/track/holder/serve.h plugin/common/scm.h plugin/common/uffdinfo.h plugin/track/trackd-proto.h | $(BIN)
	$(CC) $(CFLAGS) -Iplugin/common -Iplugin/track -Ikernel -o $@ $(TRACKD_SRC)

BUILD_TARGETS += $(TRACKD)

# The remote transport, protocol and server need nothing of CRIU: the unit
# tests and tests/workloads/lzfetch (a destination speaking the protocol)
# link them too, built without CRIU's headers.
REMOTE_SRCS	:= plugin/common/xport.c plugin/common/remote-proto.c plugin/dump/remote-serve.c \
		   plugin/daemon/remote-client.c
REMOTE_OBJS	:= $(patsubst plugin/%.c,$(PLUGIN_DIR)/standalone/%.o,$(REMOTE_SRCS))
REMOTE_LIBS	:= -lgnutls -lxxhash -lpthread
REMOTE_CFLAGS	:= -Iplugin/common -Iplugin/dump -Iplugin/daemon -Iimages

$(PLUGIN_DIR)/standalone/%.o: plugin/%.c $(PLUGIN_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(REMOTE_CFLAGS) -c $< -o $@

UNIT_OBJS_test_remote	:= $(REMOTE_OBJS)
UNIT_LIBS_test_remote	:= $(REMOTE_LIBS)

LZFETCH		:= $(BUILD)/tests/bin/lzfetch
$(LZFETCH): tests/workloads/lzfetch.c $(REMOTE_OBJS) $(LZIMG_LIB) $(PLUGIN_HDRS) $(LZIMG_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(REMOTE_CFLAGS) -I$(BUILD)/images $< $(REMOTE_OBJS) $(LZIMG_LIB) -o $@ \
		$(REMOTE_LIBS) -lprotobuf-c
