build/tests/unit/test_sbuf.o: tests/unit/test_sbuf.c lib/sbuf.h \
 tests/unit/harness.h
lib/sbuf.h:
tests/unit/harness.h:
