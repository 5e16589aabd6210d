/*
 * display-feed: a VGA with no CPU behind it, shown through the real
 * display link (guest/display.c) and vmd-display, for the VNC integration
 * tests (tests/integration/vnc_*.sh) and the display benchmark
 * (bench/display.sh). It draws one scene through the same port and memory
 * accesses a guest driver makes, and prints the PS/2 bytes that viewer
 * input produced ("kbd xx", "mouse xx") on stdout.
 *
 *   display-feed --vnc ADDR:PORT|unix:PATH [--vnc-password-file F]
 *                [--scene text|mode13|vbe|scroll|switch] [--seconds N]
 *                [--display PROGRAM]
 *
 * Scenes: text writes known lines into 0xB8000 (80x25); mode13 draws
 * pixel (x, y) = (x ^ y) & 0xff with a ramp palette; vbe sets 800x600x32
 * and draws r = x, g = y, b = x ^ y (low bytes); scroll scrolls the text
 * screen one line per frame-time (the full-screen scroll benchmark);
 * switch starts as text and changes to mode 13h after 1.5 s, to VBE
 * 800x600 after 3 s (viewers must get DesktopSize announcements).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "guest/display.h"
#include "lib/log.h"
#include "machine/bus.h"
#include "machine/clock.h"
#include "machine/ps2.h"
#include "machine/vga.h"

struct feed {
	struct clock clock;
	struct iobus io;
	struct mmiobus mmio;
	struct vga vga;
	struct ps2_kbd kbd;
	struct ps2_mouse mouse;
	struct event_base *base;
	const char *scene;
	unsigned line;
	uint64_t scrolls;
};

static void out8(struct feed *f, uint16_t port, uint8_t v) { iobus_write(&f->io, port, v, 1); }
static void vbe(struct feed *f, uint16_t i, uint16_t v)
{
	iobus_write(&f->io, 0x1ce, i, 2);
	iobus_write(&f->io, 0x1cf, v, 2);
}

static void text_line(struct feed *f, unsigned row, const char *s, uint8_t attr)
{
	for (unsigned col = 0; col < 80; col++) {
		char c = *s ? *s++ : ' ';
		mmiobus_write(&f->mmio, 0xb8000 + (row * 80 + col) * 2, (uint8_t)c, 1);
		mmiobus_write(&f->mmio, 0xb8000 + (row * 80 + col) * 2 + 1, attr, 1);
	}
}

static void scene_text(struct feed *f)
{
	/* Hide the cursor so captures are stable. */
	out8(f, 0x3d4, 0x0a);
	out8(f, 0x3d5, 0x20);
	text_line(f, 0, "VMD VNC TEST", 0x07);
	text_line(f, 2, "The quick brown fox jumps over the lazy dog 0123456789", 0x07);
	text_line(f, 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz", 0x1f);
	text_line(f, 24, "bottom line !@#$%^&*()", 0x70);
}

static void scene_mode13(struct feed *f)
{
	static const uint8_t crtc[0x19] = {
		0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x9c, 0x0e, 0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3, 0xff,
	};
	out8(f, 0x3c2, 0x63);
	out8(f, 0x3c4, 1); out8(f, 0x3c5, 0x01);
	out8(f, 0x3c4, 2); out8(f, 0x3c5, 0x0f);
	out8(f, 0x3c4, 4); out8(f, 0x3c5, 0x0e);
	out8(f, 0x3d4, 0x11); out8(f, 0x3d5, 0x0e);
	for (uint8_t i = 0; i < 0x19; i++) {
		out8(f, 0x3d4, i);
		out8(f, 0x3d5, crtc[i]);
	}
	out8(f, 0x3ce, 5); out8(f, 0x3cf, 0x40);
	out8(f, 0x3ce, 6); out8(f, 0x3cf, 0x05);
	(void)iobus_read(&f->io, 0x3da, 1);
	out8(f, 0x3c0, 0x10); out8(f, 0x3c0, 0x41);
	out8(f, 0x3c0, 0x20);
	/* Palette: entry i = (i >> 2, (i * 7) >> 2 & 63, 63 - (i >> 2)). */
	out8(f, 0x3c8, 0);
	for (unsigned i = 0; i < 256; i++) {
		out8(f, 0x3c9, (uint8_t)(i >> 2));
		out8(f, 0x3c9, (uint8_t)(((i * 7) >> 2) & 63));
		out8(f, 0x3c9, (uint8_t)(63 - (i >> 2)));
	}
	for (unsigned y = 0; y < 200; y++)
		for (unsigned x = 0; x < 320; x++)
			mmiobus_write(&f->mmio, 0xa0000 + y * 320 + x, (x ^ y) & 0xff, 1);
}

static void scene_vbe(struct feed *f)
{
	vbe(f, VBE_DISPI_INDEX_ENABLE, 0);
	vbe(f, VBE_DISPI_INDEX_XRES, 800);
	vbe(f, VBE_DISPI_INDEX_YRES, 600);
	vbe(f, VBE_DISPI_INDEX_BPP, 32);
	vbe(f, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
	/* Through the banked window, as a real-mode VBE driver would. */
	for (unsigned y = 0; y < 600; y++)
		for (unsigned x = 0; x < 800; x++) {
			uint32_t off = (y * 800 + x) * 4;
			uint32_t c = (x & 0xff) << 16 | (y & 0xff) << 8 | ((x ^ y) & 0xff);
			vbe(f, VBE_DISPI_INDEX_BANK, (uint16_t)(off >> 16));
			mmiobus_write(&f->mmio, 0xa0000 + (off & 0xffff), c, 4);
		}
}

static void on_scroll(evutil_socket_t fd, short what, void *arg)
{
	struct feed *f = arg;
	char buf[96];
	/* Move lines 1-24 up one and write a new bottom line, byte by byte
	 * through the window as a guest's console driver does. */
	for (unsigned i = 0; i < 24 * 80 * 2; i++)
		mmiobus_write(&f->mmio, 0xb8000 + i, (uint8_t)mmiobus_read(&f->mmio, 0xb8000 + 160 + i, 1), 1);
	snprintf(buf, sizeof(buf), "line %u: the quick brown fox jumps over the lazy dog %08x", f->line,
	         f->line * 2654435761u);
	text_line(f, 24, buf, (uint8_t)(0x07 + (f->line % 7) * 0x10));
	f->line++;
	f->scrolls++;
}

static void on_switch(evutil_socket_t fd, short what, void *arg)
{
	struct feed *f = arg;
	if (f->line++ == 0)
		scene_mode13(f);
	else
		scene_vbe(f);
}

static void kick(void *opaque)
{
	struct feed *f = opaque;
	while (ps2_kbd_has_data(&f->kbd))
		printf("kbd %02x\n", ps2_kbd_read(&f->kbd));
	while (ps2_mouse_has_data(&f->mouse))
		printf("mouse %02x\n", ps2_mouse_read(&f->mouse));
	fflush(stdout);
}

static void on_quit(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static void nothing(void *opaque) { (void)opaque; }

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vnc", required_argument, NULL, 'v' },
		{ "vnc-password-file", required_argument, NULL, 'p' },
		{ "scene", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 't' },
		{ "display", required_argument, NULL, 'd' },
		{ "share", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct display_config cfg = { .name = "display-feed" };
	struct feed *f = calloc(1, sizeof(*f));
	double seconds = 0;
	int c;
	char err[256];

	if (!f)
		return 1;
	f->scene = "text";
	log_init("display-feed", false, 0);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'v': cfg.listen = optarg; break;
		case 'p': cfg.password_file = optarg; break;
		case 's': f->scene = optarg; break;
		case 't': seconds = atof(optarg); break;
		case 'd': cfg.program = optarg; break;
		case 'S': cfg.share = optarg; break;
		default:
			fprintf(stderr, "usage: display-feed --vnc ADDR:PORT|unix:PATH [--vnc-password-file F] "
			                "[--scene text|mode13|vbe|scroll] [--seconds N] [--display PROGRAM]\n");
			return 2;
		}
	}
	if (!cfg.listen) {
		fprintf(stderr, "display-feed: --vnc is required\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	clock_init(&f->clock);
	iobus_init(&f->io);
	mmiobus_init(&f->mmio);
	if (vga_init(&f->vga, &f->clock, &f->io, &f->mmio, NULL, 0) != 0)
		return 1;
	ps2_kbd_init(&f->kbd, nothing, f);
	ps2_mouse_init(&f->mouse, nothing, f);
	ps2_kbd_reset(&f->kbd);
	ps2_mouse_reset(&f->mouse);
	ps2_mouse_write(&f->mouse, 0xf4);       /* enable reporting, as a driver does */
	while (ps2_mouse_has_data(&f->mouse))
		(void)ps2_mouse_read(&f->mouse);

	if (strcmp(f->scene, "text") == 0 || strcmp(f->scene, "scroll") == 0 ||
	    strcmp(f->scene, "switch") == 0)
		scene_text(f);
	else if (strcmp(f->scene, "mode13") == 0)
		scene_mode13(f);
	else if (strcmp(f->scene, "vbe") == 0)
		scene_vbe(f);
	else {
		fprintf(stderr, "display-feed: unknown scene %s\n", f->scene);
		return 2;
	}

	f->base = event_base_new();
	if (!f->base)
		return 1;
	struct display_hooks hooks = {
		.vga = &f->vga, .kbd = &f->kbd, .mouse = &f->mouse, .kick = kick, .opaque = f,
	};
	struct display_link *l = display_link_start(f->base, &cfg, &hooks, err, sizeof(err));
	if (!l) {
		fprintf(stderr, "display-feed: %s\n", err);
		return 1;
	}
	struct event *sig_int = evsignal_new(f->base, SIGINT, on_quit, f->base);
	struct event *sig_term = evsignal_new(f->base, SIGTERM, on_quit, f->base);
	struct event *stop = evtimer_new(f->base, on_quit, f->base);
	struct event *scroll = event_new(f->base, -1, EV_PERSIST, on_scroll, f);
	struct event *sw = event_new(f->base, -1, EV_PERSIST, on_switch, f);
	if (!sig_int || !sig_term || !stop || !scroll || !sw || event_add(sig_int, NULL) != 0 ||
	    event_add(sig_term, NULL) != 0)
		return 1;
	if (seconds > 0) {
		struct timeval tv = { .tv_sec = (time_t)seconds,
		                      .tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6) };
		if (event_add(stop, &tv) != 0)
			return 1;
	}
	if (strcmp(f->scene, "scroll") == 0) {
		struct timeval tv = { .tv_sec = 0, .tv_usec = 16667 };     /* 60 lines a second */
		if (event_add(scroll, &tv) != 0)
			return 1;
	}
	if (strcmp(f->scene, "switch") == 0) {
		struct timeval tv = { .tv_sec = 1, .tv_usec = 500000 };
		if (event_add(sw, &tv) != 0)
			return 1;
	}
	printf("ready\n");
	fflush(stdout);
	if (event_base_dispatch(f->base) < 0)
		return 1;
	fprintf(stderr, "display-feed: %llu frames rendered, %llu scrolls\n",
	        (unsigned long long)f->vga.renders, (unsigned long long)f->scrolls);
	event_free(sig_int);
	event_free(sig_term);
	event_free(stop);
	event_free(scroll);
	event_free(sw);
	display_link_stop(l);
	event_base_free(f->base);
	vga_free(&f->vga);
	free(f);
	return 0;
}
