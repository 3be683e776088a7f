# capgate: AppArmor's profile language, enforced from userspace.
#
# Layout: each component directory X/ holds main.c (the binary's entry) and
# library files built into build/lib/libX.a, so capgate can link netgate's
# and fsgate's pieces. New .c files are picked up without editing this file.

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wno-unused-parameter
CPPFLAGS += -D_GNU_SOURCE -Icommon -I. $(shell pkg-config --cflags fuse3 2>/dev/null)
LIBS_FUSE = $(shell pkg-config --libs fuse3 2>/dev/null || echo -lfuse3 -lpthread)
LIBS_NET  = -lnftnl -lmnl -lseccomp
LIBS_CAP  = -lcap-ng -lseccomp
LIBS_BPF  = -lbpf
# capgate links Debian's static archives where they are installed (all but
# libmnl, which ships none, and glibc): it starts once per sandbox, and
# the dynamic loader's relocations in it and in every child it forks cost
# page faults (~10 us each on our VMs); bound at start (-z now), so no
# forked child writes the symbol tables again. Falls back to shared libraries.
STATIC_LIBS = nftnl seccomp cap-ng fuse3 bpf elf z
STATIC_MISSING := $(strip $(foreach l,$(STATIC_LIBS),$(if $(wildcard $(shell $(CC) -print-file-name=lib$(l).a)),,$(l))))
ifeq ($(STATIC_MISSING),)
LIBS_CAPGATE = -Wl,-z,now -Wl,-Bstatic $(addprefix -l,$(STATIC_LIBS)) -Wl,-Bdynamic -lmnl -lpthread
else
LIBS_CAPGATE = $(LIBS_NET) $(LIBS_CAP) $(LIBS_FUSE) $(LIBS_BPF)
endif

B = build
COMMON_SRC  = $(wildcard common/*.c)
FSGATE_SRC  = $(filter-out fsgate/main.c,$(wildcard fsgate/*.c))
NETGATE_SRC = $(filter-out netgate/main.c,$(wildcard netgate/*.c))
CAPGATE_SRC = $(filter-out capgate/main.c,$(wildcard capgate/*.c))
UNIT_SRC    = $(wildcard tests/unit/test_*.c)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

all: $(B)/bin/capgate $(B)/bin/fsgate $(B)/bin/netgate

$(B)/obj/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

$(B)/lib/libcommon.a: $(call obj,$(COMMON_SRC))
$(B)/lib/libfsgate.a: $(call obj,$(FSGATE_SRC))
$(B)/lib/libnetgate.a: $(call obj,$(NETGATE_SRC))
$(B)/lib/libcapgate.a: $(call obj,$(CAPGATE_SRC))
$(B)/lib/%.a:
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

LIBCOMMON = $(B)/lib/libcommon.a

$(B)/bin/fsgate: $(call obj,fsgate/main.c) $(B)/lib/libfsgate.a $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS_FUSE) $(LIBS_CAP)

$(B)/bin/netgate: $(call obj,netgate/main.c) $(B)/lib/libnetgate.a $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS_NET)

$(B)/bin/capgate: $(call obj,capgate/main.c) $(B)/lib/libcapgate.a $(B)/lib/libnetgate.a $(B)/lib/libfsgate.a $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS_CAPGATE)

# Unit tests: each tests/unit/test_X.c is one program linked with every library.
$(B)/tests/%: tests/unit/%.c $(B)/lib/libcapgate.a $(B)/lib/libnetgate.a $(B)/lib/libfsgate.a $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $^ $(LIBS_NET) $(LIBS_CAP) $(LIBS_FUSE) $(LIBS_BPF)

UNIT_BIN = $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))

# Installs Debian's packages the build and the tests need, when missing.
deps:
	scripts/install-deps

# The README's main job: a shipped example, confined.
demo: all
	scripts/demo

check: all $(UNIT_BIN)
	tests/run

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)/etc/capgate
	install -m 755 $(B)/bin/capgate $(B)/bin/fsgate $(B)/bin/netgate $(DESTDIR)$(PREFIX)/bin/
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	cp -R policies/. $(DESTDIR)/etc/capgate/

clean:
	rm -rf $(B)

.PHONY: all deps demo check install clean
.SECONDARY:

# libFuzzer target for the parser, with ASan and UBSan (run by hand):
#   make fuzz FUZZ_SECONDS=60
FUZZ_SECONDS ?= 60
$(B)/fuzz/fuzz_parse: tests/fuzz/fuzz_parse.c $(COMMON_SRC) $(wildcard common/*.h)
	@mkdir -p $(dir $@)
	clang -g -O1 -D_GNU_SOURCE -Icommon -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -o $@ tests/fuzz/fuzz_parse.c $(COMMON_SRC)

fuzz: $(B)/fuzz/fuzz_parse
	@mkdir -p $(B)/fuzz/corpus
	cp -n ../shared/conformance/apparmor/tst/simple_tests/*/*.sd $(B)/fuzz/corpus/ 2>/dev/null || true
	$(B)/fuzz/fuzz_parse -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 \
		-rss_limit_mb=4096 $(B)/fuzz/corpus

.PHONY: fuzz
