/*
 * Firmware and kernel images from files: read whole, size-checked, and
 * the BIOS installed into the memory map (below 4 GiB and at the top of
 * the ISA window) where the CPU's reset vector finds it.
 */
#ifndef MACHINE_BIOS_H
#define MACHINE_BIOS_H

#include <stddef.h>
#include <stdint.h>

struct memory;

/*
 * Reads a regular file of at most `max` bytes into a malloc'ed buffer
 * (the caller frees *data). -1 with a message naming the file on error.
 */
int image_read_file(const char *path, size_t max, uint8_t **data, size_t *size,
                    char *err, size_t errlen);

/* Reads a BIOS ROM image and installs it. */
int bios_load_file(struct memory *m, const char *path, char *err, size_t errlen);

#endif
