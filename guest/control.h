/*
 * The control channel from vmd: JSON-RPC 2.0 lines (proto/proto.h) on an
 * inherited socket. Requests: status, pause, resume, reset, powerdown,
 * quit. Notifications sent: state {"state"} on changes, shutdown
 * {"reason", "code"} just before the process exits.
 */
#ifndef GUEST_CONTROL_H
#define GUEST_CONTROL_H

#include <stddef.h>

struct guest;
struct control;

struct control *control_new(struct guest *g, int fd, char *err, size_t errlen);
/* Notifications; silently nothing if vmd went away. */
void control_notify_state(struct control *c, const char *state, const char *why);
void control_notify_shutdown(struct control *c, const char *reason, int code);
/* Writes what is queued, waiting at most timeout_ms (at exit). */
void control_flush(struct control *c, int timeout_ms);
void control_free(struct control *c);

#endif
