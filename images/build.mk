# images/: lazyshm's image format (protobuf-c), decoder CLI, fuzz harness.
#
# Outputs:
#   $(BUILD)/images/lazyshm.pb-c.[ch]  generated from images/lazyshm.proto
#   $(BUILD)/images/liblzimg.a          library for the CLI and unit tests
#   $(BUILD)/images/pic/*.o             the same, -fPIC -fvisibility=hidden,
#                                       linked into the plugin
#   $(BIN)/lazyshm-img                  show|json|verify CLI
#   $(BUILD)/fuzz/fuzz_lzimg            libFuzzer harness (make fuzz)
#
# CRIU's own message types (pagemap, memfd, ipc-shm, mm) come from the
# patched CRIU tree's generated pb-c code, compiled here into our objects:
# hidden in the plugin, so they never clash with the criu binary's symbols.

LZIMG_DIR	:= $(BUILD)/images
LZIMG_PB	:= $(LZIMG_DIR)/lazyshm.pb-c
LZIMG_SRCS	:= images/lzimg.c images/lzimg-write.c images/lzimg-util.c images/filedump.c \
		   images/pagesrc.c images/criu-index.c images/lzimg-presence.c images/lzimg-complete.c
LZIMG_CRIU_PB	:= pagemap memfd fown ipc-shm ipc-desc mm vma remap-file-path
LZIMG_CFLAGS	:= $(CFLAGS) -Iimages -I$(LZIMG_DIR) -iquote $(CRIU_SRC)/images
LZIMG_LIBS	:= -lprotobuf-c -lxxhash
LZIMG_HDRS	:= $(wildcard images/*.h) $(LZIMG_PB).h
# Rewritten whenever the CRIU tree is re-patched: its generated pb-c code
# (struct layouts) may have changed with it, as for the plugin's objects
LZIMG_CRIU_STAMP := $(wildcard $(CRIU_SRC)/.lazyshm-series)

LZIMG_OBJS	:= $(patsubst images/%.c,$(LZIMG_DIR)/obj/%.o,$(LZIMG_SRCS)) \
		   $(LZIMG_DIR)/obj/lazyshm.pb-c.o \
		   $(patsubst %,$(LZIMG_DIR)/obj/criu-%.pb-c.o,$(LZIMG_CRIU_PB))
LZIMG_PIC_OBJS	:= $(subst /obj/,/pic/,$(LZIMG_OBJS))
LZIMG_LIB	:= $(LZIMG_DIR)/liblzimg.a
LAZYSHM_IMG	:= $(BIN)/lazyshm-img

$(LZIMG_PB).c $(LZIMG_PB).h: images/lazyshm.proto
	@mkdir -p $(LZIMG_DIR)
	protoc-c --proto_path=images --c_out=$(LZIMG_DIR) $<

# Non-PIC (CLI, tests) and PIC (plugin) variants of every object.
$(LZIMG_DIR)/obj/%.o: images/%.c $(LZIMG_HDRS) $(LZIMG_CRIU_STAMP) | $(CRIU)
	@mkdir -p $(dir $@)
	$(CC) $(LZIMG_CFLAGS) -c $< -o $@
$(LZIMG_DIR)/pic/%.o: images/%.c $(LZIMG_HDRS) $(LZIMG_CRIU_STAMP) | $(CRIU)
	@mkdir -p $(dir $@)
	$(CC) $(LZIMG_CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@
$(LZIMG_DIR)/obj/lazyshm.pb-c.o: $(LZIMG_PB).c $(LZIMG_PB).h
	$(CC) $(LZIMG_CFLAGS) -c $< -o $@
$(LZIMG_DIR)/pic/lazyshm.pb-c.o: $(LZIMG_PB).c $(LZIMG_PB).h
	@mkdir -p $(dir $@)
	$(CC) $(LZIMG_CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@
$(LZIMG_DIR)/obj/criu-%.pb-c.o: $(LZIMG_CRIU_STAMP) | $(CRIU)
	@mkdir -p $(dir $@)
	$(CC) $(LZIMG_CFLAGS) -c $(CRIU_SRC)/images/$*.pb-c.c -o $@
$(LZIMG_DIR)/pic/criu-%.pb-c.o: $(LZIMG_CRIU_STAMP) | $(CRIU)
	@mkdir -p $(dir $@)
	$(CC) $(LZIMG_CFLAGS) -fPIC -fvisibility=hidden -c $(CRIU_SRC)/images/$*.pb-c.c -o $@

$(LZIMG_LIB): $(LZIMG_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(LAZYSHM_IMG): images/lazyshm-img.c $(LZIMG_LIB) $(LZIMG_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(LZIMG_CFLAGS) $< $(LZIMG_LIB) $(LZIMG_LIBS) -o $@

# The plugin links the PIC objects and needs the generated header first.
PLUGIN_EXTRA_OBJS += $(LZIMG_PIC_OBJS)
PLUGIN_DEPS	+= $(LZIMG_PB).h

# Unit tests (tests/build.mk): tests/unit/test_img*.c.
LZIMG_UNIT_CFLAGS := -iquote $(CRIU_SRC)/images -DLZ_TOP=\"$(TOP)\"
UNIT_OBJS_test_img_format	:= $(LZIMG_LIB)
UNIT_LIBS_test_img_format	:= $(LZIMG_LIBS)
UNIT_CFLAGS_test_img_format	:= $(LZIMG_UNIT_CFLAGS)
UNIT_OBJS_test_img_pagesrc	:= $(LZIMG_LIB)
UNIT_LIBS_test_img_pagesrc	:= $(LZIMG_LIBS)
UNIT_CFLAGS_test_img_pagesrc	:= $(LZIMG_UNIT_CFLAGS)
UNIT_OBJS_test_img_golden	:= $(LZIMG_LIB)
UNIT_LIBS_test_img_golden	:= $(LZIMG_LIBS)
UNIT_CFLAGS_test_img_golden	:= $(LZIMG_UNIT_CFLAGS)
UNIT_OBJS_test_img_files	:= $(LZIMG_LIB)
UNIT_LIBS_test_img_files	:= $(LZIMG_LIBS)
UNIT_CFLAGS_test_img_files	:= $(LZIMG_UNIT_CFLAGS)

BUILD_TARGETS += $(LZIMG_LIB) $(LZIMG_PIC_OBJS) $(LAZYSHM_IMG)

# libFuzzer harness: the library rebuilt with clang and sanitizers.
FUZZ_DIR	:= $(BUILD)/fuzz
FUZZ_BIN	:= $(FUZZ_DIR)/fuzz_lzimg
FUZZ_SECONDS	?= 300
FUZZ_CC		?= clang
FUZZ_CFLAGS	:= -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
		   -fno-sanitize-recover=undefined -Iimages -I$(LZIMG_DIR) -iquote $(CRIU_SRC)/images
FUZZ_SRCS	:= images/fuzz/fuzz_lzimg.c $(LZIMG_SRCS) $(LZIMG_PB).c \
		   $(patsubst %,$(CRIU_SRC)/images/%.pb-c.c,$(LZIMG_CRIU_PB))

$(FUZZ_BIN): $(FUZZ_SRCS) $(LZIMG_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SRCS) $(LZIMG_LIBS) -o $@

fuzz-build: $(FUZZ_BIN)

# make fuzz [FUZZ_SECONDS=N]: new inputs go to $(FUZZ_DIR)/corpus, the
# committed seeds in images/fuzz/corpus are only read; crashes land in
# $(FUZZ_DIR)/artifacts.
fuzz: $(FUZZ_BIN)
	@mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/artifacts
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		-artifact_prefix=$(FUZZ_DIR)/artifacts/ $(FUZZ_DIR)/corpus images/fuzz/corpus

.PHONY: fuzz-build
