/*
 * Logging for all vmd programs, to stderr or syslog.
 *
 * The destination and verbosity are the one piece of process-wide state in
 * the project: they are set once at start-up (log_init) and never change the
 * behaviour of a machine, so several machines can still share a process.
 */
#ifndef LIB_LOG_H
#define LIB_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* prog: the name to prefix; use_syslog: else stderr; verbose: 0 info, 1+ debug. */
void log_init(const char *prog, bool use_syslog, int verbose);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool log_debug_enabled(void);

#define log_err(...)   log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) do { if (log_debug_enabled()) log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

#endif
