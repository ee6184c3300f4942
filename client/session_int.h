/*
 * The session's internals that the library's other modules use
 * (client/admin.c): not part of the public API, not exported.
 */
#ifndef XLICEN_SESSION_INT_H
#define XLICEN_SESSION_INT_H

#include "xlicen.h"
#include "msg.h"

/*
 * One request/reply on s, connecting first if needed (the session's own
 * sess_request: same retry of a dropped idle connection, same timeout).
 * *reply is initialised and owned by the caller (msg_clear).  Returns 0
 * when a reply arrived (also a DENY or ERROR), or the session's error.
 */
int session_request(xlicen_session *s, struct msg *req, struct msg *reply);

/* Record a failure for xlicen_errmsg() (prefixed with the server, as the
 * session does); returns code. */
int session_seterr(xlicen_session *s, int code, const char *text);

/* The display set with xlicen_set_display(), or NULL ($DISPLAY). */
const char *session_display(const xlicen_session *s);

#endif
