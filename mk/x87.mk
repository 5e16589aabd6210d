# The x87 differential test's native half: a 32-bit program that runs each
# case on the host's own FPU (tests/x87/native.c). test_x87 executes it and
# replays its records through x87_exec(); see tests/unit/test_x87.c.
X87_NATIVE := $(O)/tests/x87/x87-native
X87_NATIVE_FLAGS := -m32 -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) -I. -fno-pie -no-pie

$(X87_NATIVE): tests/x87/native.c tests/x87/forms.h
	@mkdir -p $(dir $@)
	$(CC) $(X87_NATIVE_FLAGS) -o $@ tests/x87/native.c

all: $(X87_NATIVE)
unit: $(X87_NATIVE)
