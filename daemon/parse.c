/*
 * The vmd.conf parser: a hand-written tokenizer and recursive descent over
 * the grammar in conf/vmd.conf.5. Statements end at a newline or ';' is
 * optional: every statement has a fixed shape, so tokens alone delimit it.
 * After an error the parser skips to the end of that line and goes on, so
 * one run reports every mistake with its file:line.
 */
#include "daemon/config.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX_FILE (1 << 20)
#define MAX_MACROS 64

enum tok_type { T_END, T_WORD, T_STRING, T_LBRACE, T_RBRACE, T_SEMI, T_EQUALS, T_BAD };

struct token {
	enum tok_type type;
	char text[1024];
	int line;
};

struct macro {
	char name[64];
	char *value;
};

struct parser {
	const char *file;
	const char *p;        /* next input byte */
	int line;
	struct token tok;     /* current token */
	char *err;
	size_t errlen, errused;
	int nerr;
	struct config *cfg;
	struct macro macro[MAX_MACROS];
	size_t nmacro;
};

static void perr(struct parser *ps, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void perr(struct parser *ps, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	ps->nerr++;
	if (!ps->err || ps->errused + 1 >= ps->errlen)
		return;
	n = snprintf(ps->err + ps->errused, ps->errlen - ps->errused, "%s%s:%d: ",
		     ps->errused ? "\n" : "", ps->file, line);
	if (n < 0 || (size_t)n >= ps->errlen - ps->errused) {
		ps->errused = ps->errlen - 1;
		return;
	}
	ps->errused += (size_t)n;
	va_start(ap, fmt);
	n = vsnprintf(ps->err + ps->errused, ps->errlen - ps->errused, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= ps->errlen - ps->errused)
		ps->errused = ps->errlen - 1;
	else
		ps->errused += (size_t)n;
}

static const char *macro_value(struct parser *ps, const char *name)
{
	size_t i;

	for (i = 0; i < ps->nmacro; i++)
		if (strcmp(ps->macro[i].name, name) == 0)
			return ps->macro[i].value;
	return NULL;
}

static bool word_char(int c)
{
	return isalnum(c) || strchr("-_./:+@$", c) != NULL;
}

/* Reads the next token into ps->tok. */
static void next(struct parser *ps)
{
	struct token *t = &ps->tok;
	size_t n = 0;
	const char *v;

	for (;;) {
		while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' || *ps->p == '\n') {
			if (*ps->p == '\n')
				ps->line++;
			ps->p++;
		}
		if (*ps->p != '#')
			break;
		while (*ps->p && *ps->p != '\n')
			ps->p++;
	}
	t->line = ps->line;
	t->text[0] = '\0';
	switch (*ps->p) {
	case '\0': t->type = T_END; return;
	case '{': t->type = T_LBRACE; ps->p++; strcpy(t->text, "{"); return;
	case '}': t->type = T_RBRACE; ps->p++; strcpy(t->text, "}"); return;
	case ';': t->type = T_SEMI; ps->p++; strcpy(t->text, ";"); return;
	case '=': t->type = T_EQUALS; ps->p++; strcpy(t->text, "="); return;
	case '"':
		ps->p++;
		while (*ps->p != '"') {
			char c = *ps->p;
			if (c == '\0' || c == '\n') {
				perr(ps, t->line, "unterminated string");
				t->type = T_BAD;
				return;
			}
			if (c == '\\' && (ps->p[1] == '"' || ps->p[1] == '\\'))
				c = *++ps->p;
			ps->p++;
			if (n + 1 >= sizeof(t->text)) {
				perr(ps, t->line, "string longer than %zu bytes", sizeof(t->text) - 1);
				while (*ps->p && *ps->p != '"' && *ps->p != '\n')
					ps->p++;
				if (*ps->p == '"')
					ps->p++;
				t->type = T_BAD;
				return;
			}
			t->text[n++] = c;
		}
		ps->p++;
		t->text[n] = '\0';
		t->type = T_STRING;
		return;
	default:
		break;
	}
	if (!word_char((unsigned char)*ps->p)) {
		perr(ps, t->line, "unexpected character '%c'", isprint((unsigned char)*ps->p) ? *ps->p : '?');
		ps->p++;
		t->type = T_BAD;
		return;
	}
	while (word_char((unsigned char)*ps->p)) {
		if (n + 1 < sizeof(t->text))
			t->text[n++] = *ps->p;
		ps->p++;
	}
	t->text[n] = '\0';
	t->type = T_WORD;
	if (t->text[0] == '$') {
		v = macro_value(ps, t->text + 1);
		if (!v) {
			perr(ps, t->line, "undefined macro '%s'", t->text + 1);
			t->type = T_BAD;
			return;
		}
		snprintf(t->text, sizeof(t->text), "%s", v);
		t->type = T_STRING;
	}
}

/* Skips the rest of the line holding the bad token (error recovery),
 * stopping before a '}' so blocks still close. */
static void recover(struct parser *ps, int line)
{
	while (ps->tok.type != T_END && ps->tok.type != T_RBRACE && ps->tok.line == line)
		next(ps);
	if (ps->tok.type == T_SEMI)
		next(ps);
}

/* Skips a whole { ... } block (nested ones too) when the current token
 * opens one: after an error there, its contents are not statements. */
static void skip_block(struct parser *ps)
{
	int depth = 0;

	if (ps->tok.type != T_LBRACE)
		return;
	do {
		if (ps->tok.type == T_LBRACE)
			depth++;
		else if (ps->tok.type == T_RBRACE)
			depth--;
		next(ps);
	} while (depth > 0 && ps->tok.type != T_END);
}

static const char *describe(const struct token *t)
{
	switch (t->type) {
	case T_END: return "end of file";
	case T_STRING: return "a string";
	default: return t->text;
	}
}

/* A string or a bare word as a value; copies into out. */
static bool take_value(struct parser *ps, const char *what, char *out, size_t outlen)
{
	if (ps->tok.type != T_STRING && ps->tok.type != T_WORD) {
		if (ps->tok.type != T_BAD)
			perr(ps, ps->tok.line, "%s expected, found %s", what, describe(&ps->tok));
		return false;
	}
	snprintf(out, outlen, "%s", ps->tok.text);
	next(ps);
	return true;
}

static bool take_path(struct parser *ps, const char *what, char **slot)
{
	char buf[1024];
	int line = ps->tok.line;

	if (!take_value(ps, what, buf, sizeof(buf)))
		return false;
	if (*slot) {
		perr(ps, line, "%s given twice", what);
		return false;
	}
	if (buf[0] != '/') {
		perr(ps, line, "%s \"%s\" must be an absolute path", what, buf);
		return false;
	}
	*slot = strdup(buf);
	if (!*slot) {
		perr(ps, line, "out of memory");
		return false;
	}
	return true;
}

static bool take_number(struct parser *ps, const char *what, long min, long max, long *out)
{
	char *end;
	long v;

	if (ps->tok.type != T_WORD) {
		if (ps->tok.type != T_BAD)
			perr(ps, ps->tok.line, "%s expected, found %s", what, describe(&ps->tok));
		return false;
	}
	errno = 0;
	v = strtol(ps->tok.text, &end, 10);
	if (errno || *end || end == ps->tok.text || v < min || v > max) {
		perr(ps, ps->tok.line, "%s must be a number from %ld to %ld, not \"%s\"", what,
		     min, max, ps->tok.text);
		return false;
	}
	*out = v;
	next(ps);
	return true;
}

bool vm_name_valid(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > VM_NAME_MAX || name[0] == '-' || name[0] == '.')
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i]))
			return false;
	return true;
}

uint64_t parse_memory_size(const char *s, char *why, size_t whylen)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1ull << 20;

	errno = 0;
	if (!isdigit((unsigned char)*s))
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno)
		goto bad;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'K': mul = 1ull << 10; break;
		case 'M': mul = 1ull << 20; break;
		case 'G': mul = 1ull << 30; break;
		default: goto bad;
		}
		end++;
		if (*end == 'B' || *end == 'b')
			end++;
		if (*end)
			goto bad;
	}
	if (v > VM_MEMORY_MAX / mul + 1)
		goto range;
	v *= mul;
	if (v < VM_MEMORY_MIN || v > VM_MEMORY_MAX)
		goto range;
	if (v % (1ull << 20)) {
		snprintf(why, whylen, "memory size \"%s\" is not a whole number of MiB", s);
		return 0;
	}
	return v;
range:
	snprintf(why, whylen, "memory size \"%s\" out of range (%lluM to %lluM)", s,
		 VM_MEMORY_MIN >> 20, VM_MEMORY_MAX >> 20);
	return 0;
bad:
	snprintf(why, whylen, "bad memory size \"%s\" (use e.g. 256M or 1G)", s);
	return 0;
}

bool parse_owner(const char *s, struct vm_config *vc, char *why, size_t whylen)
{
	char user[256], *group;
	struct passwd *pw;
	struct group *gr;

	snprintf(user, sizeof(user), "%s", s);
	group = strchr(user, ':');
	if (group)
		*group++ = '\0';
	if (!user[0] && (!group || !group[0])) {
		snprintf(why, whylen, "owner \"%s\" names no user or group", s);
		return false;
	}
	vc->has_owner_uid = vc->has_owner_gid = false;
	if (user[0]) {
		pw = getpwnam(user);
		if (!pw) {
			snprintf(why, whylen, "unknown user \"%s\"", user);
			return false;
		}
		vc->owner_uid = pw->pw_uid;
		vc->has_owner_uid = true;
	}
	if (group && group[0]) {
		gr = getgrnam(group);
		if (!gr) {
			snprintf(why, whylen, "unknown group \"%s\"", group);
			return false;
		}
		vc->owner_gid = gr->gr_gid;
		vc->has_owner_gid = true;
	}
	return true;
}

static void parse_network(struct parser *ps, struct vm_config *vc, int line)
{
	struct net_config *net;
	long host, guest;
	int fline;

	if (vc->nnet == CONFIG_MAX_NETS) {
		perr(ps, line, "more than %d networks", CONFIG_MAX_NETS);
		net = NULL;
	} else {
		net = &vc->net[vc->nnet++];
	}
	if (ps->tok.type != T_LBRACE)
		return; /* "network" alone: NAT without forwarded ports */
	next(ps);
	while (ps->tok.type != T_RBRACE) {
		if (ps->tok.type == T_END) {
			perr(ps, ps->tok.line, "missing '}' closing the network block of line %d", line);
			return;
		}
		if (ps->tok.type == T_SEMI) {
			next(ps);
			continue;
		}
		fline = ps->tok.line;
		if (ps->tok.type != T_WORD || strcmp(ps->tok.text, "hostfwd") != 0) {
			if (ps->tok.type != T_BAD)
				perr(ps, fline, "unknown network option \"%s\" (expected hostfwd)",
				     describe(&ps->tok));
			recover(ps, fline);
			continue;
		}
		next(ps);
		if (ps->tok.type != T_WORD || (strcmp(ps->tok.text, "tcp") && strcmp(ps->tok.text, "udp"))) {
			perr(ps, fline, "hostfwd needs tcp or udp, found %s", describe(&ps->tok));
			recover(ps, fline);
			continue;
		}
		{
			bool udp = strcmp(ps->tok.text, "udp") == 0;
			next(ps);
			if (!take_number(ps, "host port", 1, 65535, &host) ||
			    !take_number(ps, "guest port", 1, 65535, &guest)) {
				recover(ps, fline);
				continue;
			}
			if (!net)
				continue;
			if (net->nfwd == CONFIG_MAX_FWDS) {
				perr(ps, fline, "more than %d forwarded ports", CONFIG_MAX_FWDS);
				continue;
			}
			net->fwd[net->nfwd].udp = udp;
			net->fwd[net->nfwd].host_port = (uint16_t)host;
			net->fwd[net->nfwd].guest_port = (uint16_t)guest;
			net->nfwd++;
		}
	}
	next(ps);
}

static void parse_vnc(struct parser *ps, struct vm_config *vc, int line)
{
	char buf[1024], *colon, *end;
	long port;
	bool any = false;

	for (;;) {
		if (ps->tok.type == T_WORD && strcmp(ps->tok.text, "listen") == 0) {
			next(ps);
			if (!take_value(ps, "vnc listen address", buf, sizeof(buf)))
				return;
			colon = strrchr(buf, ':');
			port = colon ? strtol(colon + 1, &end, 10) : -1;
			if (!colon || colon == buf || !colon[1] || *end || port < 1 || port > 65535) {
				perr(ps, line, "vnc listen \"%s\" must be ADDRESS:PORT", buf);
				return;
			}
			free(vc->vnc_listen);
			vc->vnc_listen = strdup(buf);
			any = true;
		} else if (ps->tok.type == T_WORD && strcmp(ps->tok.text, "password-file") == 0) {
			next(ps);
			if (!take_path(ps, "vnc password-file", &vc->vnc_password_file))
				return;
			any = true;
		} else {
			break;
		}
	}
	if (!any)
		perr(ps, line, "vnc needs listen \"ADDRESS:PORT\" and/or password-file \"/path\"");
	else if (!vc->vnc_listen)
		perr(ps, line, "vnc needs a listen address");
}

/* Called with the token after "vm" (the name) current. */
static void parse_vm(struct parser *ps, int line)
{
	struct vm_config *vc;
	char buf[1024], why[256];
	int sline;
	bool have_memory = false, have_autostart = false, have_owner = false;
	int errs_before = ps->nerr;
	size_t i;

	if (ps->tok.type != T_STRING && ps->tok.type != T_WORD) {
		perr(ps, line, "vm needs a name, found %s", describe(&ps->tok));
		if (ps->tok.type == T_LBRACE)
			skip_block(ps);
		else
			recover(ps, line);
		return;
	}
	vc = vm_config_new();
	if (!vc) {
		perr(ps, line, "out of memory");
		return;
	}
	snprintf(vc->where, sizeof(vc->where), "%s:%d", ps->file, line);
	if (!vm_name_valid(ps->tok.text))
		perr(ps, line, "bad vm name \"%s\" (1-%d of A-Z a-z 0-9 . _ -)", ps->tok.text,
		     VM_NAME_MAX);
	snprintf(vc->name, sizeof(vc->name), "%.*s", VM_NAME_MAX, ps->tok.text);
	for (i = 0; i < ps->cfg->nvm; i++)
		if (strcmp(ps->cfg->vm[i]->name, vc->name) == 0)
			perr(ps, line, "vm \"%s\" already defined at %s", vc->name, ps->cfg->vm[i]->where);
	next(ps);
	if (ps->tok.type != T_LBRACE) {
		perr(ps, ps->tok.line, "'{' expected after vm \"%s\", found %s", vc->name,
		     describe(&ps->tok));
		vm_config_free(vc);
		recover(ps, ps->tok.line);
		return;
	}
	next(ps);
	for (;;) {
		sline = ps->tok.line;
		if (ps->tok.type == T_RBRACE) {
			next(ps);
			break;
		}
		if (ps->tok.type == T_END) {
			perr(ps, sline, "missing '}' closing vm \"%s\" of line %d", vc->name, line);
			break;
		}
		if (ps->tok.type == T_SEMI) {
			next(ps);
			continue;
		}
		if (ps->tok.type != T_WORD) {
			if (ps->tok.type != T_BAD)
				perr(ps, sline, "vm option expected, found %s", describe(&ps->tok));
			recover(ps, sline);
			continue;
		}
		snprintf(buf, sizeof(buf), "%s", ps->tok.text);
		next(ps);
		if (strcmp(buf, "memory") == 0) {
			if (have_memory) {
				perr(ps, sline, "memory given twice");
			} else if (take_value(ps, "memory size", buf, sizeof(buf))) {
				vc->memory = parse_memory_size(buf, why, sizeof(why));
				if (!vc->memory)
					perr(ps, sline, "%s", why);
				have_memory = true;
				continue;
			}
		} else if (strcmp(buf, "kernel") == 0) {
			if (take_path(ps, "kernel", &vc->kernel))
				continue;
		} else if (strcmp(buf, "initrd") == 0) {
			if (take_path(ps, "initrd", &vc->initrd))
				continue;
		} else if (strcmp(buf, "bios") == 0) {
			if (take_path(ps, "bios", &vc->bios))
				continue;
		} else if (strcmp(buf, "cmdline") == 0) {
			if (vc->cmdline)
				perr(ps, sline, "cmdline given twice");
			else if (take_value(ps, "cmdline", buf, sizeof(buf))) {
				vc->cmdline = strdup(buf);
				continue;
			}
		} else if (strcmp(buf, "disk") == 0) {
			char *path = NULL;
			if (take_path(ps, "disk", &path)) {
				if (vc->ndisk == CONFIG_MAX_DISKS) {
					perr(ps, sline, "more than %d disks", CONFIG_MAX_DISKS);
					free(path);
				} else {
					vc->disk[vc->ndisk++] = path;
				}
				continue;
			}
		} else if (strcmp(buf, "network") == 0) {
			parse_network(ps, vc, sline);
			continue;
		} else if (strcmp(buf, "vnc") == 0) {
			parse_vnc(ps, vc, sline);
			if (ps->tok.line == sline && ps->tok.type != T_RBRACE && ps->tok.type != T_SEMI)
				recover(ps, sline);
			continue;
		} else if (strcmp(buf, "owner") == 0) {
			if (have_owner)
				perr(ps, sline, "owner given twice");
			else if (take_value(ps, "owner", buf, sizeof(buf))) {
				if (!parse_owner(buf, vc, why, sizeof(why)))
					perr(ps, sline, "%s", why);
				have_owner = true;
				continue;
			}
		} else if (strcmp(buf, "autostart") == 0) {
			if (have_autostart)
				perr(ps, sline, "autostart given twice");
			else if (take_value(ps, "yes or no", buf, sizeof(buf))) {
				have_autostart = true;
				if (strcmp(buf, "yes") == 0)
					vc->autostart = true;
				else if (strcmp(buf, "no") == 0)
					vc->autostart = false;
				else
					perr(ps, sline, "autostart must be yes or no, not \"%s\"", buf);
				continue;
			}
		} else {
			perr(ps, sline, "unknown vm option \"%s\"", buf);
		}
		recover(ps, sline);
	}
	/* Whole-block checks only on a clean block: no cascades. */
	if (ps->nerr != errs_before)
		;
	else if (!vc->kernel && !vc->bios && vc->ndisk == 0)
		perr(ps, line, "vm \"%s\" has nothing to boot (give a kernel, bios or disk)", vc->name);
	else if (vc->initrd && !vc->kernel)
		perr(ps, line, "vm \"%s\": initrd without a kernel", vc->name);
	else if (vc->cmdline && !vc->kernel)
		perr(ps, line, "vm \"%s\": cmdline without a kernel", vc->name);
	if (!have_memory)
		vc->memory = 256ull << 20;
	{
		struct vm_config **grown = realloc(ps->cfg->vm, (ps->cfg->nvm + 1) * sizeof(*grown));
		if (!grown) {
			perr(ps, line, "out of memory");
			vm_config_free(vc);
			return;
		}
		ps->cfg->vm = grown;
		ps->cfg->vm[ps->cfg->nvm++] = vc;
	}
}

static void parse_macro(struct parser *ps, const char *name, int line)
{
	char value[1024];
	size_t i;

	next(ps); /* the '=' */
	if (ps->tok.line != line) {
		perr(ps, line, "macro %s needs a value on its line", name);
		return;
	}
	if (!take_value(ps, "macro value", value, sizeof(value))) {
		recover(ps, line);
		return;
	}
	if (strlen(name) >= sizeof(ps->macro[0].name)) {
		perr(ps, line, "macro name \"%s\" too long", name);
		return;
	}
	for (i = 0; i < ps->nmacro; i++)
		if (strcmp(ps->macro[i].name, name) == 0)
			break;
	if (i == MAX_MACROS) {
		perr(ps, line, "more than %d macros", MAX_MACROS);
		return;
	}
	if (i == ps->nmacro) {
		snprintf(ps->macro[i].name, sizeof(ps->macro[i].name), "%.63s", name);
		ps->macro[i].value = NULL;
		ps->nmacro++;
	}
	free(ps->macro[i].value);
	ps->macro[i].value = strdup(value);
	if (!ps->macro[i].value)
		perr(ps, line, "out of memory");
}

static void parse_top(struct parser *ps)
{
	char kw[1024], buf[1024];
	int line;
	long n;

	while (ps->tok.type != T_END) {
		line = ps->tok.line;
		if (ps->tok.type == T_SEMI) {
			next(ps);
			continue;
		}
		if (ps->tok.type != T_WORD) {
			if (ps->tok.type != T_BAD)
				perr(ps, line, "statement expected, found %s", describe(&ps->tok));
			if (ps->tok.type == T_LBRACE) {
				skip_block(ps);
				continue;
			}
			next(ps);
			recover(ps, line);
			continue;
		}
		snprintf(kw, sizeof(kw), "%s", ps->tok.text);
		next(ps);
		if (ps->tok.type == T_EQUALS) {
			parse_macro(ps, kw, line);
			continue;
		}
		if (strcmp(kw, "vm") == 0) {
			parse_vm(ps, line);
			continue;
		}
		if (strcmp(kw, "socket") == 0) {
			if (ps->tok.type == T_WORD && strcmp(ps->tok.text, "group") == 0) {
				struct group *gr;
				next(ps);
				if (!take_value(ps, "socket group", buf, sizeof(buf))) {
					recover(ps, line);
					continue;
				}
				gr = getgrnam(buf);
				if (!gr) {
					perr(ps, line, "unknown group \"%s\"", buf);
					continue;
				}
				ps->cfg->socket_gid = gr->gr_gid;
				ps->cfg->has_socket_gid = true;
				continue;
			}
			free(ps->cfg->socket_path);
			ps->cfg->socket_path = NULL;
			if (!take_path(ps, "socket path", &ps->cfg->socket_path))
				recover(ps, line);
			continue;
		}
		if (strcmp(kw, "guest-binary") == 0) {
			free(ps->cfg->guest_binary);
			ps->cfg->guest_binary = NULL;
			if (!take_path(ps, "guest-binary", &ps->cfg->guest_binary))
				recover(ps, line);
			continue;
		}
		if (strcmp(kw, "shutdown-timeout") == 0) {
			if (take_number(ps, "shutdown-timeout", 1, 3600, &n))
				ps->cfg->shutdown_timeout = (int)n;
			else
				recover(ps, line);
			continue;
		}
		perr(ps, line, "unknown statement \"%s\"", kw);
		recover(ps, line);
	}
}

void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->shutdown_timeout = CONFIG_DEFAULT_SHUTDOWN_TIMEOUT;
}

void config_free(struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nvm; i++)
		vm_config_free(cfg->vm[i]);
	free(cfg->vm);
	free(cfg->socket_path);
	free(cfg->guest_binary);
	config_init(cfg);
}

struct vm_config *vm_config_new(void)
{
	return calloc(1, sizeof(struct vm_config));
}

void vm_config_free(struct vm_config *vc)
{
	size_t i;

	if (!vc)
		return;
	free(vc->kernel);
	free(vc->initrd);
	free(vc->cmdline);
	free(vc->bios);
	for (i = 0; i < vc->ndisk; i++)
		free(vc->disk[i]);
	free(vc->vnc_listen);
	free(vc->vnc_password_file);
	free(vc);
}

static bool dup_str(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return true;
	*dst = strdup(src);
	return *dst != NULL;
}

struct vm_config *vm_config_dup(const struct vm_config *vc)
{
	struct vm_config *d = vm_config_new();
	bool ok;
	size_t i;

	if (!d)
		return NULL;
	*d = *vc;
	ok = dup_str(&d->kernel, vc->kernel) & dup_str(&d->initrd, vc->initrd) &
	     dup_str(&d->cmdline, vc->cmdline) & dup_str(&d->bios, vc->bios) &
	     dup_str(&d->vnc_listen, vc->vnc_listen) &
	     dup_str(&d->vnc_password_file, vc->vnc_password_file);
	for (i = 0; i < vc->ndisk; i++)
		ok &= dup_str(&d->disk[i], vc->disk[i]);
	if (!ok) {
		vm_config_free(d);
		return NULL;
	}
	return d;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool vm_config_equal(const struct vm_config *a, const struct vm_config *b)
{
	size_t i;

	if (strcmp(a->name, b->name) || a->memory != b->memory || a->ndisk != b->ndisk ||
	    a->nnet != b->nnet || a->autostart != b->autostart ||
	    a->has_owner_uid != b->has_owner_uid || a->has_owner_gid != b->has_owner_gid ||
	    (a->has_owner_uid && a->owner_uid != b->owner_uid) ||
	    (a->has_owner_gid && a->owner_gid != b->owner_gid) ||
	    !same_str(a->kernel, b->kernel) || !same_str(a->initrd, b->initrd) ||
	    !same_str(a->cmdline, b->cmdline) || !same_str(a->bios, b->bios) ||
	    !same_str(a->vnc_listen, b->vnc_listen) ||
	    !same_str(a->vnc_password_file, b->vnc_password_file))
		return false;
	for (i = 0; i < a->ndisk; i++)
		if (strcmp(a->disk[i], b->disk[i]))
			return false;
	for (i = 0; i < a->nnet; i++)
		if (a->net[i].nfwd != b->net[i].nfwd ||
		    memcmp(a->net[i].fwd, b->net[i].fwd, a->net[i].nfwd * sizeof(struct hostfwd)))
			return false;
	return true;
}

int config_parse_string(struct config *cfg, const char *file, const char *text,
			char *err, size_t errlen)
{
	struct parser ps;
	size_t i;

	memset(&ps, 0, sizeof(ps));
	ps.file = file;
	ps.p = text;
	ps.line = 1;
	ps.err = err;
	ps.errlen = errlen;
	ps.cfg = cfg;
	if (err && errlen)
		err[0] = '\0';
	next(&ps);
	parse_top(&ps);
	for (i = 0; i < ps.nmacro; i++)
		free(ps.macro[i].value);
	return ps.nerr ? -1 : 0;
}

int config_parse_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
	FILE *f;
	char *text;
	size_t n;
	int r;

	f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	text = malloc(CONFIG_MAX_FILE + 1);
	if (!text) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	n = fread(text, 1, CONFIG_MAX_FILE + 1, f);
	if (ferror(f) || n > CONFIG_MAX_FILE) {
		snprintf(err, errlen, "%s: %s", path,
			 ferror(f) ? "read error" : "larger than 1 MiB");
		fclose(f);
		free(text);
		return -1;
	}
	fclose(f);
	text[n] = '\0';
	if (strlen(text) != n) {
		snprintf(err, errlen, "%s: NUL byte in the file", path);
		free(text);
		return -1;
	}
	r = config_parse_string(cfg, path, text, err, errlen);
	free(text);
	return r;
}
