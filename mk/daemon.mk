# The control plane's special rules.
#
# The config parser lives with the daemon (daemon/parse.c) but is unit
# tested alone, so its test links that one object besides the libraries.
$(O)/tests/unit/test_conf: $(O)/tests/unit/test_conf.o $(O)/tests/unit/harness.o \
		$(O)/daemon/parse.o $(UNIT_LIBS)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(UNIT_LIBS) $(call pkglibs,$(PKGS)) -lm

# The guest-process double for failure injection in the integration tests.
FAKE_GUEST := $(O)/tests/fake-guest
$(FAKE_GUEST): $(O)/tests/integration/fake-guest.o $(LIBPROTO) $(LIBUTIL)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBPROTO) $(LIBUTIL) $(call pkglibs,json-c) -lm
all: $(FAKE_GUEST)

# The control-plane benchmark client, run by hand through bench/control.sh.
$(O)/bench/control: $(O)/bench/control.o $(LIBPROTO) $(LIBUTIL)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBPROTO) $(LIBUTIL) $(call pkglibs,json-c) -lm
bench: $(O)/bench/control
