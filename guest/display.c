#include "guest/display.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/close_range.h>

#include <event2/event.h>

#include "display/link.h"
#include "lib/log.h"
#include "machine/vga_keysym.h"
#include "machine/vga_png.h"

#define FRAME_INTERVAL_US 33333     /* 30 frames a second at most */
#define DEFAULT_WEB_DIR "/usr/share/novnc"

_Static_assert(DISPLAY_MAX_WIDTH == VGA_MAX_WIDTH && DISPLAY_MAX_HEIGHT == VGA_MAX_HEIGHT &&
               DISPLAY_TILE == VGA_TILE, "the link and the VGA must agree on sizes");

struct display_link {
	struct event_base *base;
	struct display_hooks hooks;
	struct event *frame_ev, *link_ev;
	int fd;                         /* our end of the socketpair */
	pid_t pid;
	uint8_t *shm;
	uint32_t *pixels;
	unsigned clients;
	uint32_t generation;
	bool full;                      /* next frame: every tile */
	struct display_msg_frame pending;   /* tiles copied but not yet announced */
	bool have_pending;
	struct vga_keyboard keyboard;
};

static void key_to_ps2(void *opaque, unsigned keycode, bool down)
{
	struct display_link *l = opaque;
	ps2_kbd_key(l->hooks.kbd, keycode, down);
}

static void copy_tile(struct display_link *l, unsigned tx, unsigned ty, unsigned w, unsigned h)
{
	const struct vga *v = l->hooks.vga;
	unsigned x0 = tx * VGA_TILE, y0 = ty * VGA_TILE;
	unsigned n = x0 + VGA_TILE <= w ? VGA_TILE : w - x0;
	unsigned y1 = y0 + VGA_TILE <= h ? y0 + VGA_TILE : h;

	for (unsigned y = y0; y < y1; y++)
		memcpy(l->pixels + (size_t)y * DISPLAY_MAX_WIDTH + x0, v->fb + (size_t)y * VGA_MAX_WIDTH + x0,
		       n * sizeof(uint32_t));
}

/* Renders, copies what changed into the shared picture and tells the
 * display; a frame it cannot take now stays pending and merges. */
static void frame(struct display_link *l)
{
	struct vga *v = l->hooks.vga;
	unsigned res = vga_render(v);

	if ((res & VGA_RENDER_FLUSH_TLB) && l->hooks.flush_tlb)
		l->hooks.flush_tlb(l->hooks.opaque);
	if (!(res & VGA_RENDER_CHANGED) && !l->full && !l->have_pending)
		return;
	if (res & VGA_RENDER_RESIZED || l->full) {
		memset(l->pending.tiles, 0, sizeof(l->pending.tiles));
		l->full = true;
	}
	for (unsigned ty = 0; ty * VGA_TILE < v->height; ty++)
		for (unsigned tx = 0; tx * VGA_TILE < v->width; tx++)
			if (l->full || vga_tile_is_dirty(v, tx, ty)) {
				copy_tile(l, tx, ty, v->width, v->height);
				l->pending.tiles[ty][tx / 8] |= (uint8_t)(1u << (tx % 8));
			}
	vga_tiles_clear(v);
	l->full = false;
	l->have_pending = true;
	l->pending.type = DISPLAY_MSG_FRAME;
	l->pending.width = v->width;
	l->pending.height = v->height;
	l->pending.generation = ++l->generation;
	if (send(l->fd, &l->pending, sizeof(l->pending), MSG_DONTWAIT | MSG_NOSIGNAL) ==
	    (ssize_t)sizeof(l->pending)) {
		memset(l->pending.tiles, 0, sizeof(l->pending.tiles));
		l->have_pending = false;
	}
}

static void on_frame_timer(evutil_socket_t fd, short what, void *arg)
{
	frame(arg);
}

static void set_clients(struct display_link *l, unsigned count)
{
	if (count && !l->clients) {
		/* Nothing was drawn while nobody watched: start with a whole picture. */
		l->full = true;
		frame(l);
		struct timeval tv = { .tv_sec = 0, .tv_usec = FRAME_INTERVAL_US };
		if (event_add(l->frame_ev, &tv) != 0)
			log_warn("display: cannot start the frame timer");
	} else if (!count && l->clients) {
		if (event_del(l->frame_ev) != 0)
			log_warn("display: cannot stop the frame timer");
	}
	if (count != l->clients)
		log_info("display: %u viewer%s", count, count == 1 ? "" : "s");
	l->clients = count;
}

static void link_gone(struct display_link *l)
{
	int status;
	log_warn("display: the display process ended; the guest runs on without a screen");
	if (l->link_ev)
		event_del(l->link_ev);
	if (l->frame_ev)
		event_del(l->frame_ev);
	l->clients = 0;
	if (l->pid > 0 && waitpid(l->pid, &status, WNOHANG) == l->pid)
		l->pid = -1;
}

static void on_link(evutil_socket_t fd, short what, void *arg)
{
	struct display_link *l = arg;
	union {
		uint32_t type;
		struct display_msg_clients clients;
		struct display_msg_key key;
		struct display_msg_pointer pointer;
		uint8_t raw[64];
	} m;

	for (unsigned i = 0; i < 256; i++) {
		ssize_t n = recv(fd, &m, sizeof(m), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			link_gone(l);
			return;
		}
		if (n < 0)
			return;
		bool input = false;
		if (m.type == DISPLAY_MSG_CLIENTS && n == (ssize_t)sizeof(m.clients)) {
			set_clients(l, m.clients.count);
		} else if (m.type == DISPLAY_MSG_KEY && n == (ssize_t)sizeof(m.key)) {
			input = vga_keyboard_event(&l->keyboard, m.key.keysym, m.key.down != 0);
		} else if (m.type == DISPLAY_MSG_POINTER && n == (ssize_t)sizeof(m.pointer)) {
			ps2_mouse_move(l->hooks.mouse, m.pointer.dx, m.pointer.dy, m.pointer.dz,
			               m.pointer.buttons & (PS2_MOUSE_LEFT | PS2_MOUSE_RIGHT | PS2_MOUSE_MIDDLE));
			input = true;
		} else {
			log_warn("display: unexpected message (%zd bytes) from the display process", n);
		}
		if (input && l->hooks.kick)
			l->hooks.kick(l->hooks.opaque);
	}
}

/* vmd-display next to our own executable. */
static int default_program(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return snprintf(buf, len, "%s/vmd-display", self) < (int)len ? 0 : -1;
}

static pid_t spawn(const char *program, int link_fd, int shm_fd, const struct display_config *cfg,
                   const char *web)
{
	char link_s[16], shm_s[16];
	const char *argv[20];
	unsigned n = 0;

	snprintf(link_s, sizeof(link_s), "%d", link_fd);
	snprintf(shm_s, sizeof(shm_s), "%d", shm_fd);
	argv[n++] = program;
	argv[n++] = "--link-fd";
	argv[n++] = link_s;
	argv[n++] = "--shm-fd";
	argv[n++] = shm_s;
	argv[n++] = "--listen";
	argv[n++] = cfg->listen;
	if (cfg->password_file) {
		argv[n++] = "--password-file";
		argv[n++] = cfg->password_file;
	}
	if (web) {
		argv[n++] = "--web";
		argv[n++] = web;
	}
	if (cfg->share) {
		argv[n++] = "--share";
		argv[n++] = cfg->share;
	}
	if (cfg->name) {
		argv[n++] = "--name";
		argv[n++] = cfg->name;
	}
	argv[n] = NULL;

	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* Child: only stdio and the two link descriptors survive the exec (the
	 * guest's console, control and GDB sockets must not live on in it). */
	if (close_range(3, ~0u, CLOSE_RANGE_CLOEXEC) != 0 ||
	    fcntl(link_fd, F_SETFD, 0) != 0 || fcntl(shm_fd, F_SETFD, 0) != 0)
		_exit(127);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv(program, (char *const *)argv);
	fprintf(stderr, "vmd-display: cannot run %s: %s\n", program, strerror(errno));
	_exit(127);
}

struct display_link *display_link_start(struct event_base *base, const struct display_config *cfg,
                                        const struct display_hooks *hooks, char *err, size_t errlen)
{
	char program[PATH_MAX];
	int sv[2] = { -1, -1 }, shm_fd = -1;
	struct display_link *l = calloc(1, sizeof(*l));

	if (!l) {
		snprintf(err, errlen, "display: out of memory");
		return NULL;
	}
	l->base = base;
	l->hooks = *hooks;
	l->fd = -1;
	l->pid = -1;
	l->shm = MAP_FAILED;
	vga_keyboard_init(&l->keyboard, key_to_ps2, l);
	if (!cfg->listen || !*cfg->listen) {
		snprintf(err, errlen, "display: no listen address");
		goto fail;
	}
	if (cfg->program)
		snprintf(program, sizeof(program), "%s", cfg->program);
	else if (default_program(program, sizeof(program)) != 0) {
		snprintf(err, errlen, "display: cannot find vmd-display");
		goto fail;
	}
	if (access(program, X_OK) != 0) {
		snprintf(err, errlen, "display: %s: %s", program, strerror(errno));
		goto fail;
	}
	if (cfg->password_file && access(cfg->password_file, R_OK) != 0) {
		snprintf(err, errlen, "display: password file %s: %s", cfg->password_file, strerror(errno));
		goto fail;
	}
	shm_fd = memfd_create("vmd-display", MFD_CLOEXEC);
	if (shm_fd < 0 || ftruncate(shm_fd, (off_t)DISPLAY_SHM_SIZE) != 0) {
		snprintf(err, errlen, "display: shared picture: %s", strerror(errno));
		goto fail;
	}
	l->shm = mmap(NULL, DISPLAY_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, shm_fd, 0);
	if (l->shm == MAP_FAILED) {
		snprintf(err, errlen, "display: cannot map the shared picture: %s", strerror(errno));
		goto fail;
	}
	struct display_shm_header *h = (void *)l->shm;
	h->magic = DISPLAY_SHM_MAGIC;
	h->version = DISPLAY_SHM_VERSION;
	h->max_width = DISPLAY_MAX_WIDTH;
	h->max_height = DISPLAY_MAX_HEIGHT;
	h->stride = DISPLAY_MAX_WIDTH;
	l->pixels = (uint32_t *)(l->shm + DISPLAY_SHM_HEADER);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, errlen, "display: socketpair: %s", strerror(errno));
		goto fail;
	}
	int buf = 1 << 20;
	if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf)) != 0)
		log_debug("display: SO_SNDBUF: %s", strerror(errno));
	const char *web = cfg->web_dir;
	struct stat st;
	if (!web && strncmp(cfg->listen, "unix:", 5) != 0 && stat(DEFAULT_WEB_DIR "/vnc.html", &st) == 0)
		web = DEFAULT_WEB_DIR;
	l->pid = spawn(program, sv[1], shm_fd, cfg, web);
	if (l->pid < 0) {
		snprintf(err, errlen, "display: fork: %s", strerror(errno));
		goto fail;
	}
	close(sv[1]);
	sv[1] = -1;
	close(shm_fd);
	shm_fd = -1;
	l->fd = sv[0];
	if (evutil_make_socket_nonblocking(l->fd) != 0) {
		snprintf(err, errlen, "display: cannot make the link non-blocking");
		goto fail;
	}
	l->frame_ev = event_new(base, -1, EV_PERSIST, on_frame_timer, l);
	l->link_ev = event_new(base, l->fd, EV_READ | EV_PERSIST, on_link, l);
	if (!l->frame_ev || !l->link_ev || event_add(l->link_ev, NULL) != 0) {
		snprintf(err, errlen, "display: cannot set up events");
		goto fail;
	}
	/* The first picture tells the display the screen size. */
	l->full = true;
	frame(l);
	log_info("display: VNC on %s (pid %d)%s%s", cfg->listen, (int)l->pid,
	         web ? ", web console from " : "", web ? web : "");
	return l;
fail:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (shm_fd >= 0)
		close(shm_fd);
	l->fd = -1;
	display_link_stop(l);
	return NULL;
}

void display_link_stop(struct display_link *l)
{
	if (!l)
		return;
	if (l->frame_ev)
		event_free(l->frame_ev);
	if (l->link_ev)
		event_free(l->link_ev);
	if (l->fd >= 0)
		close(l->fd);   /* the display sees end-of-file and exits */
	if (l->pid > 0) {
		int status;
		/* Give it a moment to leave by itself, then make sure. */
		for (unsigned i = 0; i < 50 && waitpid(l->pid, &status, WNOHANG) == 0; i++)
			usleep(2000);
		if (waitpid(l->pid, &status, WNOHANG) == 0) {
			kill(l->pid, SIGTERM);
			waitpid(l->pid, &status, 0);
		}
	}
	if (l->shm != MAP_FAILED)
		munmap(l->shm, DISPLAY_SHM_SIZE);
	free(l);
}

unsigned display_link_clients(const struct display_link *l)
{
	return l ? l->clients : 0;
}

/* Brings the picture up to date for a screenshot. */
static struct vga *screenshot_picture(const struct display_hooks *hooks)
{
	struct vga *v = hooks->vga;
	unsigned res = vga_render(v);

	/* Tiles stay marked for the display link's next frame. */
	if ((res & VGA_RENDER_FLUSH_TLB) && hooks->flush_tlb)
		hooks->flush_tlb(hooks->opaque);
	return v;
}

int display_screenshot(const struct display_hooks *hooks, const char *path, char *err, size_t errlen)
{
	struct vga *v = screenshot_picture(hooks);

	if (vga_png_write(path, v->fb, v->width, v->height, VGA_MAX_WIDTH) != 0) {
		snprintf(err, errlen, "screenshot %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int display_screenshot_png(const struct display_hooks *hooks, uint8_t **png, size_t *len,
                           unsigned *width, unsigned *height, char *err, size_t errlen)
{
	struct vga *v = screenshot_picture(hooks);

	if (vga_png_encode(v->fb, v->width, v->height, VGA_MAX_WIDTH, png, len) != 0) {
		snprintf(err, errlen, "screenshot: cannot encode a %ux%u picture", v->width, v->height);
		return -1;
	}
	*width = v->width;
	*height = v->height;
	return 0;
}
