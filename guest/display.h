/*
 * The guest process's side of its screen: starts the display process
 * (build/vmd-display, see display/main.c and display/link.h), shares the
 * rendered VGA picture with it, paces rendering (30 frames a second, and
 * none while no viewer is connected) and feeds the viewers' keyboard and
 * pointer into the PS/2 devices.
 *
 * Everything runs in the guest's libevent loop between CPU slices; the
 * link never blocks: a frame the display cannot take yet is merged into
 * the next one. If the display process dies the guest runs on and logs it.
 */
#ifndef GUEST_DISPLAY_H
#define GUEST_DISPLAY_H

#include <stddef.h>

#include "machine/ps2.h"
#include "machine/vga.h"

struct event_base;
struct display_link;

struct display_config {
	const char *listen;             /* "ADDR:PORT" or "unix:PATH" (--vnc) */
	const char *password_file;      /* --vnc-password-file, or NULL */
	const char *web_dir;            /* noVNC pages, or NULL (default /usr/share/novnc if present) */
	const char *share;              /* "always", "never", "client" (NULL = client) */
	const char *name;               /* desktop name shown by viewers */
	const char *program;            /* vmd-display; NULL = next to this executable */
};

struct display_hooks {
	struct vga *vga;
	struct ps2_kbd *kbd;
	struct ps2_mouse *mouse;
	/* The CPU must drop its cached page pointers (VGA_RENDER_FLUSH_TLB). */
	void (*flush_tlb)(void *opaque);
	/* Input arrived: the CPU should look at its interrupt lines again. */
	void (*kick)(void *opaque);
	void *opaque;
};

/* Starts vmd-display and the frame pacing; NULL with a message on failure. */
struct display_link *display_link_start(struct event_base *base, const struct display_config *cfg,
                                        const struct display_hooks *hooks, char *err, size_t errlen);
/* Stops the display process (it also stops by itself when we exit). */
void display_link_stop(struct display_link *l);
/* The number of connected viewers. */
unsigned display_link_clients(const struct display_link *l);

/* The current screen as a PNG file (the control method `screenshot`). */
int display_screenshot(const struct display_hooks *hooks, const char *path, char *err, size_t errlen);
/* The same picture as PNG bytes in a malloc'ed buffer (for the control channel). */
int display_screenshot_png(const struct display_hooks *hooks, uint8_t **png, size_t *len,
                           unsigned *width, unsigned *height, char *err, size_t errlen);

#endif
