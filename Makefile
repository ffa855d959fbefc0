# qrwatch - plain Makefile, pkg-config for every library.
#
#   make            build the programs into build/
#   make test       install what is missing, build with the sanitizers, run every test
#   make demo       install what is missing, build, run the whole system on loopback
#   make bench      run the benchmarks, write docs/BENCHMARKS.md
#   make install    programs, man pages, systemd units (DESTDIR, PREFIX)
#   make cross ARCH=mipsel|armhf|arm64   the probe for routers; make test-cross
#   make SANITIZE=address,undefined O=build/san   a sanitizer build
#   make fuzz [FUZZ_S=60] [FUZZ="emvco policy"]   the libFuzzer harnesses
#                   (tests/fuzz/), built with clang, each run FUZZ_S seconds
#   make ZXING=no   without ZXing-C++, the cascade's second detector (the
#                   default where pkg-config finds libzxing-dev; a cross
#                   build for a router goes without it unless ZXING=yes)

O ?= build
CC ?= cc
CXX ?= c++
PKG_CONFIG ?= pkg-config
SANITIZE ?=

WARNINGS = -Wall -Wextra -Wpedantic -Wformat-security -Wwrite-strings -Wvla \
	-Wpointer-arith -Wmissing-prototypes -Wstrict-prototypes \
	-Wold-style-definition -fno-common -Werror
OPT ?= -O2 -g
CFLAGS ?= $(OPT)
ALL_CFLAGS = -std=c11 $(WARNINGS) $(CFLAGS) -D_DEFAULT_SOURCE -D_GNU_SOURCE -MMD -MP
ALL_LDFLAGS = $(LDFLAGS)
ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif
# make fuzz: coverage for libFuzzer in every object (FUZZ_CFLAGS=-fsanitize=fuzzer-no-link)
ALL_CFLAGS += $(FUZZ_CFLAGS)

# Libraries per part: the probe must never pull in librrd, libmicrohttpd or SQLite.
PKGS_TARGETS = zbar libpng libjpeg libcurl libpsl json-c zlib libcrypto libxml-2.0
# libunistring (NFC, case folding) ships no pkg-config file in Debian 12
LIBS_UNISTRING = -lunistring
PKGS_POSTER = libqrencode
# the printed poster as PDF (targets/posterpdf.c): the CLI and qrwatchd only, never a router's
PKGS_PDF = cairo fontconfig
PKG_CFLAGS_PKGS ?= $(PKGS_TARGETS) $(PKGS_POSTER) $(PKGS_PDF) $(PKGS_FIXTURE) $(PKGS_SERVER)
# A cross build (make cross) compiles against a sysroot of the target's libraries.
ifneq ($(CROSS_SYSROOT),)
PKG_CONFIG = PKG_CONFIG_SYSROOT_DIR=$(CROSS_SYSROOT) \
	PKG_CONFIG_LIBDIR=$(CROSS_SYSROOT)/usr/lib/$(CROSS_TRIPLET)/pkgconfig:$(CROSS_SYSROOT)/usr/share/pkgconfig \
	pkg-config
PKG_CFLAGS_PKGS = $(PKGS_TARGETS) $(PKGS_POSTER)
ALL_CFLAGS += --sysroot=$(CROSS_SYSROOT)
ALL_LDFLAGS += --sysroot=$(CROSS_SYSROOT)
endif
# ZXing-C++ (C++ only in Debian 12's 1.4): targets/zxing.cc behind a C interface
ifeq ($(CROSS_SYSROOT),)
ZXING ?= $(shell $(PKG_CONFIG) --exists zxing 2>/dev/null && echo yes || echo no)
else
ZXING ?= no
endif
ifeq ($(ZXING),yes)
ALL_CFLAGS += -DQRW_ZXING
ZXING_SRC = targets/zxing.cc
LIBS_ZXING = $(shell $(PKG_CONFIG) --libs zxing 2>/dev/null) -lstdc++
ALL_CXXFLAGS = -std=c++17 -Wall -Wextra -Werror $(CFLAGS) -MMD -MP \
	$(shell $(PKG_CONFIG) --cflags zxing 2>/dev/null)
ifneq ($(SANITIZE),)
ALL_CXXFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
ALL_CXXFLAGS += $(FUZZ_CFLAGS)
endif
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKG_CFLAGS_PKGS) 2>/dev/null)
LIBS_CLI = $(shell $(PKG_CONFIG) --libs $(PKGS_TARGETS) $(PKGS_POSTER) $(PKGS_PDF) 2>/dev/null) $(LIBS_UNISTRING) \
	$(LIBS_ZXING)
# --as-needed: the probe records only the libraries it really calls (the
# daemon no ZBar, no ZXing: its decoder program does the decoding).
LIBS_PROBE = -Wl,--as-needed $(shell $(PKG_CONFIG) --libs $(PKGS_TARGETS) 2>/dev/null) $(LIBS_UNISTRING) \
	$(LIBS_ZXING)
PKGS_FIXTURE = libmicrohttpd libcrypto
PKGS_SERVER = libmicrohttpd librrd sqlite3
LIBS_SERVER = $(shell $(PKG_CONFIG) --libs $(PKGS_TARGETS) $(PKGS_POSTER) $(PKGS_PDF) $(PKGS_SERVER) 2>/dev/null) $(LIBS_UNISTRING) \
	$(LIBS_ZXING) -lpthread
LIBS_FIXTURE = $(shell $(PKG_CONFIG) --libs $(PKGS_FIXTURE) 2>/dev/null)

COMMON_SRC = common/buf.c common/err.c common/text.c common/fileio.c common/arena.c \
	common/log.c common/conffile.c common/strictjson.c
TARGETS_SRC = targets/image.c targets/imgops.c targets/decode.c targets/regrid.c targets/guard.c \
	targets/qrtext.c targets/verdict.c targets/emvco.c targets/domain.c \
	targets/payload.c targets/policy.c targets/catalog.c targets/poster.c \
	targets/netguard.c targets/uplink.c targets/page.c targets/decodereply.c \
	targets/guarddecode.c targets/banks.c targets/probecheck.c targets/catalogedit.c \
	targets/wire.c targets/result.c targets/batch.c
CLI_SRC = cli/qrwatch.c $(POSTERPDF_SRC)
POSTERPDF_SRC = targets/posterpdf.c
PROBE_LIB_SRC = prober/check.c prober/waterfall.c prober/emulate.c prober/spool.c prober/unread.c \
	prober/push.c prober/config.c prober/daemon.c prober/fetch.c
PROBE_SRC = prober/probe.c
DECODER_SRC = prober/decoder.c
SERVER_SRC = dashboard/qrwatchd.c dashboard/dconfig.c dashboard/server.c \
	dashboard/ingest.c dashboard/store.c dashboard/store_ingest.c dashboard/store_read.c \
	dashboard/rrdstore.c dashboard/html.c \
	dashboard/pages.c dashboard/metrics.c dashboard/auth.c dashboard/incidents.c dashboard/connguard.c \
	dashboard/login.c dashboard/workers.c dashboard/prune.c dashboard/httpcache.c \
	dashboard/graphs.c dashboard/graphwork.c dashboard/overview.c dashboard/addrlookup.c \
	dashboard/confirm.c dashboard/photos.c \
	$(ALERTS_SRC) alerts/astore.c alerts/engine.c alerts/outbox.c $(POSTERPDF_SRC)
# The parts of alerts/ that need no database, also under unit test.
ALERTS_SRC = alerts/route.c alerts/message.c alerts/channel.c
FIXTURE_SRC = tests/fixture/portal.c tests/fixture/mkcert.c tests/fixture/receiver.c \
	tests/fixture/sendbatch.c tests/fixture/loadgen.c tests/fixture/spooldump.c
UNIT_SRC = tests/harness.c $(wildcard tests/unit/*.c)
# One libFuzzer harness per parser of outside input (docs/fuzzing.md):
# tests/fuzz/fuzz_NAME.c, its corpus tests/fuzz/corpus/NAME/, its
# dictionary tests/fuzz/NAME.dict where the format has keywords.
FUZZ_NAMES = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_S ?= 60
FUZZ ?= $(FUZZ_NAMES)

LIB_OBJ = $(patsubst %.c,$(O)/%.o,$(COMMON_SRC) $(TARGETS_SRC) $(PROBE_LIB_SRC)) \
	$(patsubst %.cc,$(O)/%.o,$(ZXING_SRC))
CLI_OBJ = $(patsubst %.c,$(O)/%.o,$(CLI_SRC))
PROBE_OBJ = $(patsubst %.c,$(O)/%.o,$(PROBE_SRC))
DECODER_OBJ = $(patsubst %.c,$(O)/%.o,$(DECODER_SRC))
SERVER_OBJ = $(patsubst %.c,$(O)/%.o,$(SERVER_SRC))
FIXTURE_OBJ = $(patsubst %.c,$(O)/%.o,$(FIXTURE_SRC))
UNIT_OBJ = $(patsubst %.c,$(O)/%.o,$(UNIT_SRC) $(ALERTS_SRC) alerts/astore.c alerts/engine.c)
# qrwatchd's modules without its main(), for the harnesses of its parsers
SERVER_LIB_OBJ = $(filter-out $(O)/dashboard/qrwatchd.o,$(SERVER_OBJ))
FUZZ_OBJ = $(patsubst %,$(O)/tests/fuzz/fuzz_%.o,$(FUZZ_NAMES)) $(O)/tests/fuzz/fuzz.o \
	$(O)/tests/fuzz/replay.o
FUZZ_BIN = $(patsubst %,$(O)/tests/fuzz/fuzz_%,$(FUZZ_NAMES))
# The harnesses' main(): replay.c in the test build (every corpus file
# once, no clang needed); libFuzzer's own in make fuzz (FUZZ_DRIVER=).
FUZZ_DRIVER ?= $(O)/tests/fuzz/replay.o

PROGRAMS = $(O)/qrwatch $(O)/qrwatch-probe $(O)/qrwatch-probe-decode $(O)/qrwatchd
TEST_PROGRAMS = $(O)/tests/unit-tests $(O)/tests/portal $(O)/tests/mkcert \
	$(O)/tests/receiver $(O)/tests/sendbatch $(O)/tests/loadgen $(O)/tests/spooldump \
	$(O)/tests/qrwatch-probe-decode-zbar $(FUZZ_BIN)

PREFIX ?= /usr/local
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man
DOCDIR = $(PREFIX)/share/doc/qrwatch
# systemd looks in PREFIX/lib/systemd/system for /usr and /usr/local alike
UNITDIR = $(PREFIX)/lib/systemd/system
SYSUSERSDIR = $(PREFIX)/lib/sysusers.d

.PHONY: all deps test test-build demo bench clean install cross test-cross fuzz fuzz-build
all: $(PROGRAMS)

deps:
	@sh .ci/deps

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(O)/%.o: %.cc
	@mkdir -p $(dir $@)
	@echo "  CXX $<"
	@$(CXX) $(ALL_CXXFLAGS) -c -o $@ $<

$(O)/libqrwatch.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(O)/qrwatch: $(CLI_OBJ) $(O)/libqrwatch.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_CLI) -lm

$(O)/qrwatch-probe: $(PROBE_OBJ) $(O)/libqrwatch.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_PROBE) -lm

# the probe's decoder: ZBar and the image libraries live here, not in the daemon
$(O)/qrwatch-probe-decode: $(DECODER_OBJ) $(O)/libqrwatch.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_PROBE) -lm

# The decoder as a router build has it (make ZXING=no: ZBar only), for the
# tests of photos it cannot read that the server's whole cascade can.
$(O)/tests/decode-zbar.o: targets/decode.c
	@mkdir -p $(dir $@)
	@echo "  CC $< (ZBar only)"
	@$(CC) $(filter-out -DQRW_ZXING,$(ALL_CFLAGS)) $(PKG_CFLAGS) -c -o $@ $<

$(O)/tests/qrwatch-probe-decode-zbar: $(DECODER_OBJ) $(O)/tests/decode-zbar.o $(O)/libqrwatch.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_PROBE) -lm

$(O)/qrwatchd: $(SERVER_OBJ) $(O)/libqrwatch.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_SERVER) -lm

$(O)/tests/portal: $(O)/tests/fixture/portal.o $(O)/libqrwatch.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_FIXTURE)

$(O)/tests/receiver: $(O)/tests/fixture/receiver.o $(O)/libqrwatch.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_FIXTURE) $(LIBS_PROBE)

$(O)/tests/sendbatch: $(O)/tests/fixture/sendbatch.o $(O)/libqrwatch.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_PROBE)

$(O)/tests/loadgen: $(O)/tests/fixture/loadgen.o $(O)/libqrwatch.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_PROBE)

$(O)/tests/spooldump: $(O)/tests/fixture/spooldump.o $(O)/libqrwatch.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_PROBE)

$(O)/tests/mkcert: $(O)/tests/fixture/mkcert.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs libcrypto 2>/dev/null)

$(O)/tests/unit-tests: $(UNIT_OBJ) $(O)/libqrwatch.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_CLI) $(shell $(PKG_CONFIG) --libs sqlite3 2>/dev/null) -lm

$(O)/libqrwatchd.a: $(SERVER_LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

# fuzz_source() finds the examples from wherever a harness runs.
$(O)/tests/fuzz/fuzz.o: ALL_CFLAGS += -DFUZZ_SRCDIR='"$(CURDIR)"'

$(FUZZ_BIN): $(O)/tests/fuzz/fuzz_%: $(O)/tests/fuzz/fuzz_%.o $(O)/tests/fuzz/fuzz.o \
		$(FUZZ_DRIVER) $(O)/libqrwatchd.a $(O)/libqrwatch.a
	$(CC) $(ALL_LDFLAGS) $(FUZZ_LDFLAGS) -o $@ $^ -Wl,--as-needed $(LIBS_SERVER) -lm

test-build: $(PROGRAMS) $(TEST_PROGRAMS)

# The test build runs under AddressSanitizer and UndefinedBehaviorSanitizer.
test: deps
	$(MAKE) --no-print-directory O=build/san SANITIZE=address,undefined test-build
	sh tests/run.sh build/san

# make fuzz: the harnesses under libFuzzer with Debian's clang, each for
# FUZZ_S seconds; new inputs go to build/fuzz/corpus/NAME, crashes to
# build/fuzz/crashes/NAME (docs/fuzzing.md). make test replays the corpora.
fuzz:
	@sh .ci/deps fuzz
	$(MAKE) --no-print-directory O=build/fuzz CC=clang CXX=clang++ SANITIZE=address,undefined \
		OPT="-O2 -g" FUZZ_LDFLAGS=-fsanitize=fuzzer \
		FUZZ_CFLAGS="-fsanitize=fuzzer-no-link -fsanitize-coverage-ignorelist=tests/fuzz/coverage.ignore" \
		FUZZ_DRIVER= FUZZ_NAMES="$(FUZZ)" fuzz-build
	sh tests/fuzz/run.sh build/fuzz $(FUZZ_S) $(FUZZ)

fuzz-build: $(FUZZ_BIN)

# The demo runs the fixture portal too, so it builds the test programs.
demo: deps
	$(MAKE) --no-print-directory all test-build
	sh targets/examples/demo.sh $(O)

bench: deps
	$(MAKE) --no-print-directory all test-build
	for a in $(CROSS_ARCHS); do $(MAKE) --no-print-directory cross ARCH=$$a || exit 1; done
	sh bench/run.sh $(O)
	sh bench/probe.sh $(O)
	sh bench/server.sh $(O)
	sh bench/ingest.sh $(O)
	sh bench/metrics.sh $(O)
	sh bench/alerts.sh $(O)
	sh bench/attack.sh $(O)

# make cross ARCH=mipsel|armhf|arm64: qrwatch-probe for routers, -Os and
# stripped, with Debian's cross compiler against a sysroot made from the
# architecture's .deb files (.ci/sysroot). make test-cross runs each under
# qemu-user against the fixture portal.
ARCH ?= arm64
CROSS_ARCHS = mipsel armhf arm64
cross:
	@T=$$(sh .ci/sysroot $(ARCH) $(CURDIR)/build/sysroot-$(ARCH)) && \
	$(MAKE) --no-print-directory O=build/cross-$(ARCH) CC=$$T-gcc AR=$$T-ar OPT=-Os \
		CROSS_SYSROOT=$(CURDIR)/build/sysroot-$(ARCH) CROSS_TRIPLET=$$T \
		build/cross-$(ARCH)/qrwatch-probe build/cross-$(ARCH)/qrwatch-probe-decode && \
	$$T-strip -o build/cross-$(ARCH)/qrwatch-probe.stripped build/cross-$(ARCH)/qrwatch-probe && \
	$$T-strip -o build/cross-$(ARCH)/qrwatch-probe-decode.stripped \
		build/cross-$(ARCH)/qrwatch-probe-decode && \
	ls -l build/cross-$(ARCH)/qrwatch-probe.stripped build/cross-$(ARCH)/qrwatch-probe-decode.stripped

test-cross: deps
	$(MAKE) --no-print-directory all test-build
	for a in $(CROSS_ARCHS); do $(MAKE) --no-print-directory cross ARCH=$$a || exit 1; done
	sh tests/run-cross.sh $(O) $(CROSS_ARCHS)

# make install [DESTDIR=...] [PREFIX=/usr/local]: programs, man pages,
# systemd units and users, the commented sample configurations, and the
# national Prometheus's configuration and rules (docs/deploy.md).
install: $(PROGRAMS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(DOCDIR)
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(BINDIR)/
	install -m 0755 prober/qrwatch-netem $(DESTDIR)$(BINDIR)/
	install -m 0644 docs/man/qrwatch.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 docs/man/qrwatch-probe.8 docs/man/qrwatchd.8 $(DESTDIR)$(MANDIR)/man8/
	sed 's|@BINDIR@|$(BINDIR)|g' dashboard/qrwatchd.service.in > $(DESTDIR)$(UNITDIR)/qrwatchd.service
	sed 's|@BINDIR@|$(BINDIR)|g' prober/qrwatch-probe.service.in > $(DESTDIR)$(UNITDIR)/qrwatch-probe.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/qrwatchd.service $(DESTDIR)$(UNITDIR)/qrwatch-probe.service
	install -m 0644 dashboard/qrwatch.sysusers $(DESTDIR)$(SYSUSERSDIR)/qrwatch.conf
	install -m 0644 dashboard/qrwatchd.conf.sample prober/probe.conf.sample \
		docs/deploy.md $(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(DOCDIR)/prometheus
	install -m 0644 $(wildcard dashboard/prometheus/*.yml) $(DESTDIR)$(DOCDIR)/prometheus/

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(PROBE_OBJ:.o=.d) $(DECODER_OBJ:.o=.d) \
	$(FIXTURE_OBJ:.o=.d) $(SERVER_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d)
