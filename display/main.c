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
 *               [--name NAME]
 *
 * The password file holds the VNC password as plain text on its first line
 * (the newline is not part of it; VNC authentication uses only the first
 * 8 characters, as every VNC server does). It is read once at start-up and
 * never passed on a command line.
 *
 * Web console: libvncserver recognises WebSocket connections on the RFB
 * port itself, so noVNC connects directly; with --web DIR (Debian's noVNC
 * is in /usr/share/novnc) its built-in HTTP server serves the noVNC pages on
 * port+1 of a TCP listen address (http://ADDR:PORT+1/vnc.html?host=ADDR&port=PORT).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rfb/rfb.h>

#include "display/link.h"

struct display {
	rfbScreenInfoPtr screen;
	int link_fd;
	int unix_fd;                /* listening UNIX socket, or -1 */
	char *unix_path;
	uint8_t *shm;
	uint32_t *pixels;
	unsigned width, height;
	unsigned clients;
	char *password[2];          /* NULL-terminated list for rfbCheckPasswordByList */
	bool quit;
};

/* Per viewer: the last absolute pointer position, to turn RFB's absolute
 * coordinates into the PS/2 mouse's relative motion. */
struct viewer {
	struct display *d;
	int x, y;
	bool have_pos;
	int buttons;
};

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

static void on_key(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
	struct viewer *v = cl->clientData;
	if (!v || cl->viewOnly)
		return;
	struct display_msg_key m = { .type = DISPLAY_MSG_KEY, .keysym = (uint32_t)keysym, .down = down ? 1 : 0 };
	link_send(v->d, &m, sizeof(m));
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
	if (v->d->clients > 0)
		v->d->clients--;
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

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		die("socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 8) != 0)
		die("cannot listen on %s", path);
	return fd;
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
		{ NULL, 0, NULL, 0 },
	};
	struct display d = { .link_fd = -1, .unix_fd = -1 };
	int shm_fd = -1, c;
	const char *listen_addr = NULL, *pwfile = NULL, *web = NULL, *share = "client", *name = "vmd";

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': d.link_fd = parse_fd(optarg); break;
		case 'm': shm_fd = parse_fd(optarg); break;
		case 'L': listen_addr = optarg; break;
		case 'p': pwfile = optarg; break;
		case 'w': web = optarg; break;
		case 's': share = optarg; break;
		case 'n': name = optarg; break;
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
	s->ipv6port = 0;
	s->http6Port = 0;
	if (strncmp(listen_addr, "unix:", 5) == 0) {
		s->port = 0;
		s->autoPort = FALSE;
		d.unix_path = strdup(listen_addr + 5);
		if (!d.unix_path)
			die("%s", "out of memory");
		d.unix_fd = listen_unix(d.unix_path);
		if (web)
			fprintf(stderr, "vmd-display: --web needs a TCP listen address; ignored\n");
	} else {
		const char *colon = strrchr(listen_addr, ':');
		char host[64];
		if (!colon || (size_t)(colon - listen_addr) >= sizeof(host))
			die("listen address must be ADDR:PORT or unix:PATH, not %s", listen_addr);
		memcpy(host, listen_addr, (size_t)(colon - listen_addr));
		host[colon - listen_addr] = '\0';
		char *end;
		long port = strtol(colon + 1, &end, 10);
		if (*end != '\0' || port <= 0 || port > 65534)
			die("bad port in %s", listen_addr);
		s->port = (int)port;
		if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "*") == 0)
			s->listenInterface = htonl(INADDR_ANY);
		else if (strcmp(host, "localhost") == 0)
			s->listenInterface = htonl(INADDR_LOOPBACK);
		else if (inet_pton(AF_INET, host, &s->listenInterface) != 1)
			die("bad IPv4 listen address %s", host);
		if (web) {
			s->httpDir = (char *)web;
			s->httpPort = (int)port + 1;
		} else {
			s->httpPort = 0;
		}
	}
	rfbInitServer(s);
	if (s->port > 0 && s->listenSock == RFB_INVALID_SOCKET)
		die("cannot listen on %s", listen_addr);
	/* Tell the guest where we are (it logs it). */
	send_clients(&d);

	while (!d.quit) {
		fd_set rfds = s->allFds;
		int maxfd = s->maxFd;
		FD_SET(d.link_fd, &rfds);
		if (d.link_fd > maxfd)
			maxfd = d.link_fd;
		if (d.unix_fd >= 0) {
			FD_SET(d.unix_fd, &rfds);
			if (d.unix_fd > maxfd)
				maxfd = d.unix_fd;
		}
		int extra[3] = { s->httpListenSock, s->httpListen6Sock, s->httpSock };
		for (unsigned i = 0; i < 3; i++)
			if (extra[i] >= 0 && extra[i] < FD_SETSIZE) {
				FD_SET(extra[i], &rfds);
				if (extra[i] > maxfd)
					maxfd = extra[i];
			}
		/* WebSocket clients may hold decoded bytes that select cannot see:
		 * look again soon while anyone is connected. */
		struct timeval tv = { .tv_sec = 0, .tv_usec = 50000 };
		int n = select(maxfd + 1, &rfds, NULL, NULL, s->clientHead ? &tv : NULL);
		if (n < 0 && errno != EINTR)
			die("select: %s", strerror(errno));
		if (n > 0 && FD_ISSET(d.link_fd, &rfds) && !read_link(&d))
			break;  /* the guest is gone */
		if (n > 0 && d.unix_fd >= 0 && FD_ISSET(d.unix_fd, &rfds)) {
			int fd = accept4(d.unix_fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0 && !rfbNewClient(s, fd))
				close(fd);
		}
		rfbProcessEvents(s, 0);
	}
	if (d.unix_path)
		unlink(d.unix_path);
	rfbShutdownServer(s, TRUE);
	rfbScreenCleanup(s);
	return 0;
}
