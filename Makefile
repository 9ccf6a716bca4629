# kintape — build, test, demo, bench.
#
#   make            build bin/kintape
#   make test       install what is missing, build, run every test (also under ASan/UBSan)
#   make demo       install what is missing, build, run the end-to-end demo on the emulator
#   make bench      benchmarks (kintape against kinesalite and kinesis-mock)
#   make fuzz       libFuzzer harnesses (clang)
#   make install    PREFIX=/usr/local
#
# Variables: SANITIZE=address,undefined builds an instrumented variant in
# build/san/; CI=true turns warnings into errors.

CC       ?= cc
PREFIX   ?= /usr/local
PYTHON   ?= python3

CSTD     := -std=c11 -D_GNU_SOURCE
WARN     := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes
OPT      ?= -O2 -g
ifneq ($(CI),)
WARN     += -Werror
endif

VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)

ifeq ($(SANITIZE),)
VARIANT  := build/default
SANFLAGS :=
KINTAPE  := bin/kintape
else
VARIANT  := build/san
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
KINTAPE  := build/san/kintape
endif

INCLUDES := -I. -Icommon
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) $(SANFLAGS) $(INCLUDES) -MMD -MP $(CFLAGS)
LDLIBS_ALL := -lpcap -lcurl -lcsv -levent -levent_openssl -lhttp_parser -lnghttp2 -lcbor -lssl -lcrypto -lz -lpthread -lm
LDFLAGS_ALL = $(SANFLAGS) $(LDFLAGS)

# Every module of the parts goes into one static library that the program
# (the dispatcher, kintape.c, above them all) and the unit tests link against.
LIB_SRC  := $(wildcard common/*.c emulator/*.c capture/*.c snapshots/*.c replay/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(VARIANT)/%.o)
MAIN_OBJ := $(VARIANT)/kintape.o
LIB      := $(VARIANT)/libkintape.a

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(VARIANT)/tests/%)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(VARIANT)/tools/%)
# Each libFuzzer harness also builds as a plain program that replays its corpus (make test).
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(VARIANT)/fuzz/replay_%)

.PHONY: all test demo bench fuzz install clean FORCE

all: $(KINTAPE) $(UNIT_BIN) $(TOOL_BIN) $(REPLAY_BIN)

# ---------------------------------------------------------------------------
# Dependencies: Debian packages, installed when missing (as root), checked with
# dpkg first so a ready machine pays nothing. deps-build is an order-only
# prerequisite of every compilation, so `make -jN` on a bare machine installs
# the headers before the first object is compiled.
BUILD_PKGS := cc:gcc make:make libpcap-dev libcurl4-openssl-dev libcsv-dev \
              libssl-dev libevent-dev libhttp-parser-dev libnghttp2-dev libcbor-dev zlib1g-dev
TEST_PKGS  := python3:python3 curl:curl tcpdump:tcpdump openssl python3-cbor2
.PHONY: deps-build deps-test deps-bench deps-fuzz
deps-build:
	@common/deps.sh $(BUILD_PKGS)
deps-test: deps-build
	@common/deps.sh $(TEST_PKGS)
	@common/deps.sh --tools
deps-bench: deps-test
	@common/deps.sh wrk:wrk node:nodejs npm:npm h2load:nghttp2-client
deps-fuzz: deps-build
	@common/deps.sh clang libclang-rt-14-dev

# ---------------------------------------------------------------------------
# Build

# The version string changes with every commit; keep it in a header that is
# rewritten only when it differs, so a rebuild touches one object.
$(VARIANT)/kt_version_stamp.h: FORCE
	@mkdir -p $(VARIANT)
	@printf '#define KT_VERSION "%s"\n' "$(VERSION)" > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(VARIANT)/%.o: %.c | deps-build
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(VARIANT)/common/version.o: common/version.c $(VARIANT)/kt_version_stamp.h | deps-build
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -I$(VARIANT) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(KINTAPE): $(MAIN_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) $(MAIN_OBJ) $(LIB) $(LDLIBS_ALL) -o $@

$(VARIANT)/tests/%: tests/unit/%.c $(LIB) tests/unit/ktest.h | deps-build
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $< $(LIB) $(LDFLAGS_ALL) $(LDLIBS_ALL) -o $@

# Helpers the tests run (mkpcap writes crafted pcap files, sigv4sign prints kintape's signature for a request).
$(VARIANT)/tools/%: tests/tools/%.c $(LIB) | deps-build
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $< $(LIB) $(LDFLAGS_ALL) $(LDLIBS_ALL) -o $@

$(VARIANT)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/api_call.h $(LIB) | deps-build
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $< tests/fuzz/replay.c $(LIB) $(LDFLAGS_ALL) $(LDLIBS_ALL) -o $@

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d)

# ---------------------------------------------------------------------------
# Tests. `make test` runs everything with the normal build, then the tests
# marked for it (the emulator's) again with an ASan/UBSan build.
# `make SANITIZE=address,undefined test` runs everything against that build.
ifeq ($(SANITIZE),)
test: deps-test
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory SANITIZE=address,undefined all
	@$(PYTHON) tests/run.py --bin bin/kintape --unit build/default/tests \
	    --san-bin build/san/kintape --san-unit build/san/tests
else
test: deps-test
	@$(MAKE) --no-print-directory SANITIZE=$(SANITIZE) all
	@$(PYTHON) tests/run.py --bin $(KINTAPE) --unit $(VARIANT)/tests
endif

demo: deps-test
	@$(MAKE) --no-print-directory all
	@$(PYTHON) examples/demo.py --bin bin/kintape

bench: deps-bench
	@$(MAKE) --no-print-directory all
	@$(PYTHON) tests/bench/bench.py --bin bin/kintape

# libFuzzer harnesses (tests/fuzz/fuzz_*.c), each run FUZZ_SECONDS from its seed corpus.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_FLAGS   := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

fuzz: deps-fuzz
	@mkdir -p build/fuzz
	@printf '#define KT_VERSION "%s"\n' "$(VERSION)" > build/fuzz/kt_version_stamp.h
	@set -e; for h in $(FUZZ_SRC); do \
	    name=$$(basename $$h .c); corpus=tests/fuzz/corpus/$${name#fuzz_}; \
	    echo "building $$name"; \
	    $(FUZZ_CC) $(CSTD) $(INCLUDES) -Ibuild/fuzz $(FUZZ_FLAGS) $$h $(LIB_SRC) $(LDLIBS_ALL) -o build/fuzz/$$name; \
	    mkdir -p build/fuzz/corpus-$$name; \
	    echo "running $$name for $(FUZZ_SECONDS)s (seeds: $$corpus)"; \
	    build/fuzz/$$name -max_total_time=$(FUZZ_SECONDS) -max_len=262144 -artifact_prefix=build/fuzz/ \
	        build/fuzz/corpus-$$name $$corpus; \
	done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 bin/kintape $(DESTDIR)$(PREFIX)/bin/kintape

clean:
	rm -rf build bin

FORCE:
