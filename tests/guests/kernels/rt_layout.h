/* Shared by start.S and rt.c: where things are and what the selectors are. */
#ifndef KERNELS_RT_LAYOUT_H
#define KERNELS_RT_LAYOUT_H

#define IMAGE_BASE   0x40000
#define RT_NVEC      64         /* IDT entries with runtime stubs */
#define RT_NGDT      32

#define SEL_CODE32   0x08
#define SEL_DATA32   0x10
#define SEL_CODE16   0x18       /* base IMAGE_BASE, 64 KiB: the way back to real mode */
#define SEL_DATA16   0x20       /* base 0, 64 KiB, writable */
#define SEL_CODE32_U 0x2b       /* ring 3 */
#define SEL_DATA32_U 0x33
#define SEL_TSS      0x38
#define SEL_FREE     0x40       /* first entry tests may use (index 8) */

#endif
