/* The test board's GDB remote stub (see gdbstub.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "translator/cpu.h"
#include "tests/guests/sysboard/gdbstub.h"

#define PKT_MAX 4096
#define NREGS 16

struct conn {
	int fd;
	char in[PKT_MAX + 1];
	uint8_t rbuf[4096];
	size_t rlen, rpos;
};

static int getbyte(struct conn *c)
{
	if (c->rpos == c->rlen) {
		ssize_t n;
		do
			n = read(c->fd, c->rbuf, sizeof(c->rbuf));
		while (n < 0 && errno == EINTR);
		if (n <= 0)
			return -1;
		c->rlen = (size_t)n;
		c->rpos = 0;
	}
	return c->rbuf[c->rpos++];
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9') return ch - '0';
	if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
	return -1;
}

/* Reads one packet into c->in (NUL-terminated); acks it. 1 = ^C, 0 = packet, -1 = gone. */
static int get_packet(struct conn *c)
{
	for (;;) {
		int ch;
		do {
			ch = getbyte(c);
			if (ch < 0)
				return -1;
			if (ch == 0x03)
				return 1;
		} while (ch != '$');
		size_t n = 0;
		unsigned sum = 0;
		bool overflow = false;
		while ((ch = getbyte(c)) >= 0 && ch != '#') {
			if (n < PKT_MAX)
				c->in[n++] = (char)ch;
			else
				overflow = true;
			sum += (unsigned)ch;
		}
		if (ch < 0)
			return -1;
		int h = getbyte(c), l = getbyte(c);
		if (h < 0 || l < 0)
			return -1;
		c->in[n] = 0;
		if (overflow || hexval(h) < 0 || hexval(l) < 0 || (unsigned)(hexval(h) * 16 + hexval(l)) != (sum & 0xff)) {
			if (write_all(c->fd, "-", 1) < 0)
				return -1;
			continue;
		}
		return write_all(c->fd, "+", 1) < 0 ? -1 : 0;
	}
}

static int put_packet(struct conn *c, const char *data)
{
	size_t n = strlen(data);
	char *buf = malloc(n + 5);
	if (!buf)
		return -1;
	unsigned sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += (unsigned char)data[i];
	buf[0] = '$';
	memcpy(buf + 1, data, n);
	snprintf(buf + 1 + n, 4, "#%02x", sum & 0xff);
	int rc;
	for (int tries = 0;; tries++) {
		rc = write_all(c->fd, buf, n + 4);
		if (rc < 0)
			break;
		int ack = getbyte(c);
		if (ack == '+' || ack < 0 || tries > 5) {
			rc = ack < 0 ? -1 : 0;
			break;
		}
	}
	free(buf);
	return rc;
}

static const int seg_of_reg[6] = { S_CS, S_SS, S_DS, S_ES, S_FS, S_GS };

static uint32_t reg_value(const struct cpu_regs *r, int i)
{
	if (i < 8) return r->gpr[i];   /* GDB's order is the hardware's (R_EAX..R_EDI) */
	if (i == 8) return r->eip;
	if (i == 9) return r->eflags;
	return r->seg[seg_of_reg[i - 10]].sel;
}

static void put_le32(char *out, uint32_t v)
{
	for (int b = 0; b < 4; b++)
		sprintf(out + 2 * b, "%02x", (v >> (8 * b)) & 0xff);
}

static bool parse_le32(const char *s, uint32_t *v)
{
	uint32_t x = 0;
	for (int b = 0; b < 4; b++) {
		int h = hexval(s[2 * b]), l = hexval(s[2 * b + 1]);
		if (h < 0 || l < 0)
			return false;
		x |= (uint32_t)(h * 16 + l) << (8 * b);
	}
	*v = x;
	return true;
}

/* P n=v: registers 0-9 as is; a segment only in real mode (base = sel * 16). */
static bool set_reg(struct cpu *cpu, unsigned i, uint32_t v)
{
	struct cpu_regs r;
	cpu_get_regs(cpu, &r);
	if (i < 8) {
		r.gpr[i] = v;
	} else if (i == 8) {
		r.eip = v;
	} else if (i == 9) {
		r.eflags = (v & 0x003f7fd5u) | 2;
	} else if (i < NREGS) {
		if (r.cr0 & 1)
			return false;
		struct cpu_seg *s = &r.seg[seg_of_reg[i - 10]];
		s->sel = (uint16_t)v;
		s->base = (uint32_t)(uint16_t)v << 4;
	} else {
		return false;
	}
	cpu_set_regs(cpu, &r);
	return true;
}

static void handle_mem_read(struct cpu *cpu, const char *args, char *out)
{
	unsigned long addr, len;
	if (sscanf(args, "%lx,%lx", &addr, &len) != 2 || len > (PKT_MAX - 1) / 2) {
		strcpy(out, "E01");
		return;
	}
	uint8_t buf[PKT_MAX / 2];
	if (cpu_read_linear(cpu, (uint32_t)addr, buf, len) < 0) {
		strcpy(out, "E14");
		return;
	}
	for (unsigned long i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", buf[i]);
	out[2 * len] = 0;
}

static void handle_mem_write(struct cpu *cpu, const char *args, char *out)
{
	unsigned long addr, len;
	const char *colon = strchr(args, ':');
	if (!colon || sscanf(args, "%lx,%lx", &addr, &len) != 2 || len > PKT_MAX / 2 ||
	    strlen(colon + 1) != 2 * len) {
		strcpy(out, "E01");
		return;
	}
	uint8_t buf[PKT_MAX / 2];
	for (unsigned long i = 0; i < len; i++) {
		int h = hexval(colon[1 + 2 * i]), l = hexval(colon[2 + 2 * i]);
		if (h < 0 || l < 0) {
			strcpy(out, "E01");
			return;
		}
		buf[i] = (uint8_t)(h * 16 + l);
	}
	strcpy(out, cpu_write_linear(cpu, (uint32_t)addr, buf, len) < 0 ? "E14" : "OK");
}

static int serve(struct cpu *cpu, struct conn *c, const struct gdbstub_ops *ops)
{
	static const char hexdigits[] = "0123456789abcdef";
	char *out = malloc(PKT_MAX + 1);
	if (!out)
		return -1;
	int result = -1;
	for (;;) {
		int g = get_packet(c);
		if (g < 0)
			break;
		if (g == 1)       /* ^C while stopped: report the stop again */
			strcpy(c->in, "?");
		const char *p = c->in;
		out[0] = 0;
		struct cpu_regs r;
		switch (p[0]) {
		case '?':
			strcpy(out, "S05");
			break;
		case 'g':
			cpu_get_regs(cpu, &r);
			for (int i = 0; i < NREGS; i++)
				put_le32(out + 8 * i, reg_value(&r, i));
			out[8 * NREGS] = 0;
			break;
		case 'p': {
			unsigned long i = strtoul(p + 1, NULL, 16);
			if (i < NREGS) {
				cpu_get_regs(cpu, &r);
				put_le32(out, reg_value(&r, (int)i));
			} else {
				strcpy(out, "E01");
			}
			break;
		}
		case 'P': {
			char *eq;
			unsigned long i = strtoul(p + 1, &eq, 16);
			uint32_t v;
			strcpy(out, (*eq == '=' && strlen(eq + 1) == 8 && parse_le32(eq + 1, &v) &&
				     set_reg(cpu, (unsigned)i, v)) ? "OK" : "E01");
			break;
		}
		case 'm':
			handle_mem_read(cpu, p + 1, out);
			break;
		case 'M':
			handle_mem_write(cpu, p + 1, out);
			break;
		case 's':
		case 'c': {
			int code = 0;
			if (!ops->run(ops->opaque, p[0] == 's', &code)) {
				out[0] = 'W';
				out[1] = hexdigits[(code >> 4) & 15];
				out[2] = hexdigits[code & 15];
				out[3] = 0;
				put_packet(c, out);
				result = code;
				goto done;
			}
			strcpy(out, "S05");
			break;
		}
		case 'Z':
		case 'z': {
			unsigned long type, addr;
			if (sscanf(p + 1, "%lx,%lx", &type, &addr) == 2 && type == 0) {
				int rc = p[0] == 'Z' ? cpu_add_breakpoint(cpu, (uint32_t)addr)
						     : cpu_remove_breakpoint(cpu, (uint32_t)addr);
				strcpy(out, rc < 0 ? "E01" : "OK");
			}
			break;
		}
		case 'H':
			strcpy(out, "OK");
			break;
		case 'q':
			if (!strncmp(p, "qSupported", 10))
				snprintf(out, PKT_MAX, "PacketSize=%x", PKT_MAX);
			else if (!strcmp(p, "qAttached"))
				strcpy(out, "1");
			else if (!strcmp(p, "qC"))
				strcpy(out, "QC1");
			break;
		case 'D':
			put_packet(c, "OK");
			result = -2;
			goto done;
		case 'k':
			result = -1;
			goto done;
		default:
			break;  /* empty reply: not supported */
		}
		if (put_packet(c, out) < 0)
			break;
	}
done:
	free(out);
	return result;
}

int gdbstub_serve(struct cpu *cpu, uint16_t port, const struct gdbstub_ops *ops)
{
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0) {
		fprintf(stderr, "gdbstub: socket: %s\n", strerror(errno));
		return -1;
	}
	int one = 1;
	if (setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		fprintf(stderr, "gdbstub: SO_REUSEADDR: %s\n", strerror(errno));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0) {
		fprintf(stderr, "gdbstub: 127.0.0.1:%u: %s\n", port, strerror(errno));
		close(ls);
		return -1;
	}
	fprintf(stderr, "gdbstub: waiting for a debugger on 127.0.0.1:%u\n", port);
	int fd;
	do
		fd = accept(ls, NULL, NULL);
	while (fd < 0 && errno == EINTR);
	close(ls);
	if (fd < 0) {
		fprintf(stderr, "gdbstub: accept: %s\n", strerror(errno));
		return -1;
	}
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		fprintf(stderr, "gdbstub: TCP_NODELAY: %s\n", strerror(errno));
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -1;
	}
	c->fd = fd;
	int rc = serve(cpu, c, ops);
	free(c);
	close(fd);
	return rc;
}
