# The x87 system-level test kernels (tests/guests/fpu): each <name>.c is
# linked with the system-test kernels' runtime (tests/guests/kernels: entry,
# console on 0xE9, exit on 0xF4, trap plumbing) into $(O)/fpu/<name>.elf
# (multiboot: vmd-guest -k, qemu -kernel) and $(O)/fpu/<name>.bin (the
# minimal test board). The FP work is in inline assembly, so the C stays
# general-register only and the compiler never touches the x87 itself.
#
# The Linux user-level check, $(O)/fpu/fpucheck, is a static 32-bit glibc
# program run both on the host and inside the guest kit.
FPU_DIR     := tests/guests/fpu
FPU_RT_DIR  := tests/guests/kernels
FPU_NAMES   := $(basename $(notdir $(wildcard $(FPU_DIR)/*.c)))
FPU_RT      := $(FPU_RT_DIR)/start.S $(FPU_RT_DIR)/rt.c
FPU_DEPS    := $(FPU_RT) $(wildcard $(FPU_RT_DIR)/*.h) $(wildcard $(FPU_DIR)/*.h) \
               $(FPU_RT_DIR)/kernel.ld mk/fpuguest.mk
FPU_CFLAGS  := -m32 -march=i686 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fno-builtin -nostdlib -static -no-pie -O2 -g \
	-Wall -Wextra -Werror -mno-sse -mno-mmx -mgeneral-regs-only -I$(FPU_RT_DIR) \
	-Wl,-T,$(FPU_RT_DIR)/kernel.ld -Wl,--build-id=none -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments
FPU_ELFS    := $(patsubst %,$(O)/fpu/%.elf,$(FPU_NAMES))
FPU_BINS    := $(FPU_ELFS:.elf=.bin)
FPU_CHECK   := $(O)/fpu/fpucheck

$(O)/fpu/%.elf: $(FPU_DIR)/%.c $(FPU_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(FPU_CFLAGS) -o $@ $(FPU_RT) $<

$(O)/fpu/%.bin: $(O)/fpu/%.elf
	objcopy -O binary $< $@

# -ffloat-store is not wanted: the point is what the x87 computes, spills
# included, the same on the host and in the guest (same binary).
$(FPU_CHECK): $(FPU_DIR)/userland/fpucheck.c mk/fpuguest.mk
	@mkdir -p $(dir $@)
	$(CC) -m32 -static -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -mfpmath=387 -mno-sse \
		-o $@ $< -lm

all: $(FPU_ELFS) $(FPU_BINS)
# fpucheck needs the i386 glibc (gcc-multilib); built when it is there.
ifneq ($(wildcard /usr/lib32/libc.a /usr/lib/i386-linux-gnu/libc.a),)
all: $(FPU_CHECK)
endif
