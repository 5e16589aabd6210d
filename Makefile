# vmd: one plain Makefile. Sources are picked up by folder, objects go
# out of tree under $(O), header dependencies come from -MMD.
# Special rules for a folder live in mk/<folder>.mk, included at the end.

O       ?= build
CC      ?= cc
PKGS    := libevent json-c zlib slirp libvncserver
SAN     ?= 0
PREFIX  ?= /usr/local
DESTDIR ?=

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter
CSTD    := -std=c11 -D_GNU_SOURCE
OPT     ?= -O2 -g
CFLAGS  ?=
CFLAGS  += $(CSTD) $(OPT) $(WARN) -I. -MMD -MP
LDFLAGS ?=
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

# pkg-config is asked only when a build needs it, so `make deps` works
# on a machine where the -dev packages are still missing.
pkgcflags = $(shell pkg-config --cflags $(1) 2>/dev/null)
pkglibs   = $(shell pkg-config --libs $(1) 2>/dev/null)

srcs = $(sort $(wildcard $(1)/*.c))
objs = $(patsubst %.c,$(O)/%.o,$(call srcs,$(1)))

LIBTRANSLATOR := $(O)/libtranslator.a
LIBMACHINE    := $(O)/libmachine.a
LIBPROTO      := $(O)/libproto.a
LIBUTIL       := $(O)/libutil.a

TRANSLATOR_OBJS := $(call objs,translator)
MACHINE_OBJS    := $(call objs,machine)
PROTO_OBJS      := $(call objs,proto)
UTIL_OBJS       := $(call objs,lib)

# Binaries: name := folder. Each is built only once its folder has sources.
BIN_vmd         := daemon
BIN_vmctl       := clients/vmctl
BIN_vmd-guest   := guest
BIN_vmd-display := display
BINS := $(foreach b,vmd vmctl vmd-guest vmd-display,$(if $(call srcs,$(BIN_$(b))),$(O)/$(b)))

# What each binary links, innermost library last.
LIBS_vmd         := $(LIBPROTO) $(LIBUTIL)
LIBS_vmctl       := $(LIBPROTO) $(LIBUTIL)
LIBS_vmd-guest   := $(LIBMACHINE) $(LIBTRANSLATOR) $(LIBPROTO) $(LIBUTIL)
LIBS_vmd-display := $(LIBPROTO) $(LIBUTIL)
PKGLIBS_vmd         := libevent json-c
PKGLIBS_vmctl       := json-c
PKGLIBS_vmd-guest   := libevent json-c zlib slirp
PKGLIBS_vmd-display := libvncserver json-c

UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(patsubst tests/unit/%.c,$(O)/tests/unit/%,$(UNIT_SRCS))
UNIT_LIBS  := $(LIBMACHINE) $(LIBTRANSLATOR) $(LIBPROTO) $(LIBUTIL)
# The harness and shared test helpers: every tests/unit/*.c that is not a test program.
UNIT_SUPPORT := $(patsubst %.c,$(O)/%.o,$(filter-out $(UNIT_SRCS),$(sort $(wildcard tests/unit/*.c))))

.PHONY: all deps run test unit check-unit asan-unit kit install uninstall clean format bench
all: $(BINS) $(UNIT_BINS)

deps:
	@scripts/deps.sh

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(call pkgcflags,$(PKGS)) -c $< -o $@

$(LIBTRANSLATOR): $(TRANSLATOR_OBJS)
$(LIBMACHINE): $(MACHINE_OBJS)
$(LIBPROTO): $(PROTO_OBJS)
$(LIBUTIL): $(UTIL_OBJS)
$(O)/lib%.a:
	@mkdir -p $(dir $@)
	rm -f $@
	$(if $^,ar rcs $@ $^,ar rcs $@)

.SECONDARY:
.SECONDEXPANSION:
$(BINS): $(O)/%: $$(call objs,$$(BIN_$$*)) $$(LIBS_$$*)
	$(CC) $(LDFLAGS) -o $@ $(call objs,$(BIN_$*)) $(LIBS_$*) $(call pkglibs,$(PKGLIBS_$*)) -lm

$(O)/tests/unit/%: $(O)/tests/unit/%.o $(UNIT_SUPPORT) $(UNIT_LIBS)
	$(CC) $(LDFLAGS) -o $@ $< $(UNIT_SUPPORT) $(UNIT_LIBS) $(call pkglibs,$(PKGS)) -lm

unit: $(UNIT_BINS)

# The README's test command: installs what is missing, builds, runs everything.
test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory O=$(O)/asan SAN=1 OPT="-O1 -g" unit
	@$(MAKE) --no-print-directory kit
	@tests/run --build $(O)

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run.sh $(O)

install: all
	scripts/install.sh "$(DESTDIR)" "$(PREFIX)" "$(O)"

clean:
	rm -rf $(O)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

-include $(wildcard mk/*.mk)

ALL_OBJS := $(TRANSLATOR_OBJS) $(MACHINE_OBJS) $(PROTO_OBJS) $(UTIL_OBJS) \
            $(foreach b,vmd vmctl vmd-guest vmd-display,$(call objs,$(BIN_$(b)))) \
            $(UNIT_BINS:=.o) $(UNIT_SUPPORT)
-include $(ALL_OBJS:.o=.d)
