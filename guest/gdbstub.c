#include "guest/gdbstub.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "guest/guest.h"
#include "lib/log.h"
#include "translator/cpu.h"

#define GDB_PKT_MAX 4096
#define GDB_OUT_MAX (64u << 10)
#define GDB_MAX_BPS 64
#define GDB_NREGS 16

enum rx_state { RX_IDLE, RX_DATA, RX_CSUM1, RX_CSUM2 };

struct gdbstub {
	struct guest *g;
	int listen_fd, fd;
	struct event *accept_ev, *rd_ev, *wr_ev;
	bool writing;
	enum rx_state rx;
	char pkt[GDB_PKT_MAX + 1];
	size_t pkt_len;
	uint8_t csum, want_csum;
	char out[GDB_OUT_MAX];
	size_t out_len;
	bool stepping;
	uint32_t bps[GDB_MAX_BPS];
	unsigned nbps;
};

static const char hexdigits[] = "0123456789abcdef";

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void flush_out(struct gdbstub *s);

static void on_write(evutil_socket_t fd, short what, void *opaque)
{
	struct gdbstub *s = opaque;

	s->writing = false;
	flush_out(s);
}

static void drop_client(struct gdbstub *s);

static void flush_out(struct gdbstub *s)
{
	while (s->out_len && s->fd >= 0) {
		ssize_t n = write(s->fd, s->out, s->out_len);
		if (n > 0) {
			memmove(s->out, s->out + n, s->out_len - (size_t)n);
			s->out_len -= (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!s->writing && event_add(s->wr_ev, NULL) == 0)
				s->writing = true;
			return;
		} else {
			drop_client(s);
			return;
		}
	}
}

static void put_raw(struct gdbstub *s, const char *data, size_t len)
{
	if (len > GDB_OUT_MAX - s->out_len) {
		/* A debugger that stopped reading: let it go. */
		log_warn("gdb: client is not reading; disconnecting");
		drop_client(s);
		return;
	}
	memcpy(s->out + s->out_len, data, len);
	s->out_len += len;
	flush_out(s);
}

static void send_packet(struct gdbstub *s, const char *payload)
{
	char buf[GDB_PKT_MAX * 2 + 8];
	size_t n = 0;
	uint8_t sum = 0;

	buf[n++] = '$';
	for (const char *p = payload; *p && n < sizeof(buf) - 4; p++) {
		/* '#', '$', '}' and '*' must be escaped in a reply. */
		if (*p == '#' || *p == '$' || *p == '}' || *p == '*') {
			buf[n++] = '}';
			sum += '}';
			buf[n++] = (char)(*p ^ 0x20);
			sum += (uint8_t)(*p ^ 0x20);
		} else {
			buf[n++] = *p;
			sum += (uint8_t)*p;
		}
	}
	buf[n++] = '#';
	buf[n++] = hexdigits[sum >> 4];
	buf[n++] = hexdigits[sum & 15];
	put_raw(s, buf, n);
}

static void put_hex32(char *out, uint32_t v)
{
	/* Target byte order: little-endian. */
	for (int i = 0; i < 4; i++) {
		uint8_t b = (uint8_t)(v >> (8 * i));
		out[2 * i] = hexdigits[b >> 4];
		out[2 * i + 1] = hexdigits[b & 15];
	}
}

static bool get_hex32(const char *in, uint32_t *v)
{
	uint32_t r = 0;

	for (int i = 0; i < 4; i++) {
		int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		r |= (uint32_t)(hi << 4 | lo) << (8 * i);
	}
	*v = r;
	return true;
}

/* Parses a big-endian hex number up to a delimiter; returns the end or NULL. */
static const char *parse_num(const char *p, uint32_t *v)
{
	uint64_t r = 0;
	const char *start = p;

	while (hexval(*p) >= 0) {
		r = r << 4 | (uint64_t)hexval(*p++);
		if (r > UINT32_MAX)
			return NULL;
	}
	*v = (uint32_t)r;
	return p == start ? NULL : p;
}

/* gdb's i386 register numbers: eax ecx edx ebx esp ebp esi edi eip eflags cs ss ds es fs gs. */
static uint32_t *reg_slot(struct cpu_regs *r, unsigned n, uint32_t *tmp)
{
	static const int segs[6] = { S_CS, S_SS, S_DS, S_ES, S_FS, S_GS };

	if (n < 8)
		return &r->gpr[n];
	if (n == 8)
		return &r->eip;
	if (n == 9)
		return &r->eflags;
	*tmp = r->seg[segs[n - 10]].sel;
	return tmp;
}

static void regs_reply(struct gdbstub *s)
{
	struct cpu_regs r;
	char buf[GDB_NREGS * 8 + 1];
	uint32_t tmp;

	cpu_get_regs(s->g->pc->cpu, &r);
	for (unsigned i = 0; i < GDB_NREGS; i++)
		put_hex32(buf + 8 * i, *reg_slot(&r, i, &tmp));
	buf[GDB_NREGS * 8] = 0;
	send_packet(s, buf);
}

/*
 * Writes register n. Segment selectors are not reloaded from the GDT
 * here: gdb writes them back unchanged with G, and changing the mode
 * under the CPU through the debugger is not supported.
 */
static bool set_reg(struct cpu_regs *r, unsigned n, uint32_t v)
{
	uint32_t tmp;

	if (n >= GDB_NREGS)
		return false;
	if (n < 10)
		*reg_slot(r, n, &tmp) = v;
	return true;
}

static void resume(struct gdbstub *s, bool step)
{
	s->stepping = step;
	cpu_set_single_step(s->g->pc->cpu, step);
	guest_debug_hold(s->g, false);
	guest_kick(s->g);
}

static void handle_packet(struct gdbstub *s, char *p)
{
	struct cpu *cpu = s->g->pc->cpu;
	struct cpu_regs r;
	uint32_t addr, len, v;
	const char *q;
	char buf[GDB_PKT_MAX + 1];

	switch (p[0]) {
	case '?':
		send_packet(s, "S05");
		return;
	case 'g':
		regs_reply(s);
		return;
	case 'G':
		cpu_get_regs(cpu, &r);
		for (unsigned i = 0; i < GDB_NREGS && strlen(p + 1) >= 8 * (i + 1); i++) {
			if (!get_hex32(p + 1 + 8 * i, &v) || !set_reg(&r, i, v)) {
				send_packet(s, "E01");
				return;
			}
		}
		cpu_set_regs(cpu, &r);
		send_packet(s, "OK");
		return;
	case 'p':
		if (!parse_num(p + 1, &addr)) {
			send_packet(s, "E01");
			return;
		}
		if (addr >= GDB_NREGS) {
			/* FPU and SSE registers: unavailable through this stub. */
			send_packet(s, "E45");
			return;
		}
		cpu_get_regs(cpu, &r);
		put_hex32(buf, *reg_slot(&r, addr, &v));
		buf[8] = 0;
		send_packet(s, buf);
		return;
	case 'P':
		q = parse_num(p + 1, &addr);
		cpu_get_regs(cpu, &r);
		if (!q || *q != '=' || !get_hex32(q + 1, &v) || !set_reg(&r, addr, v)) {
			send_packet(s, "E01");
			return;
		}
		cpu_set_regs(cpu, &r);
		send_packet(s, "OK");
		return;
	case 'm':
		q = parse_num(p + 1, &addr);
		if (!q || *q != ',' || !parse_num(q + 1, &len) || len > GDB_PKT_MAX / 2) {
			send_packet(s, "E01");
			return;
		}
		{
			uint8_t mem[GDB_PKT_MAX / 2];
			if (cpu_read_linear(cpu, addr, mem, len) != 0) {
				send_packet(s, "E14");
				return;
			}
			for (uint32_t i = 0; i < len; i++) {
				buf[2 * i] = hexdigits[mem[i] >> 4];
				buf[2 * i + 1] = hexdigits[mem[i] & 15];
			}
			buf[2 * len] = 0;
		}
		send_packet(s, buf);
		return;
	case 'M':
		q = parse_num(p + 1, &addr);
		if (!q || *q != ',' || !(q = parse_num(q + 1, &len)) || *q != ':' ||
		    len > GDB_PKT_MAX / 2 || strlen(q + 1) < 2 * (size_t)len) {
			send_packet(s, "E01");
			return;
		}
		{
			uint8_t mem[GDB_PKT_MAX / 2];
			for (uint32_t i = 0; i < len; i++) {
				int hi = hexval(q[1 + 2 * i]), lo = hexval(q[2 + 2 * i]);
				if (hi < 0 || lo < 0) {
					send_packet(s, "E01");
					return;
				}
				mem[i] = (uint8_t)(hi << 4 | lo);
			}
			send_packet(s, cpu_write_linear(cpu, addr, mem, len) == 0 ? "OK" : "E14");
		}
		return;
	case 'Z':
	case 'z':
		if ((p[1] != '0' && p[1] != '1') || p[2] != ',' || !parse_num(p + 3, &addr)) {
			send_packet(s, "");      /* watchpoints: not supported */
			return;
		}
		if (p[0] == 'Z') {
			if (s->nbps >= GDB_MAX_BPS || cpu_add_breakpoint(cpu, addr) != 0) {
				send_packet(s, "E22");
				return;
			}
			s->bps[s->nbps++] = addr;
		} else {
			for (unsigned i = 0; i < s->nbps; i++) {
				if (s->bps[i] == addr) {
					s->bps[i] = s->bps[--s->nbps];
					break;
				}
			}
			cpu_remove_breakpoint(cpu, addr);
		}
		send_packet(s, "OK");
		return;
	case 'c':
	case 's':
		if (p[1]) {
			if (!parse_num(p + 1, &addr)) {
				send_packet(s, "E01");
				return;
			}
			cpu_get_regs(cpu, &r);
			r.eip = addr;
			cpu_set_regs(cpu, &r);
		}
		/* No reply now: the stop reply comes when the CPU stops again. */
		resume(s, p[0] == 's');
		return;
	case 'k':
		guest_stop(s->g, 0, "quit", 0);
		return;
	case 'D':
		send_packet(s, "OK");
		drop_client(s);
		return;
	case 'H':
	case 'T':
		send_packet(s, "OK");
		return;
	case 'q':
		if (strncmp(p, "qSupported", 10) == 0) {
			snprintf(buf, sizeof(buf), "PacketSize=%x", GDB_PKT_MAX);
			send_packet(s, buf);
		} else if (strcmp(p, "qAttached") == 0) {
			send_packet(s, "1");
		} else if (strcmp(p, "qC") == 0) {
			send_packet(s, "QC1");
		} else if (strcmp(p, "qfThreadInfo") == 0) {
			send_packet(s, "m1");
		} else if (strcmp(p, "qsThreadInfo") == 0) {
			send_packet(s, "l");
		} else if (strncmp(p, "qSymbol", 7) == 0) {
			send_packet(s, "OK");
		} else {
			send_packet(s, "");
		}
		return;
	default:
		/* Unsupported (vCont, X, ...): the empty reply makes gdb fall back. */
		send_packet(s, "");
		return;
	}
}

static void interrupt(struct gdbstub *s)
{
	if (!s->g->debug_stopped) {
		guest_debug_hold(s->g, true);
		cpu_set_single_step(s->g->pc->cpu, false);
		s->stepping = false;
		send_packet(s, "S02");
	}
}

static void on_read(evutil_socket_t fd, short what, void *opaque)
{
	struct gdbstub *s = opaque;
	char buf[1024];
	ssize_t n = read(s->fd, buf, sizeof(buf));

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK)) {
		drop_client(s);
		return;
	}
	for (ssize_t i = 0; i < n && s->fd >= 0; i++) {
		char c = buf[i];
		int h;

		switch (s->rx) {
		case RX_IDLE:
			if (c == '$') {
				s->rx = RX_DATA;
				s->pkt_len = 0;
				s->csum = 0;
			} else if (c == 0x03) {
				interrupt(s);
			}
			/* '+' and '-' acknowledgements: we never retransmit. */
			break;
		case RX_DATA:
			if (c == '#') {
				s->rx = RX_CSUM1;
			} else if (s->pkt_len < GDB_PKT_MAX) {
				s->pkt[s->pkt_len++] = c;
				s->csum += (uint8_t)c;
			} else {
				s->rx = RX_IDLE;        /* oversize: dropped, gdb will retry */
				put_raw(s, "-", 1);
			}
			break;
		case RX_CSUM1:
			h = hexval(c);
			s->want_csum = (uint8_t)((h < 0 ? 0 : h) << 4);
			s->rx = h < 0 ? RX_IDLE : RX_CSUM2;
			break;
		case RX_CSUM2:
			h = hexval(c);
			s->rx = RX_IDLE;
			if (h < 0 || (uint8_t)(s->want_csum | h) != s->csum) {
				put_raw(s, "-", 1);
				break;
			}
			put_raw(s, "+", 1);
			s->pkt[s->pkt_len] = 0;
			handle_packet(s, s->pkt);
			break;
		}
	}
}

static void drop_client(struct gdbstub *s)
{
	struct cpu *cpu = s->g->pc->cpu;

	if (s->fd < 0)
		return;
	log_info("gdb: debugger detached");
	event_free(s->rd_ev);
	event_free(s->wr_ev);
	s->rd_ev = s->wr_ev = NULL;
	s->writing = false;
	close(s->fd);
	s->fd = -1;
	s->out_len = 0;
	for (unsigned i = 0; i < s->nbps; i++)
		cpu_remove_breakpoint(cpu, s->bps[i]);
	s->nbps = 0;
	resume(s, false);
	if (event_add(s->accept_ev, NULL) != 0)
		log_err("gdb: cannot listen for a debugger again");
}

static void on_accept(evutil_socket_t fd, short what, void *opaque)
{
	struct gdbstub *s = opaque;
	int c = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;

	if (c < 0)
		return;
	if (s->fd >= 0) {
		close(c);
		return;
	}
	/* Small packets, one at a time: without NODELAY every reply waits for an ACK. */
	if (setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		log_debug("gdb: TCP_NODELAY: %s", strerror(errno));
	s->fd = c;
	s->rx = RX_IDLE;
	s->rd_ev = event_new(s->g->base, c, EV_READ | EV_PERSIST, on_read, s);
	s->wr_ev = event_new(s->g->base, c, EV_WRITE, on_write, s);
	if (!s->rd_ev || !s->wr_ev || event_add(s->rd_ev, NULL) != 0) {
		log_warn("gdb: cannot create events for the debugger");
		if (s->rd_ev)
			event_free(s->rd_ev);
		if (s->wr_ev)
			event_free(s->wr_ev);
		s->rd_ev = s->wr_ev = NULL;
		close(c);
		s->fd = -1;
		return;
	}
	event_del(s->accept_ev);
	log_info("gdb: debugger attached");
	/* gdb expects the target stopped when it connects. */
	guest_debug_hold(s->g, true);
}

struct gdbstub *gdbstub_new(struct guest *g, int port, char *err, size_t errlen)
{
	struct gdbstub *s = calloc(1, sizeof(*s));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
	                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->g = g;
	s->fd = -1;
	s->listen_fd = -1;
	if (port <= 0 || port > 65535) {
		snprintf(err, errlen, "gdb: bad port %d", port);
		goto fail;
	}
	s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0 ||
	    setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(s->listen_fd, 1) != 0) {
		snprintf(err, errlen, "gdb: cannot listen on 127.0.0.1:%d: %s", port, strerror(errno));
		goto fail;
	}
	s->accept_ev = event_new(g->base, s->listen_fd, EV_READ | EV_PERSIST, on_accept, s);
	if (!s->accept_ev || event_add(s->accept_ev, NULL) != 0) {
		snprintf(err, errlen, "gdb: cannot create events");
		goto fail;
	}
	log_info("gdb: waiting for a debugger on 127.0.0.1:%d", port);
	return s;
fail:
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->accept_ev)
		event_free(s->accept_ev);
	free(s);
	return NULL;
}

void gdbstub_stopped(struct gdbstub *s)
{
	if (s->fd < 0) {
		/* A breakpoint with nobody attached (left over): keep running. */
		return;
	}
	cpu_set_single_step(s->g->pc->cpu, false);
	s->stepping = false;
	guest_debug_hold(s->g, true);
	send_packet(s, "S05");
}

void gdbstub_exited(struct gdbstub *s, int status)
{
	char pkt[8];

	if (!s || s->fd < 0)
		return;
	/* Tell the debugger the target is gone, as QEMU does ("W" + status). */
	snprintf(pkt, sizeof(pkt), "W%02x", status & 0xff);
	send_packet(s, pkt);
}

void gdbstub_free(struct gdbstub *s)
{
	if (!s)
		return;
	if (s->fd >= 0) {
		event_free(s->rd_ev);
		event_free(s->wr_ev);
		close(s->fd);
	}
	event_free(s->accept_ev);
	close(s->listen_fd);
	free(s);
}
