/*
 * The link between a guest process (guest/display.c) and its display
 * process (display/main.c, build/vmd-display).
 *
 * The guest process creates a memfd holding a header and a picture of the
 * maximum size (DISPLAY_MAX_WIDTH x DISPLAY_MAX_HEIGHT XRGB pixels, stride
 * DISPLAY_MAX_WIDTH), and a SOCK_SEQPACKET socketpair; both are handed to
 * vmd-display as inherited descriptors. Each message is one packet of a
 * fixed layout below (host byte order: both ends are the same binary set).
 *
 * Guest -> display: DISPLAY_MSG_FRAME after the guest copied changed 16x16
 * tiles into the picture; it names the picture size and which tiles
 * changed. A frame whose size differs from the previous one is a mode
 * change (the display announces DesktopSize).
 * Display -> guest: DISPLAY_MSG_CLIENTS (the number of viewers: the guest
 * renders only while there is one), DISPLAY_MSG_KEY (an X keysym as RFB
 * sends it) and DISPLAY_MSG_POINTER (relative motion, already computed
 * per client from absolute positions).
 *
 * The picture is written by the guest while the display may be encoding
 * it: a tile read mid-update is sent again with the next frame, since the
 * guest marks it changed, so a viewer never keeps a torn picture.
 */
#ifndef DISPLAY_LINK_H
#define DISPLAY_LINK_H

#include <stdint.h>

#define DISPLAY_MAX_WIDTH  1920
#define DISPLAY_MAX_HEIGHT 1080
#define DISPLAY_TILE       16
#define DISPLAY_TILES_X    (DISPLAY_MAX_WIDTH / DISPLAY_TILE)
#define DISPLAY_TILES_Y    ((DISPLAY_MAX_HEIGHT + DISPLAY_TILE - 1) / DISPLAY_TILE)
#define DISPLAY_TILE_ROW_BYTES ((DISPLAY_TILES_X + 7) / 8)

#define DISPLAY_SHM_MAGIC   0x79616c70u   /* "play" */
#define DISPLAY_SHM_VERSION 1
#define DISPLAY_SHM_HEADER  4096u         /* pixels start here, page aligned */
#define DISPLAY_SHM_SIZE    (DISPLAY_SHM_HEADER + \
                             (uint64_t)DISPLAY_MAX_WIDTH * DISPLAY_MAX_HEIGHT * 4u)

struct display_shm_header {
	uint32_t magic;
	uint32_t version;
	uint32_t max_width, max_height;   /* the picture's capacity */
	uint32_t stride;                  /* pixels per row */
};

enum display_msg_type {
	DISPLAY_MSG_FRAME = 1,
	DISPLAY_MSG_CLIENTS = 2,
	DISPLAY_MSG_KEY = 3,
	DISPLAY_MSG_POINTER = 4,
};

struct display_msg_frame {
	uint32_t type;
	uint32_t width, height;
	uint32_t generation;
	uint8_t tiles[DISPLAY_TILES_Y][DISPLAY_TILE_ROW_BYTES];
};

struct display_msg_clients {
	uint32_t type;
	uint32_t count;
};

struct display_msg_key {
	uint32_t type;
	uint32_t keysym;
	uint32_t down;
};

/* PS/2 conventions: dy positive = up, dz positive = wheel towards the user. */
#define DISPLAY_BUTTON_LEFT   0x01u
#define DISPLAY_BUTTON_RIGHT  0x02u
#define DISPLAY_BUTTON_MIDDLE 0x04u

struct display_msg_pointer {
	uint32_t type;
	int32_t dx, dy, dz;
	uint32_t buttons;
};

#endif
