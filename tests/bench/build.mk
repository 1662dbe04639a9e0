# Benchmark programs (make bench): the restore workload, the restore timer
# and the microbenchmarks. Outputs only under $(BUILD)/bench/bin.

BENCH_BIN	:= $(BUILD)/bench/bin
BENCH_PROGS	:= $(BENCH_BIN)/benchwl $(BENCH_BIN)/benchrun $(BENCH_BIN)/micro
BENCH_MICRO_SRCS := tests/bench/micro.c tests/bench/micro_uffd.c tests/bench/micro_io.c tests/bench/micro_fill.c

$(BENCH_BIN)/benchwl: tests/bench/benchwl.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< -o $@

$(BENCH_BIN)/benchrun: tests/bench/benchrun.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< -o $@

$(BENCH_BIN)/micro: $(BENCH_MICRO_SRCS) tests/bench/micro.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/bench -Iimages $(BENCH_MICRO_SRCS) -o $@ -lxxhash -lpthread

BUILD_TARGETS += $(BENCH_PROGS)
