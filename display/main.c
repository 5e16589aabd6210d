/*
 * vmd-display: the VNC server of one guest, in a process of its own.
 *
 * libvncserver blocks: on a slow client (rfbMaxClientWait), on the
 * WebSocket sniffing of a new connection (up to 100 ms) and in its
 * handshakes. None of that may stall a guest's CPU, so the guest process
 * (guest/display.c) starts this program and talks to it only through a
 * shared picture and a socketpair (display/link.h). If the guest process
 * goes away the link reads end-of-file and this process exits; if this
 * process dies the guest runs on.
 *
 * Usage (started by vmd-guest, not by hand):
 *   vmd-display --link-fd N --shm-fd N --listen ADDR:PORT|unix:PATH
 *               [--password-file F] [--web DIR] [--share always|never|client]
 *               [--name NAME] [--verbose]
 *
 * The password file holds the VNC password as plain text on its first line
 * (the newline is not part of it; VNC authentication uses only the first
 * 8 characters, as every VNC server does). It is read once at start-up and
 * never passed on a command line.
 *
 * One port serves everything. This process accepts connections itself and
 * looks at what a client sends first: an RFB viewer sends nothing (the
 * server speaks first), so after a short wait it goes to libvncserver; a
 * WebSocket upgrade (noVNC) goes to libvncserver too, which recognises it;
 * any other HTTP GET is a request for the web console's files (--web DIR,
 * Debian's noVNC in /usr/share/novnc; display/web.c). So
 * http://ADDR:PORT/vnc.html?autoconnect=1 opens the console.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netdb.h>
#include <time.h>
#include <unistd.h>

#include <rfb/rfb.h>

#include "display/link.h"
#include "display/web.h"

/* An RFB viewer says nothing until the server has: after this long a
 * silent connection is an RFB viewer. */
#define SILENT_RFB_MS 150
/* How long an HTTP request may take to send its header. */
#define HTTP_HEADER_MS 3000
#define MAX_PENDING 16

struct pending {
	int fd;                     /* -1: free */
	uint64_t since;             /* ms */
};

struct display {
	rfbScreenInfoPtr screen;
	int link_fd;
	int listen_fd;              /* TCP or UNIX listener */
	char *unix_path;            /* to unlink at exit, or NULL */
	struct pending pending[MAX_PENDING];    /* accepted, not yet classified */
	struct web_server web;
	bool have_web;
	uint8_t *shm;
	uint32_t *pixels;
	unsigned width, height;
	unsigned clients;
	char *password[2];          /* NULL-terminated list for rfbCheckPasswordByList */
	bool quit;
};

/* Per viewer: the last absolute pointer position, to turn RFB's absolute
 * coordinates into the PS/2 mouse's relative motion. */
#define VIEWER_MAX_KEYS 16

struct viewer {
	struct display *d;
	int x, y;
	bool have_pos;
	int buttons;
	/* Keys this viewer holds: released for it when it goes away, so a
	 * dropped connection does not leave a key (or Ctrl) held in the guest. */
	uint32_t keys[VIEWER_MAX_KEYS];
	unsigned nkeys;
};

/* libvncserver's chatter (a dozen lines per connection) would flood the
 * guest's log: keep its errors, prefixed, and drop the rest unless asked. */
static void vnc_log_quiet(const char *fmt, ...)
{
	(void)fmt;
}

static void vnc_log_err(const char *fmt, ...)
{
	va_list ap;
	fputs("vmd-display: libvncserver: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "vmd-display: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static void link_send(struct display *d, const void *msg, size_t len)
{
	/* The guest may be busy; a lost input event is better than blocking
	 * VNC for everyone, but the socket buffer is large and events small. */
	if (send(d->link_fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EAGAIN)
		fprintf(stderr, "vmd-display: link: %s\n", strerror(errno));
}

static void send_clients(struct display *d)
{
	struct display_msg_clients m = { .type = DISPLAY_MSG_CLIENTS, .count = d->clients };
	link_send(d, &m, sizeof(m));
}

static void send_key(struct display *d, uint32_t keysym, bool down)
{
	struct display_msg_key m = { .type = DISPLAY_MSG_KEY, .keysym = keysym, .down = down ? 1 : 0 };
	link_send(d, &m, sizeof(m));
}

static void on_key(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
	struct viewer *v = cl->clientData;
	unsigned i;

	if (!v || cl->viewOnly)
		return;
	for (i = 0; i < v->nkeys && v->keys[i] != (uint32_t)keysym; i++)
		;
	if (down && i == v->nkeys && v->nkeys < VIEWER_MAX_KEYS)
		v->keys[v->nkeys++] = (uint32_t)keysym;
	else if (!down && i < v->nkeys)
		v->keys[i] = v->keys[--v->nkeys];
	send_key(v->d, (uint32_t)keysym, down);
}

static void on_pointer(int mask, int x, int y, rfbClientPtr cl)
{
	struct viewer *v = cl->clientData;

	if (v && !cl->viewOnly) {
		struct display_msg_pointer m = { .type = DISPLAY_MSG_POINTER };
		if (v->have_pos) {
			m.dx = x - v->x;
			m.dy = v->y - y;
		}
		v->x = x;
		v->y = y;
		v->have_pos = true;
		/* Buttons 4 and 5 are the wheel: one notch per press. */
		int pressed = mask & ~v->buttons;
		if (pressed & 0x08)
			m.dz -= 1;
		if (pressed & 0x10)
			m.dz += 1;
		v->buttons = mask;
		m.buttons = (uint32_t)((mask & 1 ? DISPLAY_BUTTON_LEFT : 0) |
		                       (mask & 2 ? DISPLAY_BUTTON_MIDDLE : 0) |
		                       (mask & 4 ? DISPLAY_BUTTON_RIGHT : 0));
		link_send(v->d, &m, sizeof(m));
	}
	rfbDefaultPtrAddEvent(mask, x, y, cl);
}

static void on_client_gone(rfbClientPtr cl)
{
	struct viewer *v = cl->clientData;
	if (!v)
		return;
	while (v->nkeys > 0)
		send_key(v->d, v->keys[--v->nkeys], false);
	if (v->buttons & 7) {
		struct display_msg_pointer m = { .type = DISPLAY_MSG_POINTER, .buttons = 0 };
		link_send(v->d, &m, sizeof(m));
	}
	if (v->d->clients > 0)
		v->d->clients--;
	fprintf(stderr, "vmd-display: viewer from %s left (%u in all)\n",
	        cl->host && *cl->host ? cl->host : "a local socket", v->d->clients);
	send_clients(v->d);
	free(v);
	cl->clientData = NULL;
}

static enum rfbNewClientAction on_new_client(rfbClientPtr cl)
{
	struct display *d = cl->screen->screenData;
	struct viewer *v = calloc(1, sizeof(*v));
	if (!v)
		return RFB_CLIENT_REFUSE;
	v->d = d;
	cl->clientData = v;
	cl->clientGoneHook = on_client_gone;
	d->clients++;
	fprintf(stderr, "vmd-display: %s viewer from %s connected (%u in all)\n",
	        cl->wsctx ? "WebSocket" : "RFB", cl->host && *cl->host ? cl->host : "a local socket",
	        d->clients);
	send_clients(d);
	return RFB_CLIENT_ACCEPT;
}

static void set_format(rfbScreenInfoPtr s)
{
	/* The guest's pixels are XRGB in host order: B, G, R, X in memory. */
	s->serverFormat.redShift = 16;
	s->serverFormat.greenShift = 8;
	s->serverFormat.blueShift = 0;
	s->serverFormat.redMax = s->serverFormat.greenMax = s->serverFormat.blueMax = 255;
	s->paddedWidthInBytes = DISPLAY_MAX_WIDTH * 4;
}

static void on_frame(struct display *d, const struct display_msg_frame *m)
{
	if (m->width == 0 || m->height == 0 || m->width > DISPLAY_MAX_WIDTH ||
	    m->height > DISPLAY_MAX_HEIGHT) {
		fprintf(stderr, "vmd-display: frame of bad size %ux%u ignored\n", m->width, m->height);
		return;
	}
	if (m->width != d->width || m->height != d->height) {
		/* A mode change: viewers that support it get a DesktopSize. */
		d->width = m->width;
		d->height = m->height;
		rfbNewFramebuffer(d->screen, (char *)d->pixels, (int)d->width, (int)d->height, 8, 3, 4);
		set_format(d->screen);
		rfbMarkRectAsModified(d->screen, 0, 0, (int)d->width, (int)d->height);
		return;
	}
	for (unsigned ty = 0; ty * DISPLAY_TILE < d->height; ty++) {
		unsigned tx = 0;
		while (tx * DISPLAY_TILE < d->width) {
			if (!(m->tiles[ty][tx / 8] & (1u << (tx % 8)))) {
				tx++;
				continue;
			}
			unsigned run = tx;
			while (run * DISPLAY_TILE < d->width && (m->tiles[ty][run / 8] & (1u << (run % 8))))
				run++;
			unsigned x1 = run * DISPLAY_TILE, y1 = (ty + 1) * DISPLAY_TILE;
			rfbMarkRectAsModified(d->screen, (int)(tx * DISPLAY_TILE), (int)(ty * DISPLAY_TILE),
			                      (int)(x1 < d->width ? x1 : d->width),
			                      (int)(y1 < d->height ? y1 : d->height));
			tx = run;
		}
	}
}

/* Reads what the guest sent; false when the guest process is gone. */
static bool read_link(struct display *d)
{
	for (;;) {
		struct display_msg_frame m;
		ssize_t n = recv(d->link_fd, &m, sizeof(m), MSG_DONTWAIT);
		if (n == 0)
			return false;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		if ((size_t)n == sizeof(m) && m.type == DISPLAY_MSG_FRAME)
			on_frame(d, &m);
		else
			fprintf(stderr, "vmd-display: unexpected message (%zd bytes) from the guest\n", n);
	}
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		die("socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 16) != 0)
		die("cannot listen on %s", path);
	return fd;
}

/* ADDR:PORT with ADDR an IPv4 address, [IPv6], "localhost", "*" or empty. */
static int listen_tcp(const char *spec)
{
	const char *colon = strrchr(spec, ':');
	char host[128];
	if (!colon || (size_t)(colon - spec) >= sizeof(host))
		die("listen address must be ADDR:PORT or unix:PATH, not %s", spec);
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	char *h = host;
	if (h[0] == '[') {
		h++;
		h[strcspn(h, "]")] = '\0';
	}
	if (strcmp(h, "localhost") == 0)
		h = "127.0.0.1";
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
	                          .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port <= 0 || port > 65535)
		die("bad port in %s", spec);
	if (getaddrinfo(h[0] && strcmp(h, "*") != 0 ? h : NULL, colon + 1, &hints, &ai) != 0)
		die("bad listen address %s", spec);
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0)
		die("cannot listen on %s", spec);
	freeaddrinfo(ai);
	return fd;
}

static void accept_pending(struct display *d)
{
	for (;;) {
		int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		struct pending *slot = NULL;
		for (unsigned i = 0; i < MAX_PENDING && !slot; i++)
			if (d->pending[i].fd < 0)
				slot = &d->pending[i];
		if (!slot || fd >= FD_SETSIZE) {
			close(fd);      /* a flood of silent connections: drop the newest */
			continue;
		}
		slot->fd = fd;
		slot->since = now_ms();
	}
}

/* Decides where each accepted connection goes once it has spoken or
 * stayed silent long enough. */
static void classify_pending(struct display *d)
{
	uint64_t now = now_ms();
	for (unsigned i = 0; i < MAX_PENDING; i++) {
		struct pending *p = &d->pending[i];
		if (p->fd < 0)
			continue;
		char peek[4096];
		ssize_t n = recv(p->fd, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			close(p->fd);
			p->fd = -1;
			continue;
		}
		bool to_rfb;
		if (n < 0) {
			if (now - p->since < SILENT_RFB_MS)
				continue;
			to_rfb = true;
		} else {
			bool complete;
			bool file = web_is_file_request(peek, (size_t)n, &complete);
			if (!complete && now - p->since < HTTP_HEADER_MS)
				continue;
			to_rfb = !file || !complete;
			if (!to_rfb && !d->have_web) {
				static const char nf[] = "HTTP/1.1 404 Not Found\r\nConnection: close\r\n"
				                         "Content-Length: 0\r\n\r\n";
				if (send(p->fd, nf, sizeof(nf) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
					fprintf(stderr, "vmd-display: web: %s\n", strerror(errno));
				close(p->fd);
				p->fd = -1;
				continue;
			}
		}
		if (to_rfb) {
			/* libvncserver reads blocking with its own timeouts. */
			int fl = fcntl(p->fd, F_GETFL);
			if (fl < 0 || fcntl(p->fd, F_SETFL, fl & ~O_NONBLOCK) != 0 || !rfbNewClient(d->screen, p->fd))
				close(p->fd);
		} else {
			web_adopt(&d->web, p->fd, now);
		}
		p->fd = -1;
	}
}

static bool any_pending(const struct display *d)
{
	for (unsigned i = 0; i < MAX_PENDING; i++)
		if (d->pending[i].fd >= 0)
			return true;
	return false;
}

static char *read_password(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[256];
	if (!f)
		die("cannot read the password file %s", path);
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		die("the password file %s is empty", path);
	}
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0')
		die("the password file %s has an empty first line", path);
	char *pw = strdup(buf);
	memset(buf, 0, sizeof(buf));
	if (!pw)
		die("%s", "out of memory");
	return pw;
}

static int parse_fd(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 0 || v > 65535)
		die("bad descriptor number %s", s);
	return (int)v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "link-fd", required_argument, NULL, 'l' },
		{ "shm-fd", required_argument, NULL, 'm' },
		{ "listen", required_argument, NULL, 'L' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "web", required_argument, NULL, 'w' },
		{ "share", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct display d = { .link_fd = -1, .listen_fd = -1 };
	int shm_fd = -1, c;
	const char *listen_addr = NULL, *pwfile = NULL, *web = NULL, *share = "client", *name = "vmd";
	bool verbose = false;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': d.link_fd = parse_fd(optarg); break;
		case 'm': shm_fd = parse_fd(optarg); break;
		case 'L': listen_addr = optarg; break;
		case 'p': pwfile = optarg; break;
		case 'w': web = optarg; break;
		case 's': share = optarg; break;
		case 'n': name = optarg; break;
		case 'v': verbose = true; break;
		default: die("%s", "usage: vmd-display --link-fd N --shm-fd N --listen ADDR:PORT|unix:PATH "
		              "[--password-file F] [--web DIR] [--share always|never|client] [--name NAME]");
		}
	}
	if (d.link_fd < 0 || shm_fd < 0 || !listen_addr)
		die("%s", "--link-fd, --shm-fd and --listen are required");
	/* Whatever happens to the guest process, do not outlive it. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGPIPE, SIG_IGN);

	d.shm = mmap(NULL, DISPLAY_SHM_SIZE, PROT_READ, MAP_SHARED, shm_fd, 0);
	if (d.shm == MAP_FAILED)
		die("cannot map the picture: %s", strerror(errno));
	const struct display_shm_header *h = (const void *)d.shm;
	if (h->magic != DISPLAY_SHM_MAGIC || h->version != DISPLAY_SHM_VERSION ||
	    h->max_width != DISPLAY_MAX_WIDTH || h->max_height != DISPLAY_MAX_HEIGHT ||
	    h->stride != DISPLAY_MAX_WIDTH)
		die("%s", "the shared picture has an unknown layout");
	d.pixels = (uint32_t *)(d.shm + DISPLAY_SHM_HEADER);
	if (pwfile) {
		d.password[0] = read_password(pwfile);
		d.password[1] = NULL;
	}

	if (!verbose)
		rfbLog = vnc_log_quiet;
	rfbErr = vnc_log_err;

	/* Start at 640x480 until the guest's first frame names its size. */
	int rargc = 0;
	d.width = 640;
	d.height = 480;
	rfbScreenInfoPtr s = rfbGetScreen(&rargc, NULL, (int)d.width, (int)d.height, 8, 3, 4);
	if (!s)
		die("%s", "cannot create the VNC screen");
	d.screen = s;
	s->frameBuffer = (char *)d.pixels;
	/* No server-drawn cursor: libvncserver would paint it into the shared
	 * picture (mapped read-only here); the guest draws its own pointer. */
	s->cursor = NULL;
	set_format(s);
	s->screenData = &d;
	s->desktopName = name;
	s->kbdAddEvent = on_key;
	s->ptrAddEvent = on_pointer;
	s->newClientHook = on_new_client;
	s->deferUpdateTime = 0;         /* the guest already paces frames */
	s->alwaysShared = strcmp(share, "always") == 0;
	s->neverShared = strcmp(share, "never") == 0;
	if (!s->alwaysShared && !s->neverShared && strcmp(share, "client") != 0)
		die("--share must be always, never or client, not %s", share);
	if (d.password[0]) {
		s->authPasswdData = (void *)d.password;
		s->passwordCheck = rfbCheckPasswordByList;
	}
	/* A viewer that stops reading holds up the others for at most this long. */
	rfbMaxClientWait = 2000;
	/* libvncserver listens nowhere: we accept and hand viewers over. */
	s->port = 0;
	s->ipv6port = 0;
	s->autoPort = FALSE;
	s->httpPort = 0;
	s->http6Port = 0;
	s->httpDir = NULL;
	for (unsigned i = 0; i < MAX_PENDING; i++)
		d.pending[i].fd = -1;
	if (strncmp(listen_addr, "unix:", 5) == 0) {
		d.unix_path = strdup(listen_addr + 5);
		if (!d.unix_path)
			die("%s", "out of memory");
		d.listen_fd = listen_unix(d.unix_path);
	} else {
		d.listen_fd = listen_tcp(listen_addr);
	}
	if (web) {
		if (web_init(&d.web, web) != 0)
			die("web console directory %s not found", web);
		d.have_web = true;
	}
	rfbInitServer(s);
	fprintf(stderr, "vmd-display: VNC%s on %s\n", web ? ", WebSocket and web console" : "", listen_addr);
	send_clients(&d);

	while (!d.quit) {
		fd_set rfds = s->allFds, wfds;
		int maxfd = s->maxFd;
		FD_ZERO(&wfds);
		FD_SET(d.link_fd, &rfds);
		if (d.link_fd > maxfd)
			maxfd = d.link_fd;
		FD_SET(d.listen_fd, &rfds);
		if (d.listen_fd > maxfd)
			maxfd = d.listen_fd;
		for (unsigned i = 0; i < MAX_PENDING; i++)
			if (d.pending[i].fd >= 0) {
				FD_SET(d.pending[i].fd, &rfds);
				if (d.pending[i].fd > maxfd)
					maxfd = d.pending[i].fd;
			}
		if (d.have_web)
			web_fill_fds(&d.web, &wfds, &maxfd);
		/* WebSocket clients may hold decoded bytes that select cannot see,
		 * and silent connections become viewers after a while: look again
		 * soon while either is around. */
		bool soon = s->clientHead || any_pending(&d) || (d.have_web && web_busy(&d.web));
		struct timeval tv = { .tv_sec = 0, .tv_usec = 50000 };
		int n = select(maxfd + 1, &rfds, &wfds, NULL, soon ? &tv : NULL);
		if (n < 0 && errno != EINTR)
			die("select: %s", strerror(errno));
		if (n < 0) {
			FD_ZERO(&rfds);
			FD_ZERO(&wfds);
		}
		if (FD_ISSET(d.link_fd, &rfds) && !read_link(&d))
			break;  /* the guest is gone */
		if (FD_ISSET(d.listen_fd, &rfds))
			accept_pending(&d);
		classify_pending(&d);
		if (d.have_web)
			web_process(&d.web, &wfds, now_ms());
		rfbProcessEvents(s, 0);
	}
	for (unsigned i = 0; i < MAX_PENDING; i++)
		if (d.pending[i].fd >= 0)
			close(d.pending[i].fd);
	if (d.have_web)
		web_close_all(&d.web);
	if (d.unix_path)
		unlink(d.unix_path);
	rfbShutdownServer(s, TRUE);
	rfbScreenCleanup(s);
	return 0;
}
