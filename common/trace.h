/*
 * The protocol trace: one line per frame and per message a side sends or
 * receives, for protocol researchers and for debugging an implementation
 * against this one.  The server turns it on with --trace, the library and
 * the CLI with $XLICEN_TRACE.  It shows frame headers, HELLO and ALERT
 * fields, every TLV of every message by name (plaintext, before gss_wrap
 * and after gss_unwrap), and of GSS tokens only their length and their
 * first bytes (the token header: mechanism OID, token id, flags,
 * sequence number).  It never shows key material: no keys, no ciphertext
 * beyond those header bytes.
 */
#ifndef XLICEN_TRACE_H
#define XLICEN_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "limits.h"

/*
 * Turn the trace on or off for this process.  spec NULL, "" or "0": off;
 * "1", "-" or "stderr": standard error; anything else: a file, opened for
 * appending (created 0600, close-on-exec).  Returns 0, or
 * XLICEN_E_IO with the reason in err (the trace stays off).  Not for
 * concurrent use with tracing threads (call it once at start).
 */
int trace_open(const char *spec, char *err, size_t errlen);
/* The trace file's name as given to trace_open, or NULL when the trace
 * is off or goes to standard error. */
const char *trace_file(void);
/*
 * Open the trace file again by its name (after logrotate renamed it):
 * created 0600 if missing, appended to, and from then on every line goes
 * there.  No-op (0) when the trace is off or on standard error.  Returns
 * 0, or XLICEN_E_IO with strerror's text in err: the trace then goes on
 * in the file it was.  Safe while other threads trace.
 */
int trace_reopen(char *err, size_t errlen);
/* Give the trace file to uid:gid (the user a server drops to), so that
 * it can still reopen it.  0 (also without a trace file), or XLICEN_E_IO
 * with strerror's text in err. */
int trace_chown(uid_t uid, gid_t gid, char *err, size_t errlen);
/* Close a trace file (the trace is off afterwards). */
void trace_close(void);
/* Whether the trace is on (callers skip building its input otherwise). */
int trace_on(void);

/*
 * Trace the complete frames in p..p+n (bytes a side just queued or
 * received), one line each; who names the peer, dir is "send" or "recv".
 * HELLO and ALERT bodies are decoded, CONTEXT and DATA tokens shown by
 * length and head.  Each line is written whole (safe across threads).
 */
void trace_frames(const char *who, const char *dir, const uint8_t *p,
    size_t n);

/* Trace one frame already split from the stream (type, body of len). */
void trace_frame(const char *who, const char *dir, uint8_t type,
    const uint8_t *body, uint32_t len);

/* Trace one plaintext message (the bytes inside a DATA frame's gss_wrap
 * token): type, id and every TLV by name; unknown tags in hex; a malformed
 * message is shown as far as it parses. */
void trace_msg(const char *who, const char *dir, const uint8_t *p, size_t n);

#endif
