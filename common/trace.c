/*
 * The protocol trace (see trace.h).  Lines are built in memory and written
 * with one call under the stream's lock, so the lines of two threads (or
 * of a server's connections) never interleave.  Formatting walks the
 * bytes with buf_reader and names tags through msg.c's tables, so a trace
 * shows exactly what is on the wire, also what the codec would refuse.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "frame.h"
#include "hex.h"
#include "msg.h"
#include "trace.h"

static FILE *trace_fp;
static int trace_own;		/* trace_fp is our file, not stderr */
static char *trace_path;	/* its name, for trace_reopen */

/* Purpose: the trace file, appended to, private to its owner. */
static int
trace_open_path(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
	    O_NOCTTY, 0600);
}

int
trace_open(const char *spec, char *err, size_t errlen)
{
	FILE *fp;
	int fd;

	trace_close();
	if (spec == NULL || spec[0] == '\0' || strcmp(spec, "0") == 0)
		return 0;
	if (strcmp(spec, "1") == 0 || strcmp(spec, "-") == 0 ||
	    strcmp(spec, "stderr") == 0) {
		trace_fp = stderr;
		return 0;
	}
	fd = trace_open_path(spec);
	if (fd < 0 || (fp = fdopen(fd, "a")) == NULL) {
		err_setf(err, errlen, "trace file %s: %s", spec,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return XLICEN_E_IO;
	}
	if ((trace_path = strdup(spec)) == NULL) {
		err_setf(err, errlen, "trace file %s: out of memory", spec);
		fclose(fp);
		return XLICEN_E_IO;
	}
	setvbuf(fp, NULL, _IOLBF, 0);
	trace_fp = fp;
	trace_own = 1;
	return 0;
}

const char *
trace_file(void)
{
	return trace_own ? trace_path : NULL;
}

int
trace_reopen(char *err, size_t errlen)
{
	int fd, e;

	if (!trace_own || trace_fp == NULL)
		return 0;
	if ((fd = trace_open_path(trace_path)) < 0) {
		e = errno;
		err_setf(err, errlen, "%s", strerror(e));
		return XLICEN_E_IO;
	}
	/* Under the stream's lock (trace_emit writes and flushes a line
	 * under it): what is buffered goes to the old file, every later
	 * line to the new one, and no thread sees the stream without a
	 * file.  dup3 keeps the descriptor number fp was made on. */
	flockfile(trace_fp);
	fflush(trace_fp);
	if (dup3(fd, fileno(trace_fp), O_CLOEXEC) < 0) {
		e = errno;
		funlockfile(trace_fp);
		close(fd);
		err_setf(err, errlen, "%s", strerror(e));
		return XLICEN_E_IO;
	}
	funlockfile(trace_fp);
	close(fd);
	return 0;
}

int
trace_chown(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	if (!trace_own || trace_fp == NULL ||
	    fchown(fileno(trace_fp), uid, gid) == 0)
		return 0;
	err_setf(err, errlen, "%s", strerror(errno));
	return XLICEN_E_IO;
}

void
trace_close(void)
{
	if (trace_own && trace_fp != NULL)
		fclose(trace_fp);
	free(trace_path);
	trace_path = NULL;
	trace_fp = NULL;
	trace_own = 0;
}

int
trace_on(void)
{
	return trace_fp != NULL;
}

static void trace_addf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Append printf output to b (a failed allocation shortens the line). */
static void
trace_addf(struct buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)buf_put_bytes(b, tmp, (size_t)n < sizeof(tmp) ?
		    (size_t)n : sizeof(tmp) - 1);
}

/* Lowercase hex of p, through the one hex encoder, 16 bytes at a time. */
static void
trace_hex(struct buf *b, const uint8_t *p, size_t n)
{
	char chunk[2 * 16 + 1];
	size_t k;

	while (n > 0) {
		k = n < 16 ? n : 16;
		hex_encode(p, k, chunk);
		(void)buf_put_bytes(b, chunk, 2 * k);
		p += k;
		n -= k;
	}
}

/* A string value in double quotes: printable ASCII as is (" and \
 * escaped), UTF-8 as is when the whole value is valid, else \xNN. */
static void
trace_str(struct buf *b, const uint8_t *p, size_t n)
{
	int utf8 = buf_utf8_valid(p, n);
	size_t i;

	(void)buf_put_u8(b, '"');
	for (i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\')
			trace_addf(b, "\\%c", p[i]);
		else if ((p[i] >= 0x20 && p[i] < 0x7f) || (p[i] >= 0x80 && utf8))
			(void)buf_put_u8(b, p[i]);
		else
			trace_addf(b, "\\x%02x", p[i]);
	}
	(void)buf_put_u8(b, '"');
}

/* Write the finished line b (a newline added) as one unit. */
static void
trace_emit(struct buf *b)
{
	FILE *fp = trace_fp;

	if (fp == NULL || buf_put_u8(b, '\n') != 0)
		return;
	flockfile(fp);
	fwrite(b->data, 1, b->len, fp);
	fflush(fp);
	funlockfile(fp);
}

static void
trace_frame_body(struct buf *b, uint8_t type, const uint8_t *body,
    uint32_t len)
{
	struct frame_hello_client hc;
	struct frame_hello_server hs;
	struct frame_alert a;

	switch (type) {
	case FRAME_HELLO:
		if (frame_hello_client_decode(body, len, &hc) == 0)
			trace_addf(b, " min_version=%u max_version=%u",
			    hc.min_version, hc.max_version);
		else if (frame_hello_server_decode(body, len, &hs) == 0)
			trace_addf(b, " version=%u time=%" PRId64, hs.version,
			    hs.time);
		else
			trace_addf(b, " malformed");
		return;
	case FRAME_ALERT:
		if (frame_alert_decode(body, len, &a) != 0) {
			trace_addf(b, " malformed");
			return;
		}
		trace_addf(b, " code=%u %s reason=", a.code, err_name(-(int)a.code));
		trace_str(b, (const uint8_t *)a.reason, strlen(a.reason));
		return;
	case FRAME_CONTEXT:
	case FRAME_DATA:
		/* The token's head only: never keys nor ciphertext. */
		trace_addf(b, " token_head=");
		trace_hex(b, body, len < LIMIT_TRACE_TOKEN_HEAD ? len :
		    LIMIT_TRACE_TOKEN_HEAD);
		return;
	}
}

static const char *
trace_frame_name(uint8_t type)
{
	static const char *const names[] = { "?", "HELLO", "CONTEXT", "DATA",
	    "ALERT" };

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}

void
trace_frame(const char *who, const char *dir, uint8_t type,
    const uint8_t *body, uint32_t len)
{
	struct buf b;

	if (trace_fp == NULL)
		return;
	buf_init(&b);
	trace_addf(&b, "xlicen-trace %s %s frame %s len=%" PRIu32, who, dir,
	    trace_frame_name(type), len);
	trace_frame_body(&b, type, body, len);
	trace_emit(&b);
	buf_free(&b);
}

void
trace_frames(const char *who, const char *dir, const uint8_t *p, size_t n)
{
	struct buf_reader r;
	const uint8_t *body;
	uint32_t len;
	uint8_t type;
	size_t left;

	if (trace_fp == NULL)
		return;
	buf_reader_init(&r, p, n);
	while ((left = buf_reader_avail(&r)) > 0) {
		if (buf_get_u8(&r, &type) != 0 || buf_get_u32(&r, &len) != 0 ||
		    buf_get_bytes(&r, len, &body) != 0) {
			struct buf b;

			buf_init(&b);
			trace_addf(&b, "xlicen-trace %s %s frame partial "
			    "(%zu bytes)", who, dir, left);
			trace_emit(&b);
			buf_free(&b);
			break;
		}
		trace_frame(who, dir, type, body, len);
	}
}

/* The TLVs of r, recursing once into POOL, HOLDER and ROW values. */
static void
trace_tlvs(struct buf *b, struct buf_reader *r, int depth)
{
	const uint8_t *v;
	const char *name;
	uint16_t tag, len;
	uint64_t u;
	int kind;
	size_t i, left;

	while ((left = buf_reader_avail(r)) > 0) {
		if (buf_get_u16(r, &tag) != 0 || buf_get_u16(r, &len) != 0 ||
		    buf_get_bytes(r, len, &v) != 0) {
			/* The bytes of the TLV that runs past the end. */
			trace_addf(b, " truncated(%zu bytes)", left);
			return;
		}
		name = msg_tag_info(tag & ~MSG_TAG_CRITICAL, &kind);
		if (name != NULL)
			trace_addf(b, " %s%s=", name,
			    (tag & MSG_TAG_CRITICAL) ? "!" : "");
		else
			trace_addf(b, " TAG%u%s=", tag & ~MSG_TAG_CRITICAL,
			    (tag & MSG_TAG_CRITICAL) ? "!" : "");
		if (kind == MSG_KIND_STR) {
			trace_str(b, v, len);
		} else if (kind == MSG_KIND_LIST && depth == 0) {
			struct buf_reader sub;

			buf_reader_init(&sub, v, len);
			trace_addf(b, "{");
			trace_tlvs(b, &sub, 1);
			trace_addf(b, " }");
		} else if ((kind == MSG_KIND_U8 && len == 1) ||
		    (kind == MSG_KIND_U16 && len == 2) ||
		    (kind == MSG_KIND_U32 && len == 4) ||
		    (kind == MSG_KIND_U64 && len == 8)) {
			for (u = 0, i = 0; i < len; i++)
				u = u << 8 | v[i];
			trace_addf(b, "%" PRIu64, u);
		} else {
			trace_addf(b, "0x");
			trace_hex(b, v, len);
		}
	}
}

void
trace_msg(const char *who, const char *dir, const uint8_t *p, size_t n)
{
	struct buf_reader r;
	uint16_t type;
	uint32_t id;
	struct buf b;

	if (trace_fp == NULL)
		return;
	buf_init(&b);
	buf_reader_init(&r, p, n);
	trace_addf(&b, "xlicen-trace %s %s msg", who, dir);
	if (buf_get_u16(&r, &type) != 0 || buf_get_u32(&r, &id) != 0) {
		trace_addf(&b, " truncated(%zu bytes)", n);
	} else {
		trace_addf(&b, " %s(0x%04x) id=%" PRIu32, msg_type_name(type),
		    type, id);
		trace_tlvs(&b, &r, 0);
	}
	trace_emit(&b);
	buf_free(&b);
}
