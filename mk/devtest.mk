# The device unit tests share their save/load checks (tests/unit/devtest.c):
# the programs that use them link devtest.o as well as harness.o.
DEVTEST_OBJ   := $(O)/tests/unit/devtest.o
DEVTEST_USERS := $(addprefix $(O)/tests/unit/test_,i8259 mc146818 ns16550 i8042 acpi pci)

$(DEVTEST_USERS): $(DEVTEST_OBJ)
$(DEVTEST_USERS): LDFLAGS += $(DEVTEST_OBJ)

-include $(DEVTEST_OBJ:.o=.d)
