#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

/* The documented exception to "no global mutable state": see log.h. */
static struct {
	const char *prog;
	bool syslog;
	int verbose;
} log_cfg = { "vmd", false, 0 };

void log_init(const char *prog, bool use_syslog, int verbose)
{
	log_cfg.prog = prog;
	log_cfg.syslog = use_syslog;
	log_cfg.verbose = verbose;
	if (use_syslog)
		openlog(prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

bool log_debug_enabled(void)
{
	return log_cfg.verbose > 0;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *tag[] = { "error: ", "warning: ", "", "debug: " };
	va_list ap;

	va_start(ap, fmt);
	if (log_cfg.syslog) {
		vsyslog(prio[lvl], fmt, ap);
	} else {
		fprintf(stderr, "%s: %s", log_cfg.prog, tag[lvl]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}
