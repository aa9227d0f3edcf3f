# allora-workerd — see HACKING.md for the layout and conventions.
.DEFAULT_GOAL := all
BUILD	?= build
PREFIX	?= /usr/local
DESTDIR	?=
CC	?= cc
VERSION	:= 0.1.0

PKGS	:= libevent libevent_openssl libcurl jansson libsecp256k1 openssl libprotobuf-c inih xgboost cairo fontconfig
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lwslay -lm

# What each program may link (HACKING.md, "What each program links"; tests/integ/build_ldd.sh
# checks the result).  --as-needed drops a listed library that the program does not use.
pkg_libs = $(shell pkg-config --libs $(1) 2>/dev/null)
LIBS_supervisor	:= $(call pkg_libs,libevent libcurl jansson openssl inih) -lm
LIBS_listener	:= $(call pkg_libs,libevent libevent_openssl libcurl jansson openssl libprotobuf-c inih) -lwslay -lm
LIBS_trainer	:= $(call pkg_libs,libevent libcurl jansson openssl inih xgboost cairo fontconfig) -lm
LIBS_submitter	:= $(call pkg_libs,libevent libcurl jansson libsecp256k1 openssl libprotobuf-c inih) -lm
# alloractl: its own commands, the submitter's (keys, tx, register), and `check`, which
# composes the roles' preflights (listener: websocket; trainer: market data, never a model:
# predict and backtest run the trainer's program, supervisor/ctl_trainer.c).
LIBS_alloractl	:= $(call pkg_libs,libevent libevent_openssl libcurl jansson libsecp256k1 openssl libprotobuf-c inih) -lwslay -lm
AS_NEEDED	:= -Wl,--as-needed

WERROR	?= -Werror
WARN	:= -Wall -Wextra $(WERROR) -Wshadow -Wpointer-arith -Wmissing-prototypes \
	   -Wno-unused-parameter -Wno-missing-field-initializers
# gcc only (clang, used by make fuzz, does not know it).
WARN	+= $(if $(findstring clang,$(shell $(CC) --version 2>/dev/null | head -1)),,-Wno-format-truncation)
CFLAGS	?= -g -O2
ALL_CFLAGS := -std=gnu11 $(WARN) $(CPPFLAGS) $(CFLAGS) -D_GNU_SOURCE -DAW_VERSION='"$(VERSION)"' \
	   -I. -Icommon -I$(BUILD)/gen $(PKG_CFLAGS)
# Test hooks (AW_CHILD_WRAPPER, AW_TEST_CRASH, AW_TEST_CRASH_AFTER_SIGN) exist only in the
# test build that `make check` makes in $(BUILD)/check; `make`, `make install` and the
# package never honour them (README, "Test builds").
ifeq ($(AW_TEST_HOOKS),1)
ALL_CFLAGS += -DAW_TEST_HOOKS
endif
LDFLAGS	?=
ifeq ($(SANITIZE),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS	+= -fsanitize=address,undefined
endif

MODULES	:= common listener trainer submitter supervisor
ROLES	:= listener trainer submitter
# Mains stay out of their folder's library: <role>/main.c is the main of that role's program.
MAINS	:= supervisor/workerd.c supervisor/alloractl.c $(addsuffix /main.c,$(ROLES))
LIBEXEC	:= $(BUILD)/libexec/allora-workerd
ROLE_PROGS := $(patsubst %,$(LIBEXEC)/allora-workerd-%,$(ROLES))

PROTOS	:= $(wildcard common/proto/*.proto)
PB_C	:= $(patsubst common/proto/%.proto,$(BUILD)/gen/%.pb-c.c,$(PROTOS))
PB_H	:= $(PB_C:.c=.h)

# Extra rules of a folder (optional).
-include $(wildcard $(addsuffix /module.mk,$(MODULES)) tests/devnet/module.mk)

define module_rules
$(1)_SRCS := $$(filter-out $$(MAINS),$$(wildcard $(1)/*.c))
$(1)_OBJS := $$(patsubst %.c,$$(BUILD)/obj/%.o,$$($(1)_SRCS)) $$(if $$(filter common,$(1)),$$(patsubst %.c,%.o,$$(PB_C)))
$$(BUILD)/lib$(1).a: $$($(1)_OBJS)
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call module_rules,$(m))))

# libsupervisor.a calls into the roles (alloractl check composes their preflights), the
# roles call only into libcommon.a: that order, for the static linker.
ALL_LIBS := $(BUILD)/libsupervisor.a $(BUILD)/liblistener.a $(BUILD)/libtrainer.a \
	    $(BUILD)/libsubmitter.a $(BUILD)/libcommon.a

DEVNET_SRCS := $(wildcard tests/devnet/*.c)
DEVNET_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(DEVNET_SRCS))

PROGS	:= $(BUILD)/allora-workerd $(BUILD)/alloractl $(ROLE_PROGS)
ifneq ($(DEVNET_SRCS),)
PROGS	+= $(BUILD)/allora-devnet
endif

UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.PHONY: all check unit integ clean install demo deps fuzz fuzz-run fuzz-bins bench programs \
	install-files deb check-deb check-build
.SECONDARY:

all: deps-ok $(PROGS)

# Generated protobuf code (never edited, never committed).
$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: common/proto/%.proto
	@mkdir -p $(BUILD)/gen
	protoc-c --proto_path=common/proto --c_out=$(BUILD)/gen $<

$(BUILD)/gen/%.pb-c.o: $(BUILD)/gen/%.pb-c.c
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -c -o $@ $<

$(BUILD)/obj/%.o: %.c $(PB_H)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# One program per role, each with its own library and libcommon.a only.
$(BUILD)/allora-workerd: $(BUILD)/obj/supervisor/workerd.o $(BUILD)/libsupervisor.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) $(AS_NEEDED) -o $@ $^ $(LIBS_supervisor)

$(BUILD)/alloractl: $(BUILD)/obj/supervisor/alloractl.o $(ALL_LIBS)
	$(CC) $(LDFLAGS) $(AS_NEEDED) -o $@ $^ $(LIBS_alloractl)

$(LIBEXEC)/allora-workerd-%: $(BUILD)/obj/%/main.o $(BUILD)/lib%.a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $(AS_NEEDED) -o $@ $^ $(LIBS_$*)

$(BUILD)/allora-devnet: $(DEVNET_OBJS) $(ALL_LIBS)
	$(CC) $(LDFLAGS) -o $@ $(DEVNET_OBJS) $(ALL_LIBS) $(PKG_LIBS)

# Unit test programs: tests/unit/<module>_<name>.c links lib<module>.a and libcommon.a;
# supervisor_* and devnet_* link everything.
define unit_rule
$(BUILD)/tests/$(1): $(BUILD)/obj/tests/unit/$(1).o $$(call unit_libs,$(1))
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$< $$(call unit_libs,$(1)) $$(PKG_LIBS)
endef
unit_mod = $(firstword $(subst _, ,$(1)))
unit_libs = $(if $(filter supervisor devnet,$(call unit_mod,$(1))),$(ALL_LIBS),$(BUILD)/lib$(call unit_mod,$(1)).a $(BUILD)/libcommon.a)
$(foreach t,$(patsubst tests/unit/%.c,%,$(UNIT_SRCS)),$(eval $(call unit_rule,$(t))))

T ?= .
# The tests run the test build ($(BUILD)/check: the same sources with -DAW_TEST_HOOKS);
# PROD_BUILD_DIR names the production build, which a few tests inspect (tests/integ/build_*.sh).
CHECK_BUILD := $(BUILD)/check
CHECK_ENV = BUILD_DIR=$(abspath $(CHECK_BUILD)) PROD_BUILD_DIR=$(abspath $(BUILD)) \
	SANITIZE=$(SANITIZE) VALGRIND=$(VALGRIND)
CHECK_MAKE = $(MAKE) --no-print-directory BUILD=$(CHECK_BUILD) AW_TEST_HOOKS=1
# The test build alone (build/check/: the programs with the test hooks).
check-build: deps-ok
	+@$(CHECK_MAKE) $(patsubst $(BUILD)/%,$(CHECK_BUILD)/%,$(PROGS))

unit: deps-ok
	+@$(CHECK_MAKE) $(patsubst $(BUILD)/%,$(CHECK_BUILD)/%,$(UNIT_BINS))
	@$(CHECK_ENV) tests/run.sh --unit '$(T)'

integ: deps-ok $(PROGS)
	+@$(CHECK_MAKE) $(patsubst $(BUILD)/%,$(CHECK_BUILD)/%,$(PROGS))
	@$(CHECK_ENV) tests/run.sh --integ '$(T)'

# Builds only what the selected tests need when T is given.
check: deps-ok
	@$(MAKE) --no-print-directory $(PROGS)
	+@$(CHECK_MAKE) $(patsubst $(BUILD)/%,$(CHECK_BUILD)/%,$(if $(filter .,$(T)),$(PROGS) $(UNIT_BINS),$(PROGS) $(filter $(addprefix $(BUILD)/tests/,$(shell ls tests/unit 2>/dev/null | sed -n 's/\.c$$//p' | grep -E '$(T)')),$(UNIT_BINS))))
	@$(CHECK_ENV) tests/run.sh --all '$(T)'

# The long cluster run (issue 24): leader killed every 20 s for 3 minutes; bounded at 6.
check-cluster: deps-ok $(PROGS)
	@BUILD_DIR=$(abspath $(BUILD)) timeout -k 5 360 bash tests/cluster/failover_long.sh
.PHONY: check-cluster

# Installs missing Debian packages when a library is missing.
deps-ok:
	@pkg-config --exists $(PKGS) && test -f /usr/include/wslay/wslay.h && command -v protoc-c >/dev/null \
		&& test -f /usr/include/cmocka.h || scripts/deps.sh
.PHONY: deps-ok

deps:
	scripts/deps.sh

# Benchmarks (not part of check): installs python3-sklearn through scripts/deps.sh --bench.
# bench/*.c are programs linking the trainer library (see bench/README.md).
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(BUILD)/libtrainer.a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libtrainer.a $(BUILD)/libcommon.a $(PKG_LIBS)

bench: deps-ok $(PROGS) $(BENCH_BINS)
	@scripts/deps.sh --bench
	@test -x bench/run.sh || { echo "bench/run.sh is missing"; exit 1; }
	@BUILD_DIR=$(abspath $(BUILD)) bench/run.sh

demo: deps-ok $(PROGS)
	@BUILD_DIR=$(abspath $(BUILD)) scripts/demo.sh

# The programs a production install ships (no devnet): what the package builds.
programs: $(BUILD)/allora-workerd $(BUILD)/alloractl $(ROLE_PROGS)

install: all install-files

install-files: programs
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/doc/allora-workerd/examples
	install -m 0755 $(BUILD)/allora-workerd $(BUILD)/alloractl $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/libexec/allora-workerd
	install -m 0755 $(ROLE_PROGS) $(DESTDIR)$(PREFIX)/libexec/allora-workerd/
	for f in man/*.[158]; do [ -f "$$f" ] || continue; \
		install -m 0644 "$$f" $(DESTDIR)$(PREFIX)/share/man/man$${f##*.}/; done
	install -m 0644 etc/allora-worker.conf etc/allora-worker.env.example \
		etc/allora-workerd.service etc/allora-workerd@.service \
		$(DESTDIR)$(PREFIX)/share/doc/allora-workerd/
	install -m 0755 etc/examples/predictor.py etc/examples/model_server.py etc/examples/forecaster.py \
		$(DESTDIR)$(PREFIX)/share/doc/allora-workerd/examples/

# libFuzzer targets (clang): tests/fuzz/fuzz_<name>.c, corpus in tests/fuzz/corpus/<name>/.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/%,$(FUZZ_SRCS))
FUZZ_SECONDS ?= 60

fuzz:
	@command -v clang >/dev/null || scripts/deps.sh --fuzz
	$(MAKE) BUILD=$(BUILD)/fuzz CC=clang WERROR= \
		CFLAGS="-g -O1 -fsanitize=fuzzer-no-link,address,undefined" \
		LDFLAGS="-fsanitize=address,undefined" fuzz-bins

fuzz-bins: $(FUZZ_BINS)

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(ALL_LIBS)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(ALL_LIBS) $(PKG_LIBS)

fuzz-run: fuzz
	@for f in $(FUZZ_SRCS); do n=$$(basename $$f .c); c=$${n#fuzz_}; \
		mkdir -p tests/fuzz/out/$$c; echo "== $$n for $(FUZZ_SECONDS) s"; \
		$(BUILD)/fuzz/$$n -max_total_time=$(FUZZ_SECONDS) -max_len=70000 \
			-artifact_prefix=tests/fuzz/out/$$c/ tests/fuzz/out/$$c \
			tests/fuzz/corpus/$$c || exit 1; done

# The Debian package (README, "The Debian package"): built by dpkg-buildpackage in a
# temporary copy of the tree, so $(BUILD) is left as it is; the .deb and lintian's report
# land in $(BUILD)/.  check-deb builds, installs, runs and purges it (as root).
deb:
	@scripts/deps.sh --deb
	@BUILD_DIR=$(abspath $(BUILD)) scripts/deb.sh

check-deb: deps-ok $(PROGS)
	@scripts/deps.sh --deb
	+@$(CHECK_MAKE) $(patsubst $(BUILD)/%,$(CHECK_BUILD)/%,$(PROGS))
	@$(CHECK_ENV) DEB_BUILD_DIR=$(abspath $(BUILD)) tests/run.sh --deb '$(T)'

clean:
	rm -rf $(BUILD)
