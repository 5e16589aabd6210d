build/lib/sbuf.o: lib/sbuf.c lib/sbuf.h
lib/sbuf.h:
