# lazyshm: lazy restore of shmem and hugetlbfs memory for CRIU.
#
# Everything built or fetched goes to build/ (git-ignored). Each directory
# contributes its own rules through a build.mk fragment included below.
#
#   make demo    checkpoint a shmem+hugetlb workload and restore it
#   make test    every test (installs dependencies, builds patched CRIU)
#   make bench   restore performance
#   make soak    randomized dump/lazy-restore cycles [SOAK_CYCLES=N SOAK_SEED=S]
#   make sanitize  the soak with an ASan/UBSan plugin in the daemon, and
#                lazyshm-img under valgrind
#   make criu    fetch, verify, patch and build CRIU 4.1.1
#   make install / make uninstall [DESTDIR=] [PREFIX=/opt/lazyshm]
#                the patched criu and the tools to PREFIX/bin, the plugin
#                to CRIU's plugin directory (CRIU_PLUGINDIR=/usr/lib/criu)

TOP	:= $(CURDIR)
BUILD	:= $(TOP)/build
BIN	:= $(BUILD)/bin
CRIU_VER := 4.1.1
CRIU_SRC := $(BUILD)/criu-$(CRIU_VER)
CRIU	:= $(CRIU_SRC)/criu/criu
DEPS_STAMP := $(BUILD)/.deps-installed

CC	?= gcc
CFLAGS	?= -O2 -g
WARN	:= -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration
CFLAGS	+= $(WARN) -D_GNU_SOURCE -I$(TOP)/kernel

export TOP BUILD BIN CRIU CRIU_SRC

# Not /usr or /usr/local: the patched criu must not shadow a distribution's
PREFIX	?= /opt/lazyshm
# CR_PLUGIN_DEFAULT in CRIU's criu/include/plugin.h: found without --libdir
CRIU_PLUGINDIR ?= /usr/lib/criu
DESTDIR	?=

.PHONY: all deps criu build test demo bench soak sanitize fuzz clean format install uninstall
all: build

# The package list lives in the script; the stamp only saves a dpkg scan
# per make invocation. Removing build/ re-checks everything.
deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/install-deps.sh
	@scripts/install-deps.sh
	@mkdir -p $(BUILD) && touch $@

criu: $(DEPS_STAMP)
	@scripts/build-criu.sh

$(CRIU): | criu

$(BUILD) $(BIN):
	@mkdir -p $@

include kernel/build.mk
include images/build.mk
include plugin/build.mk
include tests/build.mk
include tests/bench/build.mk
include tests/soak/build.mk

build: criu $(BUILD_TARGETS)

test: deps criu
	@$(MAKE) --no-print-directory build
	@tests/run.sh

demo: deps criu
	@$(MAKE) --no-print-directory build
	@tests/demo.sh

bench: deps criu
	@$(MAKE) --no-print-directory build
	@tests/bench/run.sh

soak: deps criu
	@$(MAKE) --no-print-directory build
	@tests/soak/soak.py

sanitize: deps criu
	@$(MAKE) --no-print-directory build sanitize-build
	@tests/soak/sanitize.py

bench-later: deps criu
	@$(MAKE) --no-print-directory build
	@tests/bench.sh

install: build
	@scripts/install.sh install "$(DESTDIR)" "$(PREFIX)" "$(CRIU_PLUGINDIR)"

uninstall:
	@scripts/install.sh uninstall "$(DESTDIR)" "$(PREFIX)" "$(CRIU_PLUGINDIR)"

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)/plugin $(BUILD)/kernel $(BUILD)/images $(BUILD)/tests $(BIN) $(BUILD)/asan $(BUILD)/lib-asan
