# The differential CPU test (tests/diff/README.md): a 64-bit driver that
# runs cases in our translator, and a 32-bit native runner for the host.

DIFF_SRCS   := $(sort $(wildcard tests/diff/*.c))
DIFF_OBJS   := $(patsubst %.c,$(O)/%.o,$(DIFF_SRCS))
DIFF_BIN    := $(O)/tests/diff/cpu_diff
DIFF_RUNNER := $(O)/tests/diff/native_runner

# The CPU entry points the driver calls. They are weak references in
# tests/diff/emu.c so the driver links (and reports SKIP) while the
# translator is still being written; -u pulls in the archive members that
# define them, once they exist.
DIFF_CPU_SYMS := cpu_new cpu_free cpu_reset cpu_run cpu_get_regs cpu_set_regs \
                 cpu_phys_written cpu_flush_tlb cpu_request_exit

all: $(DIFF_BIN) $(DIFF_RUNNER)
# The sanitizer build (make test: O=build/asan SAN=1 unit) gets the driver
# too: tests/integration/cpu_diff.sh runs it to catch translator crashes.
unit: $(DIFF_BIN)

$(DIFF_BIN): $(DIFF_OBJS) $(LIBTRANSLATOR) $(LIBMACHINE) $(LIBUTIL)
	@mkdir -p $(dir $@)
	pull=""; for s in $(DIFF_CPU_SYMS); do \
		if nm -g --defined-only $(LIBTRANSLATOR) 2>/dev/null | grep -q " T $$s\$$"; then \
			pull="$$pull -Wl,-u,$$s"; fi; done; \
	$(CC) $(LDFLAGS) -o $@ $(DIFF_OBJS) $$pull $(LIBTRANSLATOR) $(LIBMACHINE) $(LIBUTIL) -lm

# -no-pie: the runner writes absolute addresses of its globals into the
# code it generates. No stack protector: the fault handler runs before GS
# (glibc's TLS) is restored.
DIFF_RUNNER_FLAGS := -m32 -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) -I. -fno-pie -no-pie \
                     -fno-stack-protector -U_FORTIFY_SOURCE

$(DIFF_RUNNER): tests/diff/native/runner.c tests/diff/native/enter.S tests/diff/diff.h
	@mkdir -p $(dir $@)
	$(CC) $(DIFF_RUNNER_FLAGS) -o $@ tests/diff/native/runner.c tests/diff/native/enter.S

-include $(DIFF_OBJS:.o=.d)
