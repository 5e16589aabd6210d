# The board's multiboot test kernel (tests/guests/board): a freestanding
# 32-bit ELF loaded at 2 MiB, used by test_boot and tests/integration/guest_*.sh.
BOARD_KERNEL := $(O)/tests/guests/board/kernel.elf
BOARD_KERNEL_SRCS := tests/guests/board/start.S tests/guests/board/kernel.c
BOARD_KERNEL_LDS := tests/guests/board/kernel.ld
BOARD_KERNEL_FLAGS := -m32 -march=i686 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-fno-asynchronous-unwind-tables -nostdlib -static -no-pie -O2 -Wall -Wextra -Werror \
	-Wl,-T,tests/guests/board/kernel.ld -Wl,--build-id=none -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments

$(BOARD_KERNEL): $(BOARD_KERNEL_SRCS) $(BOARD_KERNEL_LDS) mk/guest.mk
	@mkdir -p $(dir $@)
	$(CC) $(BOARD_KERNEL_FLAGS) -o $@ $(BOARD_KERNEL_SRCS)

all: $(BOARD_KERNEL)
# test_boot and test_pc load the kernel; build it before the unit tests run.
$(O)/tests/unit/test_boot: $(BOARD_KERNEL)
$(O)/tests/unit/test_pc: $(BOARD_KERNEL)
