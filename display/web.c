#include "display/web.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define WEB_TIMEOUT_MS 10000

int web_init(struct web_server *w, const char *root)
{
	struct stat st;

	memset(w, 0, sizeof(*w));
	for (unsigned i = 0; i < WEB_MAX_CONNS; i++)
		w->conns[i].fd = -1;
	if (!realpath(root, w->root) || stat(w->root, &st) != 0 || !S_ISDIR(st.st_mode))
		return -1;
	return 0;
}

static void conn_close(struct web_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->out_len = c->out_off = 0;
}

void web_close_all(struct web_server *w)
{
	for (unsigned i = 0; i < WEB_MAX_CONNS; i++)
		conn_close(&w->conns[i]);
}

bool web_is_file_request(const char *peek, size_t n, bool *complete)
{
	*complete = false;
	if (n < 4)
		return memcmp(peek, "GET ", n) == 0;
	if (memcmp(peek, "GET ", 4) != 0) {
		*complete = true;
		return false;
	}
	const char *end = memmem(peek, n, "\r\n\r\n", 4);
	if (!end)
		return true;
	*complete = true;
	/* A WebSocket upgrade goes to libvncserver; look for the header. */
	for (const char *p = peek; p < end; p++)
		if ((p == peek || p[-1] == '\n') && (size_t)(end - p) > 8 && strncasecmp(p, "upgrade:", 8) == 0) {
			const char *v = p + 8;
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			if ((size_t)(end - v) >= 9 && strncasecmp(v, "websocket", 9) == 0)
				return false;
		}
	return true;
}

static const char *mime_type(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".js", "application/javascript" },
		{ ".css", "text/css" }, { ".svg", "image/svg+xml" }, { ".png", "image/png" },
		{ ".ico", "image/x-icon" }, { ".json", "application/json" }, { ".ogg", "audio/ogg" },
		{ ".mp3", "audio/mpeg" }, { ".woff", "font/woff" }, { ".woff2", "font/woff2" },
		{ ".ttf", "font/ttf" }, { ".txt", "text/plain" },
	};
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

static void respond_status(struct web_conn *c, const char *status)
{
	char *out = NULL;
	int n = asprintf(&out, "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
	                       "Connection: close\r\n\r\n%s\n", status, strlen(status) + 1, status);
	if (n < 0) {
		conn_close(c);
		return;
	}
	c->out = out;
	c->out_len = (size_t)n;
}

/* Builds the answer to the request line in `req`. */
static void respond(struct web_server *w, struct web_conn *c, char *req)
{
	char path[PATH_MAX], resolved[PATH_MAX];

	req[strcspn(req, "\r\n")] = '\0';
	if (strncmp(req, "GET /", 5) != 0) {
		respond_status(c, "400 Bad Request");
		return;
	}
	char *url = req + 4, *sp = strchr(url, ' ');
	if (sp)
		*sp = '\0';
	url[strcspn(url, "?#")] = '\0';
	if (strcmp(url, "/") == 0)
		url = "/vnc.html";
	if (strstr(url, "..") || strchr(url, '%') ||
	    snprintf(path, sizeof(path), "%s%s", w->root, url) >= (int)sizeof(path)) {
		respond_status(c, "404 Not Found");
		return;
	}
	size_t rl = strlen(w->root);
	struct stat st;
	if (!realpath(path, resolved) || strncmp(resolved, w->root, rl) != 0 || resolved[rl] != '/' ||
	    stat(resolved, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > WEB_MAX_FILE) {
		respond_status(c, "404 Not Found");
		return;
	}
	int fd = open(resolved, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		respond_status(c, "404 Not Found");
		return;
	}
	char head[256];
	int hn = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %lld\r\n"
	                  "Cache-Control: no-cache\r\nConnection: close\r\n\r\n",
	                  mime_type(resolved), (long long)st.st_size);
	c->out = malloc((size_t)hn + (size_t)st.st_size);
	if (!c->out) {
		close(fd);
		conn_close(c);
		return;
	}
	memcpy(c->out, head, (size_t)hn);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, c->out + hn + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		free(c->out);
		c->out = NULL;
		respond_status(c, "500 Internal Server Error");
		return;
	}
	c->out_len = (size_t)hn + got;
}

void web_adopt(struct web_server *w, int fd, uint64_t now_ms)
{
	struct web_conn *c = NULL;
	char req[4096];

	for (unsigned i = 0; i < WEB_MAX_CONNS && !c; i++)
		if (w->conns[i].fd < 0)
			c = &w->conns[i];
	if (!c) {
		close(fd);      /* too many at once: the browser retries */
		return;
	}
	ssize_t n = recv(fd, req, sizeof(req) - 1, MSG_DONTWAIT);
	if (n <= 0) {
		close(fd);
		return;
	}
	req[n] = '\0';
	c->fd = fd;
	c->deadline = now_ms + WEB_TIMEOUT_MS;
	respond(w, c, req);
}

void web_fill_fds(const struct web_server *w, fd_set *wfds, int *maxfd)
{
	for (unsigned i = 0; i < WEB_MAX_CONNS; i++) {
		int fd = w->conns[i].fd;
		if (fd >= 0 && fd < FD_SETSIZE) {
			FD_SET(fd, wfds);
			if (fd > *maxfd)
				*maxfd = fd;
		}
	}
}

void web_process(struct web_server *w, const fd_set *wfds, uint64_t now_ms)
{
	for (unsigned i = 0; i < WEB_MAX_CONNS; i++) {
		struct web_conn *c = &w->conns[i];
		if (c->fd < 0)
			continue;
		if (now_ms > c->deadline || c->fd >= FD_SETSIZE) {
			conn_close(c);
			continue;
		}
		if (!FD_ISSET(c->fd, wfds))
			continue;
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		                 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			conn_close(c);
			continue;
		}
		c->out_off += (size_t)n;
		if (c->out_off == c->out_len) {
			shutdown(c->fd, SHUT_WR);
			conn_close(c);
		}
	}
}

bool web_busy(const struct web_server *w)
{
	for (unsigned i = 0; i < WEB_MAX_CONNS; i++)
		if (w->conns[i].fd >= 0)
			return true;
	return false;
}
