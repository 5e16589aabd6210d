/*
 * The web console's file server: serves noVNC's pages (Debian's novnc
 * package, /usr/share/novnc) on the VNC port itself, so
 * http://ADDR:PORT/vnc.html?autoconnect=1 loads noVNC, which then opens a
 * WebSocket to the same address that libvncserver answers.
 *
 * libvncserver's own httpd is not used: it serves one connection at a
 * time (a browser loading noVNC's modules in parallel loses requests),
 * sends no Content-Type (browsers refuse ES modules without a JavaScript
 * type) and in 0.9.14 aborts on FD_ISSET(-1) without an IPv6 listener.
 *
 * Requests are GET only, for regular files under the root (resolved with
 * realpath, so neither ".." nor symlinks lead out of it), answered with
 * "Connection: close". Everything is non-blocking and driven by the
 * display process's select loop; slow or idle connections are dropped
 * after a timeout.
 */
#ifndef DISPLAY_WEB_H
#define DISPLAY_WEB_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/select.h>

#define WEB_MAX_CONNS 32
#define WEB_MAX_FILE  (8u << 20)

struct web_conn {
	int fd;                 /* -1: free */
	uint64_t deadline;      /* ms, monotonic */
	char *out;
	size_t out_len, out_off;
};

struct web_server {
	char root[PATH_MAX];    /* resolved */
	struct web_conn conns[WEB_MAX_CONNS];
};

/* -1 if root is not a directory. */
int web_init(struct web_server *w, const char *root);
void web_close_all(struct web_server *w);
/* Takes a connected socket whose complete request header is readable:
 * reads it, prepares the answer. The descriptor is owned from here on. */
void web_adopt(struct web_server *w, int fd, uint64_t now_ms);
void web_fill_fds(const struct web_server *w, fd_set *wfds, int *maxfd);
void web_process(struct web_server *w, const fd_set *wfds, uint64_t now_ms);
bool web_busy(const struct web_server *w);

/* Whether a connection's first bytes (peeked) are an HTTP request for a
 * file rather than a WebSocket upgrade or an RFB client. `complete` says
 * whether the header block has arrived, so the answer is final. */
bool web_is_file_request(const char *peek, size_t n, bool *complete);

#endif
