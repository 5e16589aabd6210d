# Freestanding CPU system-test kernels (tests/guests/kernels): each
# <name>.c + the shared runtime (start.S, rt.c) becomes a multiboot ELF
# $(O)/kernels/<name>.elf (qemu -kernel, vmd-guest -k) and a flat binary
# $(O)/kernels/<name>.bin loaded at 0x40000 and entered in real mode at
# 0x4000:0000 (the minimal test board, $(O)/sysboard).
KERNEL_DIR    := tests/guests/kernels
KERNEL_NAMES  := $(basename $(notdir $(filter-out $(KERNEL_DIR)/rt.c,$(wildcard $(KERNEL_DIR)/*.c))))
KERNEL_RT     := $(KERNEL_DIR)/start.S $(KERNEL_DIR)/rt.c
KERNEL_DEPS   := $(KERNEL_RT) $(wildcard $(KERNEL_DIR)/*.h) $(KERNEL_DIR)/kernel.ld mk/kernels.mk
KERNEL_CFLAGS := -m32 -march=i686 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fno-builtin -nostdlib -static -no-pie -O2 -g \
	-Wall -Wextra -Werror -mno-sse -mno-mmx -mgeneral-regs-only \
	-Wl,-T,$(KERNEL_DIR)/kernel.ld -Wl,--build-id=none -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments
KERNEL_ELFS   := $(patsubst %,$(O)/kernels/%.elf,$(KERNEL_NAMES))
KERNEL_BINS   := $(KERNEL_ELFS:.elf=.bin)

$(O)/kernels/%.elf: $(KERNEL_DIR)/%.c $(KERNEL_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(KERNEL_CFLAGS) -o $@ $(KERNEL_RT) $<

$(O)/kernels/%.bin: $(O)/kernels/%.elf
	objcopy -O binary $< $@

all: $(KERNEL_ELFS) $(KERNEL_BINS)

# The minimal test board links the CPU only. It is built once the
# translator defines cpu_new(); until then cpu_system.sh reports why it fails.
SYSBOARD := $(O)/sysboard
ifneq ($(shell grep -l '^cpu_new\|^struct cpu \*cpu_new' translator/*.c 2>/dev/null),)
SYSBOARD_OBJS := $(O)/tests/guests/sysboard/sysboard.o $(O)/tests/guests/sysboard/gdbstub.o
$(SYSBOARD): $(SYSBOARD_OBJS) $(LIBTRANSLATOR) $(LIBUTIL)
	$(CC) $(LDFLAGS) -o $@ $(SYSBOARD_OBJS) $(LIBTRANSLATOR) $(LIBUTIL) -lm
all: $(SYSBOARD)
endif
-include $(O)/tests/guests/sysboard/sysboard.d $(O)/tests/guests/sysboard/gdbstub.d
