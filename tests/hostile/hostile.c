/*
 * xlicen-hostile: a gss-xlicen client that breaks the protocol on purpose,
 * one way per case, and checks that the server answers exactly as
 * docs/PROTOCOL.md says: the named ALERT code followed by a clean close, a
 * DENY that leaves the connection usable, or a silent drop.  It speaks the
 * wire by hand (frame, msg and gssx codecs of common/, GSS-API directly) so
 * it can send what no real client would.  tests/hostile/run.sh runs it
 * against a live gss-xlicend and a throwaway KDC.
 *
 *   xlicen-hostile CASE HOST PORT       run one case
 *   xlicen-hostile churn HOST PORT N    N bad connections of several kinds
 *   xlicen-hostile list                 every case, with what it expects
 *
 * Exit 0: the server behaved as specified (one line on stdout says what it
 * sent); 1: it did not (one line on stderr says what differed); 2: usage
 * or a local failure (no tickets, no memory).
 *
 * Environment: the krb5 variables of the test realm (KRB5CCNAME: whose
 * tickets); XLICEN_SERVICE, the target (default gss-xlicen@localhost);
 * HOSTILE_HANDSHAKE_S and HOSTILE_IDLE_S, the server's handshake and idle
 * deadlines (case "silent"); HOSTILE_MAX_PER_PEER and HOSTILE_MAX_TOTAL,
 * its connection caps (case "flood"); HOSTILE_SERVER_PID, whose memory
 * case "no-read" watches, and HOSTILE_NOREAD_N, how many requests it
 * sends.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>

#include "buf.h"
#include "err.h"
#include "frame.h"
#include "gssx.h"
#include "limits.h"
#include "procinfo.h"
#include "msg.h"

#define EX_OK		0
#define EX_BAD		1	/* the server did not behave as specified */
#define EX_LOCAL	2	/* usage or a failure on our side */

/* How long to wait for any one answer, and for the close after an ALERT
 * (the server shuts its side down right after flushing the ALERT). */
#define WAIT_REPLY_MS	5000
#define WAIT_CLOSE_MS	3000

#define DEFAULT_TARGET	"gss-xlicen@localhost"
#define OTHER_TARGET	"other@localhost"

/* The flags a well-behaved client asks for (PROTOCOL.md section 5). */
#define GOOD_FLAGS	GSSX_REQUIRED_FLAGS

static const char *g_host, *g_port;
static char g_why[1024];	/* what differed (EX_BAD) or failed (EX_LOCAL) */
static char g_note[1024];	/* what the server did (EX_OK) */
static int g_churn;		/* in `churn`: skip waits for things that
				 * must not happen (one case checks them) */
static const char *g_reason;	/* every ALERT of this case must carry this
				 * reason (the spec names it), or NULL */

static int
bad(const char *fmt, ...)
{
	char tmp[1024];	/* the arguments may quote g_why or g_note */
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	memcpy(g_why, tmp, sizeof(g_why));
	return EX_BAD;
}

static int
local(const char *fmt, ...)
{
	char tmp[1024];	/* the arguments may quote g_why or g_note */
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	memcpy(g_why, tmp, sizeof(g_why));
	return EX_LOCAL;
}

static int
good(const char *fmt, ...)
{
	char tmp[1024];	/* the arguments may quote g_why or g_note */
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	memcpy(g_note, tmp, sizeof(g_note));
	return EX_OK;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* An error code as "NAME (wire)". */
static const char *
code_text(int code)
{
	static char s[4][48];
	static int k;
	int wire = code < 0 ? -code : code;

	k = (k + 1) % 4;
	snprintf(s[k], sizeof(s[k]), "%s (%d)", err_name(-wire), wire);
	return s[k];
}

static const char *
frame_name(uint8_t type)
{
	switch (type) {
	case FRAME_HELLO: return "HELLO";
	case FRAME_CONTEXT: return "CONTEXT";
	case FRAME_DATA: return "DATA";
	case FRAME_ALERT: return "ALERT";
	}
	return "unknown";
}

/* ---- one connection ---------------------------------------------------- */

struct hconn {
	int fd;
	struct frame_dec dec;
	uint8_t in[16384];	/* received, not yet fed to dec */
	size_t in_len, in_off;
	gss_ctx_id_t ctx;
	OM_uint32 ret_flags;	/* of the initiator's completed context */
	struct buf first_token;	/* the first CONTEXT token sent (AP-REQ) */
	uint32_t next_id;
	int64_t opened_ms;
};

enum rd_result {
	RD_FRAME = 1,
	RD_EOF = 0,
	RD_TIMEOUT = -1,
	RD_RESET = -2,
	RD_ERROR = -3,
	RD_BADFRAME = -4,
};

static void
hc_init(struct hconn *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->ctx = GSS_C_NO_CONTEXT;
	frame_dec_init(&c->dec, LIMIT_FRAME_POSTAUTH);
	buf_init(&c->first_token);
	c->next_id = 1;
}

static void
hc_close(struct hconn *c)
{
	OM_uint32 min;

	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&min, &c->ctx, GSS_C_NO_BUFFER);
	frame_dec_free(&c->dec);
	buf_free(&c->first_token);
}

/* Connect to g_host:g_port, from source address src if not NULL. */
static int
hc_open_from(struct hconn *c, const char *src)
{
	struct addrinfo hints, *res = NULL;
	struct timeval tv = { 5, 0 };
	int one = 1, rc;

	hc_init(c);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((rc = getaddrinfo(g_host, g_port, &hints, &res)) != 0)
		return local("%s:%s: %s", g_host, g_port, gai_strerror(rc));
	c->fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC,
	    res->ai_protocol);
	if (c->fd < 0) {
		freeaddrinfo(res);
		return local("socket: %s", strerror(errno));
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* A send to a server that stopped reading must not hang the test. */
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (src != NULL && procinfo_bind_source(c->fd, src, 0) != 0) {
		freeaddrinfo(res);
		return local("bind to source %s: %s", src, strerror(errno));
	}
	if (connect(c->fd, res->ai_addr, res->ai_addrlen) != 0) {
		rc = errno;
		freeaddrinfo(res);
		return bad("connect %s:%s: %s", g_host, g_port, strerror(rc));
	}
	freeaddrinfo(res);
	c->opened_ms = procinfo_now_ms();
	return 0;
}

static int
hc_open(struct hconn *c)
{
	return hc_open_from(c, NULL);
}

/* Send bytes as they are.  A server that already closed may make this
 * fail; the caller decides whether that matters (it returns -1). */
static int
hc_send_raw(struct hconn *c, const void *p, size_t n)
{
	const uint8_t *q = p;
	ssize_t k;

	while (n > 0) {
		k = send(c->fd, q, n, MSG_NOSIGNAL);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		q += k;
		n -= (size_t)k;
	}
	return 0;
}

/* A frame header with any type and length (frame_header refuses the
 * invalid ones, which is the point here). */
static int
hc_send_header(struct hconn *c, uint8_t type, uint32_t len)
{
	uint8_t h[LIMIT_FRAME_HDR];

	h[0] = type;
	h[1] = (uint8_t)(len >> 24);
	h[2] = (uint8_t)(len >> 16);
	h[3] = (uint8_t)(len >> 8);
	h[4] = (uint8_t)len;
	return hc_send_raw(c, h, sizeof(h));
}

static int
hc_send_frame(struct hconn *c, uint8_t type, const void *body, size_t len)
{
	struct buf b;
	int rc;

	buf_init(&b);
	if (frame_encode(&b, type, body, len) != 0) {
		buf_free(&b);
		return local("cannot encode a %s frame of %zu bytes",
		    frame_name(type), len);
	}
	rc = hc_send_raw(c, b.data, b.len);
	buf_free(&b);
	if (rc != 0)
		return bad("send of a %s frame failed: %s", frame_name(type),
		    strerror(errno));
	return 0;
}

/* Read the next frame within timeout_ms; RD_*. */
static int
hc_read_frame(struct hconn *c, int timeout_ms, struct frame *f)
{
	int64_t end = procinfo_now_ms() + timeout_ms, left;
	struct pollfd pfd;
	size_t used;
	ssize_t n;
	int rc;

	memset(f, 0, sizeof(*f));
	for (;;) {
		while (c->in_off < c->in_len) {
			rc = frame_dec_feed(&c->dec, c->in + c->in_off,
			    c->in_len - c->in_off, &used, f);
			c->in_off += used;
			if (rc < 0)
				return RD_BADFRAME;
			if (rc == 1)
				return RD_FRAME;
		}
		c->in_off = c->in_len = 0;
		if ((left = end - procinfo_now_ms()) <= 0)
			return RD_TIMEOUT;
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return RD_ERROR;
		if (rc == 0)
			return RD_TIMEOUT;
		n = recv(c->fd, c->in, sizeof(c->in), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == ECONNRESET ? RD_RESET : RD_ERROR;
		if (n == 0)
			return RD_EOF;
		c->in_len = (size_t)n;
	}
}

/* 1 if nothing is readable on c (no data, no EOF) right now. */
static int
hc_quiet(struct hconn *c)
{
	struct pollfd pfd;

	pfd.fd = c->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	return c->in_off == c->in_len && poll(&pfd, 1, 0) == 0;
}

static const char *
rd_text(int rd)
{
	switch (rd) {
	case RD_EOF: return "the connection was closed";
	case RD_TIMEOUT: return "nothing arrived in time";
	case RD_RESET: return "the connection was reset";
	case RD_BADFRAME: return "the server sent a malformed frame";
	}
	return "recv failed";
}

/* After an ALERT: the server must close (FIN, not RST) and send nothing. */
static int
hc_expect_close(struct hconn *c, const char *after)
{
	struct frame f;
	int rd;

	rd = hc_read_frame(c, WAIT_CLOSE_MS, &f);
	if (rd == RD_EOF)
		return 0;
	if (rd == RD_FRAME) {
		frame_free(&f);
		return bad("a %s frame followed %s", frame_name(f.type), after);
	}
	return bad("no clean close after %s: %s", after, rd_text(rd));
}

/*
 * Expect an ALERT with code want (negative XLICEN_E_*), then a clean close.
 * CONTEXT frames before it are allowed if allow_ctx (the error token a
 * failed GSS call may produce goes out first).  On success g_note says
 * what arrived and *alert (if not NULL) holds it.
 */
static int
hc_expect_alert_ex(struct hconn *c, int want, int allow_ctx,
    struct frame_alert *alert)
{
	struct frame_alert a;
	struct frame f;
	int rd, rc, nctx = 0;

	for (;;) {
		rd = hc_read_frame(c, WAIT_REPLY_MS, &f);
		if (rd != RD_FRAME)
			return bad("expected ALERT %s, but %s", code_text(want),
			    rd_text(rd));
		if (f.type == FRAME_CONTEXT && allow_ctx) {
			frame_free(&f);
			nctx++;
			continue;
		}
		if (f.type != FRAME_ALERT) {
			uint32_t len = f.len;

			frame_free(&f);
			return bad("expected ALERT %s, got a %s frame of %u bytes",
			    code_text(want), frame_name(f.type), len);
		}
		rc = frame_alert_decode(f.body, f.len, &a);
		frame_free(&f);
		if (rc != 0)
			return bad("expected ALERT %s, got an undecodable ALERT "
			    "(%s)", code_text(want), err_name(rc));
		break;
	}
	if (-(int)a.code != want)
		return bad("expected ALERT %s, got ALERT %s \"%s\"",
		    code_text(want), code_text(a.code), a.reason);
	if (g_reason != NULL && strcmp(a.reason, g_reason) != 0)
		return bad("ALERT %s has the reason \"%s\", PROTOCOL.md says "
		    "\"%s\"", code_text(want), a.reason, g_reason);
	if ((rc = hc_expect_close(c, "the ALERT")) != 0)
		return rc;
	if (alert != NULL)
		*alert = a;
	return good("ALERT %s \"%s\"%s", code_text(a.code), a.reason,
	    nctx > 0 ? " (after a CONTEXT error token)" : "");
}

static int
hc_expect_alert(struct hconn *c, int want)
{
	return hc_expect_alert_ex(c, want, 0, NULL);
}

/* Send HELLO (min, max). */
static int
hc_send_hello(struct hconn *c, uint16_t min, uint16_t max)
{
	uint8_t b[4] = { (uint8_t)(min >> 8), (uint8_t)min,
	    (uint8_t)(max >> 8), (uint8_t)max };

	return hc_send_frame(c, FRAME_HELLO, b, sizeof(b));
}

/* Read the server HELLO and check it. */
static int
hc_read_hello(struct hconn *c)
{
	struct frame_hello_server h;
	struct frame_alert a;
	struct frame f;
	int rd, rc;

	rd = hc_read_frame(c, WAIT_REPLY_MS, &f);
	if (rd != RD_FRAME)
		return bad("expected the server HELLO, but %s", rd_text(rd));
	if (f.type == FRAME_ALERT && frame_alert_decode(f.body, f.len, &a) == 0) {
		frame_free(&f);
		return bad("expected the server HELLO, got ALERT %s \"%s\"",
		    code_text(a.code), a.reason);
	}
	if (f.type != FRAME_HELLO) {
		frame_free(&f);
		return bad("expected the server HELLO, got a %s frame",
		    frame_name(f.type));
	}
	rc = frame_hello_server_decode(f.body, f.len, &h);
	frame_free(&f);
	if (rc != 0)
		return bad("malformed server HELLO: %s", err_name(rc));
	if (h.version != XLICEN_PROTO_VERSION)
		return bad("server HELLO chose version %u", h.version);
	return 0;
}

static int
hc_hello(struct hconn *c)
{
	int rc;

	if ((rc = hc_send_hello(c, 1, 1)) != 0)
		return rc;
	return hc_read_hello(c);
}

/* *alert_code of hc_context_ex: the server sent an error token (its
 * ALERT is still to be read).  Not an error code. */
#define CTX_ERROR_TOKEN	1

/*
 * The GSS context loop towards target with req_flags.  Returns 0 when the
 * initiator's context is complete (c->ret_flags set), EX_BAD if the server
 * answered with anything but good CONTEXT tokens (*alert_code gets its
 * ALERT code, CTX_ERROR_TOKEN if it sent an error token that our GSS call
 * refused, 0 otherwise), EX_LOCAL if our own first GSS call failed.
 */
static int
hc_context_ex(struct hconn *c, const char *target, OM_uint32 req_flags,
    int *alert_code)
{
	OM_uint32 maj, min;
	gss_buffer_desc in = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER;
	gss_name_t name = GSS_C_NO_NAME;
	struct frame f;
	struct frame_alert a;
	char text[512];
	int rc, rd, first = 1, first_call = 1;

	memset(&f, 0, sizeof(f));
	if (alert_code != NULL)
		*alert_code = 0;
	if (gssx_import_service(target, &name, text, sizeof(text)) != 0)
		return local("import %s: %s", target, text);
	for (;;) {
		maj = gss_init_sec_context(&min, GSS_C_NO_CREDENTIAL, &c->ctx,
		    name, (gss_OID)gss_mech_krb5, req_flags, 0,
		    GSS_C_NO_CHANNEL_BINDINGS, f.body != NULL ? &in : GSS_C_NO_BUFFER,
		    NULL, &out, &c->ret_flags, NULL);
		frame_free(&f);
		if (out.length > 0) {
			if (first && buf_put_bytes(&c->first_token, out.value,
			    out.length) != 0) {
				rc = local("out of memory");
				goto out;
			}
			first = 0;
			rc = hc_send_frame(c, FRAME_CONTEXT, out.value, out.length);
			gss_release_buffer(&min, &out);
			if (rc != 0)
				goto out;
		}
		if (GSS_ERROR(maj)) {
			gssx_status_text(maj, min, text, sizeof(text));
			/* Failing on the server's token: it was an error
			 * token (KRB-ERROR); its ALERT follows. */
			if (!first_call)
				rc = bad("the server's CONTEXT token failed: %s",
				    text);
			else
				rc = local("gss_init_sec_context: %s", text);
			if (!first_call && alert_code != NULL)
				*alert_code = CTX_ERROR_TOKEN;
			goto out;
		}
		first_call = 0;
		if (!(maj & GSS_S_CONTINUE_NEEDED)) {
			rc = 0;
			goto out;
		}
		rd = hc_read_frame(c, WAIT_REPLY_MS, &f);
		if (rd != RD_FRAME) {
			rc = bad("in the context loop, %s", rd_text(rd));
			goto out;
		}
		if (f.type == FRAME_ALERT) {
			if (frame_alert_decode(f.body, f.len, &a) != 0) {
				rc = bad("undecodable ALERT in the context loop");
			} else {
				if (alert_code != NULL)
					*alert_code = -(int)a.code;
				rc = bad("in the context loop, ALERT %s \"%s\"",
				    code_text(a.code), a.reason);
			}
			frame_free(&f);
			goto out;
		}
		if (f.type != FRAME_CONTEXT) {
			rc = bad("in the context loop, a %s frame",
			    frame_name(f.type));
			frame_free(&f);
			goto out;
		}
		in.value = f.body;
		in.length = f.len;
	}
out:
	gss_release_buffer(&min, &out);
	gss_release_name(&min, &name);
	return rc;
}

static const char *
target_name(void)
{
	const char *t = getenv("XLICEN_SERVICE");

	return t != NULL && t[0] != '\0' ? t : DEFAULT_TARGET;
}

/* Connect, HELLO, and a good context: the connection is OPEN. */
static int
hc_open_ctx(struct hconn *c)
{
	int rc;

	if ((rc = hc_open(c)) != 0 || (rc = hc_hello(c)) != 0)
		return rc;
	if ((rc = hc_context_ex(c, target_name(), GOOD_FLAGS, NULL)) != 0)
		return rc;
	if (!gssx_flags_ok(c->ret_flags))
		return local("our own context lacks required flags (0x%x)",
		    (unsigned)c->ret_flags);
	return 0;
}

/* Wrap plaintext with confidentiality and send it as a DATA frame. */
static int
hc_send_wrapped(struct hconn *c, const struct buf *plain)
{
	struct buf fr;
	char err[256];
	int rc;

	buf_init(&fr);
	rc = gssx_wrap_frame(c->ctx, plain->data, plain->len, &fr, err,
	    sizeof(err));
	if (rc != 0) {
		buf_free(&fr);
		return local("gssx_wrap_frame: %s", err);
	}
	rc = hc_send_raw(c, fr.data, fr.len);
	buf_free(&fr);
	if (rc != 0)
		return bad("send of a DATA frame failed: %s", strerror(errno));
	return 0;
}

/* gss_wrap with the given conf_req_flag, the token (not framed) in tok. */
static int
hc_wrap_token(struct hconn *c, const struct buf *plain, int conf,
    struct buf *tok, int *conf_state)
{
	OM_uint32 maj, min;
	gss_buffer_desc in, out = GSS_C_EMPTY_BUFFER;
	char text[256];
	int rc = 0;

	in.value = plain->data;
	in.length = plain->len;
	maj = gss_wrap(&min, c->ctx, conf, GSS_C_QOP_DEFAULT, &in, conf_state,
	    &out);
	if (GSS_ERROR(maj)) {
		gssx_status_text(maj, min, text, sizeof(text));
		rc = local("gss_wrap: %s", text);
	} else if (buf_put_bytes(tok, out.value, out.length) != 0) {
		rc = local("out of memory");
	}
	gss_release_buffer(&min, &out);
	return rc;
}

/* Read one DATA reply and decode it into *m (msg_clear it after). */
static int
hc_read_msg(struct hconn *c, struct msg *m)
{
	struct frame_alert a;
	struct frame f;
	struct buf plain;
	char err[256];
	int rd, rc;

	msg_init(m, 0, 0);
	rd = hc_read_frame(c, WAIT_REPLY_MS, &f);
	if (rd != RD_FRAME)
		return bad("expected a reply, but %s", rd_text(rd));
	if (f.type == FRAME_ALERT) {
		rc = frame_alert_decode(f.body, f.len, &a);
		frame_free(&f);
		if (rc != 0)
			return bad("expected a reply, got an undecodable ALERT");
		return bad("expected a reply, got ALERT %s \"%s\"",
		    code_text(a.code), a.reason);
	}
	if (f.type != FRAME_DATA) {
		frame_free(&f);
		return bad("expected a DATA reply, got a %s frame",
		    frame_name(f.type));
	}
	buf_init(&plain);
	rc = gssx_unwrap(c->ctx, f.body, f.len, &plain, err, sizeof(err));
	frame_free(&f);
	if (rc != 0) {
		buf_free(&plain);
		return bad("reply does not unwrap: %s", err);
	}
	rc = msg_decode(plain.data, plain.len, m);
	buf_free(&plain);
	if (rc != 0)
		return bad("reply does not decode: %s", code_text(rc));
	return 0;
}

/* ---- crafting plaintext messages --------------------------------------- */

/* Builders never fail but for lack of memory, which ends the program. */
static void
must(int rc)
{
	if (rc != 0) {
		fprintf(stderr, "xlicen-hostile: out of memory\n");
		exit(EX_LOCAL);
	}
}

static void
m_hdr(struct buf *b, uint16_t type, uint32_t id)
{
	must(buf_put_u16(b, type));
	must(buf_put_u32(b, id));
}

static void
m_tlv(struct buf *b, uint16_t tag, const void *v, size_t n)
{
	must(buf_put_u16(b, tag));
	must(buf_put_u16(b, (uint16_t)n));
	must(buf_put_bytes(b, v, n));
}

static void
m_str(struct buf *b, uint16_t tag, const char *s)
{
	m_tlv(b, tag, s, strlen(s));
}

static void
m_u32(struct buf *b, uint16_t tag, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v };

	m_tlv(b, tag, x, sizeof(x));
}

static void
m_u64(struct buf *b, uint16_t tag, uint64_t v)
{
	uint8_t x[8];
	int i;

	for (i = 0; i < 8; i++)
		x[i] = (uint8_t)(v >> (56 - 8 * i));
	m_tlv(b, tag, x, sizeof(x));
}

/* A valid CHECKOUT of product/version/count. */
static void
m_checkout(struct buf *b, uint32_t id, const char *product,
    const char *version, uint32_t count)
{
	m_hdr(b, MSG_CHECKOUT, id);
	m_str(b, TAG_PRODUCT, product);
	m_str(b, TAG_VERSION, version);
	m_u32(b, TAG_COUNT, count);
	m_str(b, TAG_HOST, "hostile");
}

/* ---- cases ------------------------------------------------------------ */

struct hcase {
	const char *name;
	int (*fn)(const struct hcase *);
	int want;		/* XLICEN_E_* expected, or 0 (see fn) */
	long arg;		/* case-specific */
	const char *what;	/* for `list` */
	const char *reason;	/* the ALERT reason PROTOCOL.md names, or NULL */
};

/* Pre-auth: a frame header alone (type, length) and an optional body. */
static int
case_header(const struct hcase *k)
{
	struct hconn c;
	uint8_t body[16] = { 0 };
	int rc;

	if ((rc = hc_open(&c)) == 0) {
		/* arg: bits 0-7 type, bits 8-39 length. */
		hc_send_header(&c, (uint8_t)(k->arg & 0xff),
		    (uint32_t)(k->arg >> 8));
		/* A few body bytes too: the server must judge the header
		 * without waiting for the body. */
		hc_send_raw(&c, body, sizeof(body));
		rc = hc_expect_alert(&c, k->want);
	}
	hc_close(&c);
	return rc;
}

/* After HELLO, in the CONTEXT state: a header alone. */
static int
case_header_after_hello(const struct hcase *k)
{
	struct hconn c;
	int rc;

	if ((rc = hc_open(&c)) == 0 && (rc = hc_hello(&c)) == 0) {
		hc_send_header(&c, (uint8_t)(k->arg & 0xff),
		    (uint32_t)(k->arg >> 8));
		rc = hc_expect_alert(&c, k->want);
	}
	hc_close(&c);
	return rc;
}

/* In OPEN: a header alone (the post-authentication limit applies). */
static int
case_header_open(const struct hcase *k)
{
	struct hconn c;
	int rc;

	if ((rc = hc_open_ctx(&c)) == 0) {
		hc_send_header(&c, (uint8_t)(k->arg & 0xff),
		    (uint32_t)(k->arg >> 8));
		rc = hc_expect_alert(&c, k->want);
	}
	hc_close(&c);
	return rc;
}

/* A HELLO of exactly LIMIT_FRAME_PREAUTH bytes: the frame is accepted (a
 * length equal to the limit is legal), so the HELLO decoder sees it and
 * refuses the trailing bytes. */
static int
case_preauth_exact(const struct hcase *k)
{
	struct hconn c;
	uint8_t *body;
	int rc;

	if ((body = calloc(1, LIMIT_FRAME_PREAUTH)) == NULL)
		return local("out of memory");
	body[1] = 1;
	body[3] = 1;
	if ((rc = hc_open(&c)) == 0 &&
	    (rc = hc_send_frame(&c, FRAME_HELLO, body, LIMIT_FRAME_PREAUTH)) == 0)
		rc = hc_expect_alert(&c, k->want);
	free(body);
	hc_close(&c);
	return rc;
}

/* Header says 100, 10 bytes follow, then close.  The server only logs; we
 * check that it did not answer before our close and that it lives on
 * (run.sh checks the log line and the next client). */
static int
case_truncated_close(const struct hcase *k)
{
	struct hconn c;
	struct frame f;
	uint8_t body[10] = { 0, 1, 0, 1 };
	int rc, rd;

	if ((rc = hc_open(&c)) != 0)
		goto out;
	if (hc_send_header(&c, FRAME_HELLO, 100) != 0 ||
	    hc_send_raw(&c, body, sizeof(body)) != 0) {
		rc = bad("send failed: %s", strerror(errno));
		goto out;
	}
	rd = hc_read_frame(&c, g_churn ? 10 : 200, &f);
	if (rd == RD_FRAME) {
		frame_free(&f);
		rc = bad("the server answered a partial frame with a %s frame",
		    frame_name(f.type));
		goto out;
	}
	if (rd != RD_TIMEOUT) {
		rc = bad("the server did not wait for the rest of the frame: %s",
		    rd_text(rd));
		goto out;
	}
	rc = good("no answer to a partial frame; closed it mid-frame");
out:
	hc_close(&c);
	return rc;
}

/* Frames fed one byte at a time: frames are independent of segments. */
static int
case_split_hello(const struct hcase *k)
{
	static const uint8_t hello[] = { 1, 0, 0, 0, 4, 0, 1, 0, 1 };
	struct hconn c;
	size_t i;
	int rc;

	if ((rc = hc_open(&c)) == 0) {
		for (i = 0; i < sizeof(hello); i++) {
			hc_send_raw(&c, hello + i, 1);
			sleep_ms(20);
		}
		if ((rc = hc_read_hello(&c)) == 0)
			rc = good("server HELLO after a HELLO sent byte by byte");
	}
	hc_close(&c);
	return rc;
}

/* HELLO and a DATA frame in one segment: answered in order, the HELLO
 * with a HELLO, the DATA with ALERT STATE. */
static int
case_pipelined(const struct hcase *k)
{
	static const uint8_t two[] = { 1, 0, 0, 0, 4, 0, 1, 0, 1,
	    3, 0, 0, 0, 4, 'j', 'u', 'n', 'k' };
	struct hconn c;
	int rc;

	if ((rc = hc_open(&c)) != 0)
		goto out;
	if (hc_send_raw(&c, two, sizeof(two)) != 0) {
		rc = bad("send failed: %s", strerror(errno));
		goto out;
	}
	if ((rc = hc_read_hello(&c)) == 0)
		rc = hc_expect_alert(&c, k->want);
out:
	hc_close(&c);
	return rc;
}

/* A frame of type arg (with a small body) before HELLO. */
static int
case_frame_before_hello(const struct hcase *k)
{
	static const uint8_t body[32] = { 0x60, 0x1e, 1, 2, 3 };
	struct hconn c;
	int rc;

	if ((rc = hc_open(&c)) == 0 &&
	    (rc = hc_send_frame(&c, (uint8_t)k->arg, body, sizeof(body))) == 0)
		rc = hc_expect_alert(&c, k->want);
	hc_close(&c);
	return rc;
}

/* A frame of type arg after HELLO (state CONTEXT). */
static int
case_frame_after_hello(const struct hcase *k)
{
	static const uint8_t hello[4] = { 0, 1, 0, 1 };
	static const uint8_t body[32] = { 1, 2, 3 };
	struct hconn c;
	int rc;

	if ((rc = hc_open(&c)) == 0 && (rc = hc_hello(&c)) == 0) {
		if (k->arg == FRAME_HELLO)
			rc = hc_send_frame(&c, FRAME_HELLO, hello, sizeof(hello));
		else
			rc = hc_send_frame(&c, (uint8_t)k->arg, body, sizeof(body));
		if (rc == 0)
			rc = hc_expect_alert(&c, k->want);
	}
	hc_close(&c);
	return rc;
}

/* A frame of type arg after the context is complete (state OPEN). */
static int
case_frame_after_open(const struct hcase *k)
{
	static const uint8_t hello[4] = { 0, 1, 0, 1 };
	struct hconn c;
	int rc;

	if ((rc = hc_open_ctx(&c)) == 0) {
		if (k->arg == FRAME_HELLO)
			rc = hc_send_frame(&c, FRAME_HELLO, hello, sizeof(hello));
		else
			rc = hc_send_frame(&c, (uint8_t)k->arg,
			    c.first_token.data, c.first_token.len);
		if (rc == 0)
			rc = hc_expect_alert(&c, k->want);
	}
	hc_close(&c);
	return rc;
}

/* A HELLO body of arg bytes: bytes 0-1 min, 2-3 max as below. */
static int
case_hello_body(const struct hcase *k)
{
	uint8_t body[8];
	struct hconn c;
	size_t n;
	int rc;

	/* arg: bits 0-3 length, 8-23 min, 24-39 max. */
	n = (size_t)(k->arg & 0xf);
	body[0] = (uint8_t)(k->arg >> 16);
	body[1] = (uint8_t)(k->arg >> 8);
	body[2] = (uint8_t)(k->arg >> 32);
	body[3] = (uint8_t)(k->arg >> 24);
	body[4] = body[5] = body[6] = body[7] = 0;
	if ((rc = hc_open(&c)) == 0 &&
	    (rc = hc_send_frame(&c, FRAME_HELLO, body, n)) == 0)
		rc = hc_expect_alert(&c, k->want);
	hc_close(&c);
	return rc;
}

#define HELLO_ARG(len, min, max) \
	((long)(len) | ((long)(min) << 8) | ((long)(max) << 24))

/* The client ends with an ALERT: the server closes without a word. */
static int
case_client_alert(const struct hcase *k)
{
	struct hconn c;
	struct buf b;
	struct frame f;
	int rc, rd;

	buf_init(&b);
	if ((rc = hc_open(&c)) == 0 && (rc = hc_hello(&c)) == 0) {
		must(frame_alert_encode(&b, XLICEN_E_SHUTDOWN, "hostile says bye"));
		hc_send_raw(&c, b.data, b.len);
		rd = hc_read_frame(&c, WAIT_CLOSE_MS, &f);
		if (rd == RD_FRAME) {
			frame_free(&f);
			rc = bad("the server answered a client ALERT with a %s "
			    "frame", frame_name(f.type));
		} else if (rd != RD_EOF) {
			rc = bad("after a client ALERT, %s", rd_text(rd));
		} else {
			rc = good("closed without answering the client ALERT");
		}
	}
	buf_free(&b);
	hc_close(&c);
	return rc;
}

/* A CONTEXT token of random bytes, or a DER-looking one. */
static int
case_garbage_token(const struct hcase *k)
{
	uint8_t tok[300];
	struct hconn c;
	size_t i;
	int rc;

	srand(128);	/* fixed: a failure must be reproducible */
	for (i = 0; i < sizeof(tok); i++)
		tok[i] = (uint8_t)rand();
	if (k->arg == 1) {
		/* The GSS mechanism-independent token header, then junk. */
		tok[0] = 0x60;
		tok[1] = 0x82;
		tok[2] = 0x01;
		tok[3] = 0x28;
		tok[4] = 0x06;
		tok[5] = 0x09;
	}
	if ((rc = hc_open(&c)) == 0 && (rc = hc_hello(&c)) == 0 &&
	    (rc = hc_send_frame(&c, FRAME_CONTEXT, tok, sizeof(tok))) == 0)
		rc = hc_expect_alert_ex(&c, k->want, 1, NULL);
	hc_close(&c);
	return rc;
}

/* A valid AP-REQ, but for other/localhost, a key the server lacks. */
static int
case_wrong_service(const struct hcase *k)
{
	struct hconn c;
	char why[sizeof(g_why)], note[sizeof(g_note)];
	int rc, code;

	if ((rc = hc_open(&c)) != 0 || (rc = hc_hello(&c)) != 0)
		goto out;
	rc = hc_context_ex(&c, OTHER_TARGET, GOOD_FLAGS, &code);
	if (rc == EX_LOCAL)
		goto out;
	if (rc == 0 || code == CTX_ERROR_TOKEN) {
		/* The server sent a KRB-ERROR our GSS call refused (or,
		 * impossibly, an AP-REP): its ALERT follows. */
		snprintf(why, sizeof(why), "%s", g_why);
		rc = hc_expect_alert_ex(&c, k->want, 1, NULL);
		if (rc == 0 && code == CTX_ERROR_TOKEN) {
			snprintf(note, sizeof(note), "%s", g_note);
			rc = good("%s, after an error token (%s)", note, why);
		}
		goto out;
	}
	if (code != k->want)
		goto out;	/* g_why says what came */
	if ((rc = hc_expect_close(&c, "the ALERT")) == 0)
		rc = good("ALERT %s in the context loop", code_text(code));
out:
	hc_close(&c);
	return rc;
}

/* A context with req_flags = arg (lacking something the protocol needs). */
static int
case_flags(const struct hcase *k)
{
	struct hconn c;
	struct frame_alert a;
	char missing[128];
	int rc, code;

	if ((rc = hc_open(&c)) != 0 || (rc = hc_hello(&c)) != 0)
		goto out;
	rc = hc_context_ex(&c, target_name(), (OM_uint32)k->arg, &code);
	if (rc == EX_LOCAL)
		goto out;
	if (rc != 0) {
		if (code == k->want && hc_expect_close(&c, "the ALERT") == 0)
			rc = good("ALERT %s in the context loop", code_text(code));
		goto out;
	}
	gssx_flags_missing(c.ret_flags, missing, sizeof(missing));
	if ((rc = hc_expect_alert_ex(&c, k->want, 0, &a)) != 0)
		goto out;
	rc = good("ALERT %s \"%s\" (initiator ret_flags 0x%x, lacking \"%s\")",
	    code_text(a.code), a.reason, (unsigned)c.ret_flags, missing);
out:
	hc_close(&c);
	return rc;
}

/*
 * A context requested without GSS_C_CONF_FLAG.  If the acceptor reports no
 * CONF, the server must refuse it (GSS_FLAGS).  MIT sets CONF whatever
 * was asked, so then the context is OPEN and a wrap with conf_req_flag=0
 * must get UNWRAP.  g_note says which happened.
 */
static int
case_no_conf(const struct hcase *k)
{
	struct hconn c;
	struct frame f;
	struct frame_alert a;
	struct buf plain, tok;
	OM_uint32 flags = GOOD_FLAGS & ~(OM_uint32)GSS_C_CONF_FLAG;
	int rc, rd, code, conf = -1;
	char note[256];

	buf_init(&plain);
	buf_init(&tok);
	if ((rc = hc_open(&c)) != 0 || (rc = hc_hello(&c)) != 0)
		goto out;
	rc = hc_context_ex(&c, target_name(), flags, &code);
	if (rc == EX_LOCAL)
		goto out;
	if (rc != 0) {
		if (code == XLICEN_E_GSS_FLAGS &&
		    hc_expect_close(&c, "the ALERT") == 0)
			rc = good("acceptor lacked CONF: ALERT %s",
			    code_text(code));
		goto out;
	}
	snprintf(note, sizeof(note), "initiator ret_flags 0x%x (CONF %s)",
	    (unsigned)c.ret_flags,
	    (c.ret_flags & GSS_C_CONF_FLAG) ? "set" : "not set");
	/* The server has decided by now: an ALERT GSS_FLAGS, or OPEN. */
	rd = hc_read_frame(&c, 300, &f);
	if (rd == RD_FRAME) {
		if (f.type != FRAME_ALERT ||
		    frame_alert_decode(f.body, f.len, &a) != 0) {
			frame_free(&f);
			rc = bad("unexpected %s frame after the context",
			    frame_name(f.type));
			goto out;
		}
		frame_free(&f);
		if (-(int)a.code != XLICEN_E_GSS_FLAGS) {
			rc = bad("expected ALERT %s or an OPEN context, got "
			    "ALERT %s \"%s\"", code_text(XLICEN_E_GSS_FLAGS),
			    code_text(a.code), a.reason);
			goto out;
		}
		if ((rc = hc_expect_close(&c, "the ALERT")) == 0)
			rc = good("%s; acceptor lacked CONF: ALERT %s \"%s\"",
			    note, code_text(a.code), a.reason);
		goto out;
	}
	if (rd != RD_TIMEOUT) {
		rc = bad("after the context, %s", rd_text(rd));
		goto out;
	}
	/* OPEN: the acceptor reported CONF.  An integrity-only token must
	 * still be refused. */
	m_hdr(&plain, MSG_STATUS, 1);
	if ((rc = hc_wrap_token(&c, &plain, 0, &tok, &conf)) != 0)
		goto out;
	if ((rc = hc_send_frame(&c, FRAME_DATA, tok.data, tok.len)) != 0)
		goto out;
	if ((rc = hc_expect_alert(&c, XLICEN_E_UNWRAP)) == 0) {
		char alert[sizeof(g_note)];

		snprintf(alert, sizeof(alert), "%s", g_note);
		rc = good("%s; server accepted the context (acceptor reported "
		    "CONF); integrity-only wrap (conf_state %d): %s", note, conf,
		    alert);
	}
out:
	buf_free(&plain);
	buf_free(&tok);
	hc_close(&c);
	return rc;
}

/* Complete a good context, then replay its AP-REQ on a new connection. */
static int
case_replay_apreq(const struct hcase *k)
{
	struct hconn c1, c2;
	int rc;

	hc_init(&c2);
	if ((rc = hc_open_ctx(&c1)) != 0)
		goto out;
	if ((rc = hc_open(&c2)) != 0 || (rc = hc_hello(&c2)) != 0)
		goto out;
	if ((rc = hc_send_frame(&c2, FRAME_CONTEXT, c1.first_token.data,
	    c1.first_token.len)) != 0)
		goto out;
	rc = hc_expect_alert_ex(&c2, k->want, 1, NULL);
out:
	hc_close(&c1);
	hc_close(&c2);
	return rc;
}

/* A DATA body of random bytes after a real context. */
static int
case_data_garbage(const struct hcase *k)
{
	uint8_t junk[200];
	struct hconn c;
	size_t i;
	int rc;

	srand(129);	/* fixed: a failure must be reproducible */
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)rand();
	if (k->arg == 1) {
		/* A plausible RFC 4121 wrap header (TOK_ID 05 04, sealed
		 * flag), then junk: gets past the first checks. */
		junk[0] = 0x05;
		junk[1] = 0x04;
		junk[2] = 0x03;
		junk[3] = 0xff;
	}
	if ((rc = hc_open_ctx(&c)) == 0 &&
	    (rc = hc_send_frame(&c, FRAME_DATA, junk, sizeof(junk))) == 0)
		rc = hc_expect_alert(&c, k->want);
	hc_close(&c);
	return rc;
}

/* A valid STATUS wrapped with conf_req_flag=0 (integrity only). */
static int
case_data_integ_only(const struct hcase *k)
{
	struct hconn c;
	struct buf plain, tok;
	int rc, conf = -1;

	buf_init(&plain);
	buf_init(&tok);
	m_hdr(&plain, MSG_STATUS, 1);
	if ((rc = hc_open_ctx(&c)) == 0 &&
	    (rc = hc_wrap_token(&c, &plain, 0, &tok, &conf)) == 0) {
		if (conf != 0)
			rc = local("gss_wrap with conf_req_flag=0 encrypted");
		else if ((rc = hc_send_frame(&c, FRAME_DATA, tok.data,
		    tok.len)) == 0)
			rc = hc_expect_alert(&c, k->want);
	}
	buf_free(&plain);
	buf_free(&tok);
	hc_close(&c);
	return rc;
}

/* A valid wrap token truncated by one byte. */
static int
case_data_cut(const struct hcase *k)
{
	struct hconn c;
	struct buf plain, tok;
	int rc, conf;

	buf_init(&plain);
	buf_init(&tok);
	m_hdr(&plain, MSG_STATUS, 1);
	if ((rc = hc_open_ctx(&c)) == 0 &&
	    (rc = hc_wrap_token(&c, &plain, 1, &tok, &conf)) == 0 &&
	    (rc = hc_send_frame(&c, FRAME_DATA, tok.data, tok.len - 1)) == 0)
		rc = hc_expect_alert(&c, k->want);
	buf_free(&plain);
	buf_free(&tok);
	hc_close(&c);
	return rc;
}

/* arg 0: the same valid DATA frame twice (the first is answered); arg 1:
 * two valid frames, the second sent first. */
static int
case_data_replay(const struct hcase *k)
{
	struct hconn c;
	struct buf p1, p2, t1, t2;
	struct msg m;
	int rc, conf;

	buf_init(&p1);
	buf_init(&p2);
	buf_init(&t1);
	buf_init(&t2);
	msg_init(&m, 0, 0);
	m_hdr(&p1, MSG_STATUS, 1);
	m_hdr(&p2, MSG_STATUS, 2);
	if ((rc = hc_open_ctx(&c)) != 0 ||
	    (rc = hc_wrap_token(&c, &p1, 1, &t1, &conf)) != 0 ||
	    (rc = hc_wrap_token(&c, &p2, 1, &t2, &conf)) != 0)
		goto out;
	if (k->arg == 0) {
		if ((rc = hc_send_frame(&c, FRAME_DATA, t1.data, t1.len)) != 0 ||
		    (rc = hc_read_msg(&c, &m)) != 0)
			goto out;
		if (m.type != MSG_STATUS_REPLY || m.id != 1) {
			rc = bad("first STATUS answered with %s id %u",
			    msg_type_name(m.type), m.id);
			goto out;
		}
		rc = hc_send_frame(&c, FRAME_DATA, t1.data, t1.len);
	} else {
		rc = hc_send_frame(&c, FRAME_DATA, t2.data, t2.len);
	}
	if (rc == 0)
		rc = hc_expect_alert(&c, k->want);
out:
	msg_clear(&m);
	buf_free(&p1);
	buf_free(&p2);
	buf_free(&t1);
	buf_free(&t2);
	hc_close(&c);
	return rc;
}

/* Crafted plaintexts, wrapped properly; each must get ALERT want. */
static void
craft(long which, struct buf *b)
{
	char s[300];
	int i;

	switch (which) {
	case 0:		/* 5 bytes: shorter than the message header */
		must(buf_put_bytes(b, "\x00\x04\x00\x00\x00", 5));
		break;
	case 1:		/* a TLV whose value runs past the end */
		m_hdr(b, MSG_STATUS, 1);
		must(buf_put_u16(b, TAG_PRODUCT));
		must(buf_put_u16(b, 40));
		must(buf_put_bytes(b, "xdemo", 5));
		break;
	case 2:		/* 3 bytes after the header: half a TLV header */
		m_checkout(b, 1, "xdemo", "1.0", 1);
		must(buf_put_bytes(b, "\x00\x09\x00", 3));
		break;
	case 3:		/* PRODUCT twice */
		m_checkout(b, 1, "xdemo", "1.0", 1);
		m_str(b, TAG_PRODUCT, "xdemo");
		break;
	case 4:		/* PRODUCT, then PRODUCT again with the critical bit */
		m_checkout(b, 1, "xdemo", "1.0", 1);
		m_str(b, TAG_PRODUCT | MSG_TAG_CRITICAL, "xdemo");
		break;
	case 5:		/* an unknown critical tag */
		m_checkout(b, 1, "xdemo", "1.0", 1);
		m_u32(b, 300 | MSG_TAG_CRITICAL, 7);
		break;
	case 6:		/* a known tag this type does not carry, critical */
		m_checkout(b, 1, "xdemo", "1.0", 1);
		m_str(b, TAG_LEASE | MSG_TAG_CRITICAL, "0123456789abcdef");
		break;
	case 7:		/* COUNT of 2 bytes */
		m_hdr(b, MSG_CHECKOUT, 1);
		m_str(b, TAG_PRODUCT, "xdemo");
		m_str(b, TAG_VERSION, "1.0");
		m_tlv(b, TAG_COUNT, "\x00\x01", 2);
		break;
	case 8:		/* CHECKOUT without COUNT */
		m_hdr(b, MSG_CHECKOUT, 1);
		m_str(b, TAG_PRODUCT, "xdemo");
		m_str(b, TAG_VERSION, "1.0");
		break;
	case 9:		/* 65 TLVs (unknown, not critical) */
		m_checkout(b, 1, "xdemo", "1.0", 1);
		for (i = 0; i < 61; i++)
			m_u32(b, (uint16_t)(1000 + i), (uint32_t)i);
		break;
	case 10:	/* a 256-byte product name */
		memset(s, 'p', 256);
		s[256] = '\0';
		m_checkout(b, 1, s, "1.0", 1);
		break;
	case 11:	/* invalid UTF-8 display name */
		m_checkout(b, 1, "xdemo", "1.0", 1);
		m_str(b, TAG_DISPLAY, "ws1\xc3\x28:0");
		break;
	case 12:	/* overlong UTF-8 ('/' as C0 AF) */
		m_checkout(b, 1, "xdemo", "1.0", 1);
		m_str(b, TAG_DISPLAY, "\xc0\xaf");
		break;
	case 13:	/* a surrogate (U+D800) */
		m_checkout(b, 1, "xdemo", "1.0", 1);
		m_str(b, TAG_DISPLAY, "\xed\xa0\x80");
		break;
	case 14:	/* a NUL inside a display name */
		m_checkout(b, 1, "xdemo", "1.0", 1);
		m_tlv(b, TAG_DISPLAY, "ws\0:0", 5);
		break;
	case 15:	/* an unknown message type */
		m_hdr(b, 0x0077, 1);
		m_str(b, TAG_PRODUCT, "xdemo");
		break;
	case 16:	/* a GRANT, complete and valid, from the client */
		m_hdr(b, MSG_GRANT, 1);
		m_str(b, TAG_LEASE, "4f1c9a0e7b2d5e83");
		m_u64(b, TAG_EXPIRES, 1700000120u);
		m_u32(b, TAG_HEARTBEAT, 30);
		break;
	case 17:	/* a DENY from the client */
		m_hdr(b, MSG_DENY, 1);
		must(buf_put_u16(b, TAG_CODE));
		must(buf_put_u16(b, 2));
		must(buf_put_u16(b, 62));
		break;
	case 18:	/* a code point above U+10FFFF (F4 90 80 80) */
		m_checkout(b, 1, "xdemo", "1.0", 1);
		m_str(b, TAG_DISPLAY, "\xf4\x90\x80\x80");
		break;
	case 19:	/* 65th TLV: header complete, value past the end */
		m_checkout(b, 1, "xdemo", "1.0", 1);
		for (i = 0; i < 61; i++)
			m_u32(b, (uint16_t)(1000 + i), (uint32_t)i);
		must(buf_put_u16(b, 1100));
		must(buf_put_u16(b, 40));
		must(buf_put_bytes(b, "ab", 2));
		break;
	case 20:	/* a valid STATUS with request id 0 */
		m_hdr(b, MSG_STATUS, 0);
		break;
	case 21:	/* a valid CHECKOUT with request id 0 */
		m_checkout(b, 0, "xdemo", "1.0", 1);
		break;
	}
}

static int
case_crafted(const struct hcase *k)
{
	struct hconn c;
	struct buf plain;
	int rc;

	buf_init(&plain);
	craft(k->arg, &plain);
	if ((rc = hc_open_ctx(&c)) == 0 &&
	    (rc = hc_send_wrapped(&c, &plain)) == 0)
		rc = hc_expect_alert(&c, k->want);
	buf_free(&plain);
	hc_close(&c);
	return rc;
}

/* Send one wrapped request and expect a reply of type want_type (and, for
 * DENY/ERROR, CODE want_code).  *m holds the reply. */
static int
hc_request(struct hconn *c, const struct buf *plain, uint32_t id,
    uint16_t want_type, int want_code, struct msg *m)
{
	int rc;

	if ((rc = hc_send_wrapped(c, plain)) != 0 || (rc = hc_read_msg(c, m)) != 0)
		return rc;
	if (m->id != id)
		return bad("reply has id %u, expected %u", m->id, id);
	if (m->type != want_type) {
		if (m->type == MSG_DENY || m->type == MSG_ERROR)
			return bad("expected %s, got %s %s \"%s\"",
			    msg_type_name(want_type), msg_type_name(m->type),
			    code_text(m->code), m->reason);
		return bad("expected %s, got %s", msg_type_name(want_type),
		    msg_type_name(m->type));
	}
	if (want_code != 0 && -(int)m->code != want_code)
		return bad("expected %s %s, got %s \"%s\"",
		    msg_type_name(want_type), code_text(want_code),
		    code_text(m->code), m->reason);
	return 0;
}

/* STATUS on an open connection must get a STATUS_REPLY. */
static int
hc_status_ok(struct hconn *c)
{
	struct buf plain;
	struct msg m;
	uint32_t id = ++c->next_id;
	int rc;

	buf_init(&plain);
	m_hdr(&plain, MSG_STATUS, id);
	rc = hc_request(c, &plain, id, MSG_STATUS_REPLY, 0, &m);
	msg_clear(&m);
	buf_free(&plain);
	return rc;
}

/* PROTOCOL.md section 6: a confidential wrap token is the plaintext plus
 * arg bytes (60 for the aes*-cts-hmac-sha1-96 keys of the test realm),
 * whatever the plaintext's length; each token sent gets its STATUS_REPLY. */
static int
case_wrap_overhead(const struct hcase *k)
{
	static const size_t pad[] = { 0, 1, 15, 16, 17, 1000 };
	struct hconn c;
	struct buf plain, tok;
	struct msg m;
	char filler[1000];
	size_t i;
	int rc, conf = 0;

	buf_init(&plain);
	buf_init(&tok);
	msg_init(&m, 0, 0);
	memset(filler, 'x', sizeof(filler));
	if ((rc = hc_open_ctx(&c)) != 0)
		goto out;
	for (i = 0; i < sizeof(pad) / sizeof(pad[0]); i++) {
		uint32_t id = ++c.next_id;

		buf_reset(&plain);
		m_hdr(&plain, MSG_STATUS, id);
		if (pad[i] > 0)	/* an unknown tag, skipped by the server */
			m_tlv(&plain, 1000, filler, pad[i]);
		buf_reset(&tok);
		if ((rc = hc_wrap_token(&c, &plain, 1, &tok, &conf)) != 0)
			goto out;
		if (tok.len != plain.len + (size_t)k->arg) {
			rc = bad("a %zu-byte message wrapped into %zu bytes: "
			    "overhead %zd, expected %ld", plain.len, tok.len,
			    (ssize_t)tok.len - (ssize_t)plain.len, k->arg);
			goto out;
		}
		if ((rc = hc_send_frame(&c, FRAME_DATA, tok.data, tok.len)) != 0 ||
		    (rc = hc_read_msg(&c, &m)) != 0)
			goto out;
		if (m.type != MSG_STATUS_REPLY || m.id != id) {
			rc = bad("expected STATUS_REPLY id %u, got %s id %u", id,
			    msg_type_name(m.type), m.id);
			goto out;
		}
		msg_clear(&m);
	}
	rc = good("wrap overhead %ld bytes for messages of 6 to %zu bytes",
	    k->arg, plain.len);
out:
	msg_clear(&m);
	buf_free(&plain);
	buf_free(&tok);
	hc_close(&c);
	return rc;
}

/* CHECKOUT with COUNT = arg: DENY COUNT, and the connection stays usable. */
static int
case_count(const struct hcase *k)
{
	struct hconn c;
	struct buf plain;
	struct msg m;
	char reason[LIMIT_STRING + 1] = "";
	int rc;

	buf_init(&plain);
	msg_init(&m, 0, 0);
	if ((rc = hc_open_ctx(&c)) != 0)
		goto out;
	m_checkout(&plain, 7, "xdemo", "1.0", (uint32_t)k->arg);
	if ((rc = hc_request(&c, &plain, 7, MSG_DENY, k->want, &m)) != 0)
		goto out;
	snprintf(reason, sizeof(reason), "%s", m.reason);
	if ((rc = hc_status_ok(&c)) != 0)
		goto out;
	rc = good("DENY %s \"%s\"; STATUS on the same connection answered",
	    code_text(k->want), reason);
out:
	msg_clear(&m);
	buf_free(&plain);
	hc_close(&c);
	return rc;
}

/* An unknown, non-critical TLV with junk in it is skipped: the CHECKOUT
 * of an unknown product is answered DENY NO_PRODUCT. */
static int
case_skip_unknown(const struct hcase *k)
{
	struct hconn c;
	struct buf plain;
	struct msg m;
	int rc;

	buf_init(&plain);
	msg_init(&m, 0, 0);
	m_checkout(&plain, 3, "no-such-product", "1.0", 1);
	m_tlv(&plain, 4321, "\xff\xfe\x00junk", 7);
	if ((rc = hc_open_ctx(&c)) == 0 &&
	    (rc = hc_request(&c, &plain, 3, MSG_DENY, k->want, &m)) == 0 &&
	    (rc = hc_status_ok(&c)) == 0)
		rc = good("unknown non-critical TLV skipped: DENY %s",
		    code_text(m.code));
	msg_clear(&m);
	buf_free(&plain);
	hc_close(&c);
	return rc;
}

/* A token wrapped by another connection's context (same user). */
static int
case_data_other_context(const struct hcase *k)
{
	struct hconn c1, c2;
	struct buf plain, tok;
	int rc, conf;

	hc_init(&c2);
	buf_init(&plain);
	buf_init(&tok);
	m_hdr(&plain, MSG_STATUS, 1);
	if ((rc = hc_open_ctx(&c1)) == 0 && (rc = hc_open_ctx(&c2)) == 0 &&
	    (rc = hc_wrap_token(&c1, &plain, 1, &tok, &conf)) == 0 &&
	    (rc = hc_send_frame(&c2, FRAME_DATA, tok.data, tok.len)) == 0)
		rc = hc_expect_alert(&c2, k->want);
	buf_free(&plain);
	buf_free(&tok);
	hc_close(&c1);
	hc_close(&c2);
	return rc;
}

/* A well-formed CHECKOUT variant answered with a DENY of k->want:
 * arg 0: PRODUCT carries the critical bit (a known field: no effect);
 * arg 1: an empty PRODUCT (a present field, no such product). */
static int
case_checkout_variant(const struct hcase *k)
{
	struct hconn c;
	struct buf plain;
	struct msg m;
	int rc;

	buf_init(&plain);
	msg_init(&m, 0, 0);
	m_hdr(&plain, MSG_CHECKOUT, 5);
	if (k->arg == 0)
		m_str(&plain, TAG_PRODUCT | MSG_TAG_CRITICAL, "no-such-product");
	else
		m_str(&plain, TAG_PRODUCT, "");
	m_str(&plain, TAG_VERSION, "1.0");
	m_u32(&plain, TAG_COUNT | (k->arg == 0 ? MSG_TAG_CRITICAL : 0), 1);
	if ((rc = hc_open_ctx(&c)) == 0 &&
	    (rc = hc_request(&c, &plain, 5, MSG_DENY, k->want, &m)) == 0 &&
	    (rc = hc_status_ok(&c)) == 0)
		rc = good("DENY %s \"%s\"", code_text(m.code), m.reason);
	msg_clear(&m);
	buf_free(&plain);
	hc_close(&c);
	return rc;
}

/* HEARTBEAT and RELEASE of lease ids full of SQL metacharacters and
 * wildcards: ERROR NO_LEASE each (run.sh then checks that the held seat
 * is still in use). */
static int
case_lease_sql(const struct hcase *k)
{
	static const char *const ids[] = {
		"' OR '1'='1", "%", "*", "_", "1; DELETE FROM leases;--",
	};
	struct hconn c;
	struct buf plain;
	struct msg m;
	uint32_t id;
	size_t i;
	int rc, j;

	buf_init(&plain);
	msg_init(&m, 0, 0);
	if ((rc = hc_open_ctx(&c)) != 0)
		goto out;
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		for (j = 0; j < 2; j++) {
			id = ++c.next_id;
			buf_reset(&plain);
			msg_clear(&m);
			m_hdr(&plain, j == 0 ? MSG_HEARTBEAT : MSG_RELEASE, id);
			m_str(&plain, TAG_LEASE, ids[i]);
			if ((rc = hc_request(&c, &plain, id, MSG_ERROR, k->want,
			    &m)) != 0) {
				rc = bad("%s \"%s\": %s", j == 0 ? "HEARTBEAT" :
				    "RELEASE", ids[i], g_why);
				goto out;
			}
		}
	}
	rc = good("ERROR %s for HEARTBEAT and RELEASE of %zu hostile lease ids",
	    code_text(k->want), sizeof(ids) / sizeof(ids[0]));
out:
	msg_clear(&m);
	buf_free(&plain);
	hc_close(&c);
	return rc;
}

/* A CHECKOUT whose VERSION is not dotted decimal: DENY BAD_VALUE. */
static int
case_bad_version(const struct hcase *k)
{
	struct hconn c;
	struct buf plain;
	struct msg m;
	int rc;

	buf_init(&plain);
	msg_init(&m, 0, 0);
	m_checkout(&plain, 4, "xdemo", "1.x'--", 1);
	if ((rc = hc_open_ctx(&c)) == 0 &&
	    (rc = hc_request(&c, &plain, 4, MSG_DENY, k->want, &m)) == 0 &&
	    (rc = hc_status_ok(&c)) == 0)
		rc = good("DENY %s \"%s\"", code_text(m.code), m.reason);
	msg_clear(&m);
	buf_free(&plain);
	hc_close(&c);
	return rc;
}

/* Product names full of SQL and printf metacharacters: DENY NO_PRODUCT,
 * the reason quotes them verbatim, and STATUS of one finds no pool. */
static const char *const sql_names[] = {
	"x'; DROP TABLE leases;--",
	"\"%s%n",
	"xdemo' OR '1'='1",
	"%n%n%n%n%s%s%s%s%p",
	"%",		/* LIKE wildcards: must match nothing */
	"xdem_",
};

static int
case_sql_product(const struct hcase *k)
{
	struct hconn c;
	struct buf plain;
	struct msg m;
	size_t i, n;
	int rc;

	buf_init(&plain);
	msg_init(&m, 0, 0);
	if ((rc = hc_open_ctx(&c)) != 0)
		goto out;
	for (i = 0; i < sizeof(sql_names) / sizeof(sql_names[0]); i++) {
		buf_reset(&plain);
		msg_clear(&m);
		m_checkout(&plain, (uint32_t)(10 + i), sql_names[i], "1.0", 1);
		if ((rc = hc_request(&c, &plain, (uint32_t)(10 + i), MSG_DENY,
		    k->want, &m)) != 0)
			goto out;
		n = strlen(sql_names[i]);
		if ((m.have & MSG_F(TAG_REASON)) &&
		    strncmp(m.reason, sql_names[i], n) != 0) {
			rc = bad("DENY reason \"%s\" does not quote the product "
			    "\"%s\" verbatim", m.reason, sql_names[i]);
			goto out;
		}
	}
	for (i = 0; i < sizeof(sql_names) / sizeof(sql_names[0]); i++) {
		buf_reset(&plain);
		msg_clear(&m);
		m_hdr(&plain, MSG_STATUS, (uint32_t)(90 + i));
		m_str(&plain, TAG_PRODUCT, sql_names[i]);
		if ((rc = hc_request(&c, &plain, (uint32_t)(90 + i),
		    MSG_STATUS_REPLY, 0, &m)) != 0)
			goto out;
		if (m.npools != 0) {
			rc = bad("STATUS of \"%s\" returned %zu pools (%s)",
			    sql_names[i], m.npools, m.pools[0].product);
			goto out;
		}
	}
	msg_clear(&m);
	/* The database still answers. */
	if ((rc = hc_status_ok(&c)) != 0)
		goto out;
	rc = good("DENY %s for %zu names, reasons verbatim; STATUS of each: "
	    "0 pools", code_text(k->want),
	    sizeof(sql_names) / sizeof(sql_names[0]));
out:
	msg_clear(&m);
	buf_free(&plain);
	hc_close(&c);
	return rc;
}

static long
env_long(const char *name, long dflt)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL || v[0] == '\0')
		return dflt;
	n = strtol(v, &end, 10);
	return *end == '\0' && n > 0 ? n : dflt;
}

/*
 * A client that pipelines requests and never reads a reply.  A server
 * that keeps reading while its replies pile up queues them without bound;
 * one that stops reading (or drops the client) makes our sends block.
 * Pass: sends blocked, or the server's VmRSS (HOSTILE_SERVER_PID) grew
 * less than 2 MiB while we held NOREAD_N requests' replies unread.
 */
#define NOREAD_N	100000
#define NOREAD_BATCH	500

static int
case_no_read(const struct hcase *k)
{
	long pid = env_long("HOSTILE_SERVER_PID", 0);
	long n = env_long("HOSTILE_NOREAD_N", NOREAD_N);
	long r0, r1, sent = 0, i;
	struct hconn c;
	struct buf plain, batch;
	struct pollfd pfd;
	char err[256];
	size_t off;
	ssize_t w;
	int rc, small = 4096, blocked = 0;

	if (pid <= 0 || (r0 = procinfo_rss_kib(pid)) < 0)
		return local("no-read needs HOSTILE_SERVER_PID of a server "
		    "whose /proc/PID/status is readable");
	buf_init(&plain);
	buf_init(&batch);
	if ((rc = hc_open_ctx(&c)) != 0)
		goto out;
	/* Keep our receive window small, so replies back up at the server. */
	setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	while (sent < n && !blocked) {
		buf_reset(&batch);
		for (i = 0; i < NOREAD_BATCH && sent + i < n; i++) {
			buf_reset(&plain);
			m_hdr(&plain, MSG_STATUS, (uint32_t)(sent + i + 1));
			if (gssx_wrap_frame(c.ctx, plain.data, plain.len, &batch,
			    err, sizeof(err)) != 0) {
				rc = local("gssx_wrap_frame: %s", err);
				goto out;
			}
		}
		for (off = 0; off < batch.len && !blocked; ) {
			pfd.fd = c.fd;
			pfd.events = POLLOUT;
			pfd.revents = 0;
			if (poll(&pfd, 1, 1000) == 0) {
				blocked = 1;	/* the server stopped reading */
				break;
			}
			w = send(c.fd, batch.data + off, batch.len - off,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (w < 0) {
				/* The server gave up on us: also a defence. */
				rc = good("server closed the connection of a "
				    "client that does not read (%s after %ld "
				    "requests)", strerror(errno), sent);
				goto out;
			}
			off += (size_t)w;
		}
		sent += i;
	}
	/* Let the server work through its input: until its VmRSS holds
	 * still for a second (at most 8 s). */
	for (i = 0, r1 = procinfo_rss_kib(pid); i < 32; i++) {
		long r;

		sleep_ms(250);
		r = procinfo_rss_kib(pid);
		if (r == r1 && i >= 4)
			break;
		r1 = r;
	}
	if (r1 - r0 >= 2048) {
		rc = bad("the server's VmRSS grew from %ld to %ld kB (+%ld) "
		    "while a client sent %ld pipelined STATUS requests and "
		    "read no reply (%s)", r0, r1, r1 - r0, sent,
		    blocked ? "its sends blocked at last" :
		    "its sends never blocked");
		goto out;
	}
	rc = good("%ld unread requests: VmRSS %ld -> %ld kB%s", sent, r0, r1,
	    blocked ? "; the server stopped reading (sends blocked)" : "");
out:
	buf_free(&plain);
	buf_free(&batch);
	hc_close(&c);
	return rc;
}


/*
 * Handshake deadline: A says nothing, B stops after HELLO, C after half a
 * CONTEXT header.  Each gets ALERT TIMEOUT about HOSTILE_HANDSHAKE_S after
 * its connect.  D completes its context and idles past that deadline: it
 * must still be answered; with HOSTILE_IDLE_S it then gets the idle ALERT.
 */
static int
case_silent(const struct hcase *k)
{
	long hs = env_long("HOSTILE_HANDSHAKE_S", LIMIT_HANDSHAKE_MS / 1000);
	long idle = env_long("HOSTILE_IDLE_S", 0);
	struct hconn c[4];
	struct frame_alert a;
	static const char *const label[3] = {
		"silent", "after HELLO", "mid-frame"
	};
	int64_t t[3], t_open = 0, d_sent = 0;
	char notes[3][96];
	int i, rc = 0;

	for (i = 0; i < 4; i++)
		hc_init(&c[i]);
	for (i = 0; i < 3 && rc == 0; i++)
		rc = hc_open(&c[i]);
	if (rc != 0)
		goto out;
	if ((rc = hc_hello(&c[1])) != 0 || (rc = hc_hello(&c[2])) != 0)
		goto out;
	hc_send_raw(&c[2], "\x02\x00\x00", 3);
	if ((rc = hc_open_ctx(&c[3])) != 0)
		goto out;
	t_open = procinfo_now_ms();
	/* Collect the three ALERTs (each call waits up to 5 s more). */
	for (i = 0; i < 3; i++) {
		int64_t left = c[i].opened_ms + hs * 1000 - procinfo_now_ms();

		if (left > 0)
			sleep_ms((int)left - (left > 300 ? 300 : (int)left));
		rc = hc_expect_alert_ex(&c[i], XLICEN_E_TIMEOUT, 0, &a);
		t[i] = procinfo_now_ms() - c[i].opened_ms;
		if (rc != 0) {
			rc = bad("%s client: %s", label[i], g_why);
			goto out;
		}
		if (t[i] < hs * 1000 - 200 || t[i] > hs * 1000 + 2500) {
			rc = bad("%s client: ALERT TIMEOUT after %.1f s, "
			    "handshake deadline is %ld s", label[i],
			    t[i] / 1000.0, hs);
			goto out;
		}
		snprintf(notes[i], sizeof(notes[i]), "%s %.1f s", label[i],
		    t[i] / 1000.0);
	}
	/* D is OPEN: past the handshake deadline it is still served. */
	if (procinfo_now_ms() - t_open < hs * 1000 + 300)
		sleep_ms((int)(hs * 1000 + 300 - (procinfo_now_ms() - t_open)));
	if ((rc = hc_status_ok(&c[3])) != 0) {
		rc = bad("open client after the handshake deadline: %s", g_why);
		goto out;
	}
	d_sent = procinfo_now_ms();
	if (idle > 0) {
		int64_t left = d_sent + idle * 1000 - procinfo_now_ms();

		if (left > 300)
			sleep_ms((int)left - 300);
		rc = hc_expect_alert_ex(&c[3], XLICEN_E_TIMEOUT, 0, &a);
		if (rc != 0) {
			rc = bad("idle client: %s", g_why);
			goto out;
		}
		if (procinfo_now_ms() - d_sent < idle * 1000 - 200 ||
		    procinfo_now_ms() - d_sent > idle * 1000 + 2500) {
			rc = bad("idle client: ALERT TIMEOUT after %.1f s, idle "
			    "timeout is %ld s", (procinfo_now_ms() - d_sent) / 1000.0, idle);
			goto out;
		}
	}
	rc = good("ALERT %s \"handshake not completed in time\" (%s, %s, %s; "
	    "deadline %ld s); open client still served%s",
	    code_text(XLICEN_E_TIMEOUT), notes[0], notes[1], notes[2], hs,
	    idle > 0 ? ", then idle ALERT TIMEOUT" : "");
out:
	for (i = 0; i < 4; i++)
		hc_close(&c[i]);
	return rc;
}

/* The reasons an ALERT BUSY may give for a connection the server closed
 * to make room or refused (PROTOCOL.md, "Timers and caps"). */
static const char *const flood_reasons[] = {
	"handshake evicted: too many connections from this address",
	"handshake evicted: too many connections",
	"handshake evicted: too many unauthenticated connections from this "
	    "address",
	"handshake evicted: too many unauthenticated connections",
	"too many connections from this address",
	"too many connections",
	"too many unauthenticated connections from this address",
	"too many unauthenticated connections",
};
#define FLOOD_NREASONS	(sizeof(flood_reasons) / sizeof(flood_reasons[0]))

/*
 * Wait up to ms for want more of the connections in c[0..n) to be closed
 * by the server with ALERT BUSY.  busy[i] becomes 1 + the index of its
 * reason in flood_reasons for each one that was; a connection closed any
 * other way is a failure.
 */
static int
flood_collect(struct hconn *c, int n, int *busy, int want, int ms)
{
	struct frame f;
	struct frame_alert a;
	int64_t end = procinfo_now_ms() + ms, settle = 0;
	int i, rd, got = 0;
	size_t r;

	for (;;) {
		for (i = 0; i < n; i++) {
			if (busy[i] || c[i].fd < 0 || hc_quiet(&c[i]))
				continue;
			rd = hc_read_frame(&c[i], 1000, &f);
			if (rd != RD_FRAME)
				return bad("flood connection %d: %s", i,
				    rd_text(rd));
			if (f.type != FRAME_ALERT ||
			    frame_alert_decode(f.body, f.len, &a) != 0) {
				frame_free(&f);
				return bad("flood connection %d: a %s frame",
				    i, frame_name(f.type));
			}
			frame_free(&f);
			if (-(int)a.code != XLICEN_E_BUSY)
				return bad("flood connection %d: expected ALERT "
				    "%s, got ALERT %s \"%s\"", i,
				    code_text(XLICEN_E_BUSY), code_text(a.code),
				    a.reason);
			for (r = 0; r < FLOOD_NREASONS; r++)
				if (strcmp(a.reason, flood_reasons[r]) == 0)
					break;
			if (r == FLOOD_NREASONS)
				return bad("flood connection %d: ALERT BUSY with "
				    "an unknown reason \"%s\"", i, a.reason);
			if (hc_expect_close(&c[i], "ALERT BUSY") != 0)
				return bad("flood connection %d: %s", i, g_why);
			busy[i] = 1 + (int)r;
			got++;
		}
		if (got >= want && settle == 0)
			settle = procinfo_now_ms() + 200;	/* any stragglers */
		if ((settle != 0 && procinfo_now_ms() >= settle) || procinfo_now_ms() >= end)
			break;
		sleep_ms(10);
	}
	return 0;
}

/* How many of busy[from..to) have reason r (1-based); *oldest: whether
 * no connection kept open (0) precedes one of them (oldest evicted first). */
static int
flood_count(const int *busy, int from, int to, int r, int *oldest)
{
	int i, n = 0, kept = 0;

	*oldest = 1;
	for (i = from; i < to; i++) {
		if (busy[i] == 0)
			kept = 1;
		else if (busy[i] == r && kept)
			*oldest = 0;
		n += busy[i] == r;
	}
	return n;
}

/*
 * Connection caps.  Phase A: 40 silent connections from 127.0.0.1, past
 * max_connections_per_peer (counting the seat holder's connection, and
 * whatever else this test has open from there): the server keeps the
 * newest and evicts the oldest, each with ALERT BUSY "handshake evicted:
 * too many connections from this address", or refused with "too many
 * connections from this address" when every handshake of the address is
 * too new to evict (accepted in the same turn).  Phase B: 20 more from
 * 127.0.0.2 until max_connections is passed: the oldest handshakes of all
 * (phase A's) make room ("handshake evicted: too many connections"); none
 * of B's.  Every connection kept stays open and unanswered.
 */
#define FLOOD_A	40
#define FLOOD_B	20

static int
case_flood(const struct hcase *k)
{
	long per_peer = env_long("HOSTILE_MAX_PER_PEER", 0);
	long total = env_long("HOSTILE_MAX_TOTAL", 0);
	struct hconn *c;
	int busy[FLOOD_A + FLOOD_B] = { 0 };
	int i, rc = 0, ev_a, ev_b, pre, open_n = 0, pa, pb, kept_a;

	(void)k;
	if (per_peer <= 0 || total <= 0)
		return local("flood needs HOSTILE_MAX_PER_PEER and "
		    "HOSTILE_MAX_TOTAL");
	if (per_peer > FLOOD_A || total - per_peer > FLOOD_B ||
	    total < per_peer)
		return local("flood: caps %ld/%ld do not fit %d+%d connections",
		    per_peer, total, FLOOD_A, FLOOD_B);
	if ((c = calloc(FLOOD_A + FLOOD_B, sizeof(*c))) == NULL)
		return local("out of memory");
	for (i = 0; i < FLOOD_A + FLOOD_B; i++)
		hc_init(&c[i]);
	for (i = 0; i < FLOOD_A && rc == 0; i++)
		rc = hc_open_from(&c[i], "127.0.0.1");
	if (rc != 0)
		goto out;
	if ((rc = flood_collect(c, FLOOD_A, busy, FLOOD_A - (int)per_peer,
	    2000)) != 0)
		goto out;
	/* Evicted, or (if every handshake of the address was accepted in
	 * the same turn of the server's loop) refused. */
	ev_a = flood_count(busy, 0, FLOOD_A, 1, &pa) +
	    flood_count(busy, 0, FLOOD_A, 5, &pb);
	/* The server had pre connections from 127.0.0.1 already. */
	pre = ev_a - (FLOOD_A - (int)per_peer);
	for (kept_a = 0; kept_a < FLOOD_A && busy[kept_a] != 0; kept_a++)
		;	/* the first one kept */
	if (pre < 0 || pre > 3 || !pa) {
		rc = bad("%d of %d connections from one address evicted (%s); "
		    "cap %ld per peer", ev_a, FLOOD_A, pa ? "the oldest" :
		    "not the oldest", per_peer);
		goto out;
	}
	for (i = FLOOD_A; i < FLOOD_A + FLOOD_B && rc == 0; i++)
		rc = hc_open_from(&c[i], "127.0.0.2");
	if (rc != 0)
		goto out;
	if ((rc = flood_collect(c, FLOOD_A + FLOOD_B, busy,
	    FLOOD_B - (int)(total - per_peer), 2000)) != 0)
		goto out;
	ev_b = flood_count(busy, kept_a, FLOOD_A, 2, &pb);
	for (i = 0; i < FLOOD_A + FLOOD_B; i++)
		open_n += busy[i] == 0;
	for (i = FLOOD_A; i < FLOOD_A + FLOOD_B; i++)
		if (busy[i] != 0) {
			rc = bad("connection %d of the second address was "
			    "closed (\"%s\"), not an older handshake", i - FLOOD_A,
			    flood_reasons[busy[i] - 1]);
			goto out;
		}
	if (open_n != total - pre || !pb || ev_b != FLOOD_B -
	    (int)(total - per_peer)) {
		rc = bad("%d connections kept, expected %ld (cap %ld, %d held "
		    "before); %d older ones evicted for the second address%s",
		    open_n, total - pre, total, pre, ev_b,
		    pb ? "" : ", not the oldest");
		goto out;
	}
	/* The kept ones are still open and unanswered. */
	for (i = 0; i < FLOOD_A + FLOOD_B; i++) {
		if (busy[i])
			continue;
		if (!hc_quiet(&c[i])) {
			rc = bad("kept flood connection %d was answered or "
			    "closed", i);
			goto out;
		}
	}
	rc = good("ALERT %s: %d of %d from 127.0.0.1 evicted, the oldest, or "
	    "refused (\"%s\"; %d held before), then the next %d oldest for 20 from 127.0.0.2 "
	    "(\"%s\"); %d kept open", code_text(XLICEN_E_BUSY), ev_a, FLOOD_A,
	    flood_reasons[0], pre, ev_b, flood_reasons[1], open_n);
out:
	for (i = 0; i < FLOOD_A + FLOOD_B; i++)
		hc_close(&c[i]);
	free(c);
	return rc;
}

/* One real checkout on a new connection from this host: CHECKOUT xdemo
 * (GRANT), RELEASE (OK), close.  *ms: how long it took. */
static int
real_checkout(int64_t *ms)
{
	struct hconn c;
	struct buf plain;
	struct msg m;
	char lease[LIMIT_STRING + 1];
	int64_t t0 = procinfo_now_ms();
	uint32_t id;
	int rc;

	buf_init(&plain);
	msg_init(&m, 0, 0);
	if ((rc = hc_open_ctx(&c)) != 0)
		goto out;
	id = ++c.next_id;
	m_checkout(&plain, id, "xdemo", "1.0", 1);
	if ((rc = hc_request(&c, &plain, id, MSG_GRANT, 0, &m)) != 0)
		goto out;
	snprintf(lease, sizeof(lease), "%s", m.lease);
	msg_clear(&m);
	buf_reset(&plain);
	id = ++c.next_id;
	m_hdr(&plain, MSG_RELEASE, id);
	m_str(&plain, TAG_LEASE, lease);
	rc = hc_request(&c, &plain, id, MSG_OK, 0, &m);
out:
	*ms = procinfo_now_ms() - t0;
	msg_clear(&m);
	buf_free(&plain);
	hc_close(&c);
	return rc;
}

/*
 * Idle unauthenticated connections must not lock real clients out.  Fill
 * max_connections_per_peer from 127.0.0.1 (the address the real clients
 * come from) and max_connections from 127.0.0.2-11 with connections that
 * never say a word, then make IDLE_FLOOD_REAL real checkouts from
 * 127.0.0.1: every one must be granted (the server evicts idle handshakes
 * for them).  With HOSTILE_MAX_UNAUTH set, at most that many of the idle
 * connections may still be open at the end.
 */
#define IDLE_FLOOD_REAL	10
#define IDLE_FLOOD_MAX	400

static int
case_idle_flood(const struct hcase *k)
{
	long per_peer = env_long("HOSTILE_MAX_PER_PEER", 50);
	long total = env_long("HOSTILE_MAX_TOTAL", 100);
	long unauth = env_long("HOSTILE_MAX_UNAUTH", 0);
	struct hconn *c;
	char src[32];
	int64_t ms, worst = 0;
	long n = per_peer + total, i;
	int rc = 0, j, open_n = 0;

	(void)k;
	if (n > IDLE_FLOOD_MAX)
		return local("idle-flood: caps %ld/%ld: more than %d "
		    "connections", per_peer, total, IDLE_FLOOD_MAX);
	if ((c = calloc((size_t)n, sizeof(*c))) == NULL)
		return local("out of memory");
	for (i = 0; i < n; i++)
		hc_init(&c[i]);
	for (i = 0; i < n && rc == 0; i++) {
		if (i < per_peer)
			snprintf(src, sizeof(src), "127.0.0.1");
		else
			snprintf(src, sizeof(src), "127.0.0.%ld",
			    2 + (i - per_peer) % 10);
		rc = hc_open_from(&c[i], src);
	}
	if (rc != 0)
		goto out;
	/* All accepted, and past the grace a new handshake has before the
	 * handshake caps may evict it. */
	sleep_ms(LIMIT_HANDSHAKE_GRACE_MS + 250);
	for (j = 0; j < IDLE_FLOOD_REAL; j++) {
		if ((rc = real_checkout(&ms)) != 0) {
			rc = bad("real checkout %d of %d after %ld idle "
			    "connections: %s", j + 1, IDLE_FLOOD_REAL, n, g_why);
			goto out;
		}
		if (ms > worst)
			worst = ms;
	}
	for (i = 0; i < n; i++)
		open_n += hc_quiet(&c[i]);
	if (unauth > 0 && open_n > unauth) {
		rc = bad("%d idle connections still open, cap "
		    "max_unauthenticated %ld", open_n, unauth);
		goto out;
	}
	rc = good("%d of %d real checkouts granted (slowest %lld ms) with %ld "
	    "idle connections opened (%ld from 127.0.0.1); %d still open%s",
	    IDLE_FLOOD_REAL, IDLE_FLOOD_REAL, (long long)worst, n, per_peer,
	    open_n, unauth > 0 ? " (within max_unauthenticated)" : "");
out:
	for (i = 0; i < n; i++)
		hc_close(&c[i]);
	free(c);
	return rc;
}

/*
 * Memory follows bytes, not declared lengths.  FRAME_FLOOD_UNAUTH
 * connections from 127.0.0.2-21 each declare a LIMIT_FRAME_PREAUTH HELLO
 * and FRAME_FLOOD_AUTH authenticated ones a LIMIT_FRAME_POSTAUTH DATA
 * frame, and send all of it but the last byte.  The server's VmRSS
 * (HOSTILE_SERVER_PID) may grow by at most the partial-frame budget
 * (HOSTILE_FRAME_BUDGET) plus a first chunk and 16 KiB of bookkeeping per
 * connection plus 4 MiB; without a budget it would hold every body
 * (37.5 MiB).  Connections past the budget get ALERT BUSY.
 */
#define FRAME_FLOOD_UNAUTH	400
#define FRAME_FLOOD_AUTH	50

static int
frame_flood_send(struct hconn *c, uint8_t type, uint32_t len, uint8_t *junk)
{
	if (hc_send_header(c, type, len) != 0)
		return -1;
	return hc_send_raw(c, junk, len - 1);
}

static int
case_frame_flood(const struct hcase *k)
{
	long pid = env_long("HOSTILE_SERVER_PID", 0);
	long budget = env_long("HOSTILE_FRAME_BUDGET", LIMIT_FRAME_BUDGET);
	int n = FRAME_FLOOD_UNAUTH + FRAME_FLOOD_AUTH;
	struct hconn *c;
	uint8_t *junk;
	char src[32];
	long r0, r1, bound_kb;
	int i, rc = 0, nbusy = 0, *busy = NULL;

	(void)k;
	if (pid <= 0)
		return local("frame-flood needs HOSTILE_SERVER_PID");
	c = calloc((size_t)n, sizeof(*c));
	busy = calloc((size_t)n, sizeof(*busy));
	junk = calloc(1, LIMIT_FRAME_POSTAUTH);
	if (c == NULL || busy == NULL || junk == NULL) {
		free(c);
		free(busy);
		free(junk);
		return local("out of memory");
	}
	for (i = 0; i < n; i++)
		hc_init(&c[i]);
	/* The authenticated ones first: their contexts are not the flood. */
	for (i = FRAME_FLOOD_UNAUTH; i < n && rc == 0; i++)
		rc = hc_open_ctx(&c[i]);
	if (rc != 0)
		goto out;
	sleep_ms(200);
	if ((r0 = procinfo_rss_kib(pid)) < 0) {
		rc = local("no VmRSS for pid %ld", pid);
		goto out;
	}
	for (i = 0; i < FRAME_FLOOD_UNAUTH && rc == 0; i++) {
		snprintf(src, sizeof(src), "127.0.0.%d", 2 + i % 20);
		rc = hc_open_from(&c[i], src);
	}
	if (rc != 0)
		goto out;
	/* A send fails once the server has closed: that is allowed. */
	for (i = 0; i < n; i++)
		(void)frame_flood_send(&c[i], i < FRAME_FLOOD_UNAUTH ?
		    FRAME_HELLO : FRAME_DATA, i < FRAME_FLOOD_UNAUTH ?
		    LIMIT_FRAME_PREAUTH : LIMIT_FRAME_POSTAUTH, junk);
	sleep_ms(500);
	if ((r1 = procinfo_rss_kib(pid)) < 0) {
		rc = bad("server gone during the flood");
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct frame f;
		struct frame_alert a;

		if (hc_quiet(&c[i]) || hc_read_frame(&c[i], 1000, &f) !=
		    RD_FRAME)
			continue;
		if (f.type == FRAME_ALERT &&
		    frame_alert_decode(f.body, f.len, &a) == 0 &&
		    -(int)a.code == XLICEN_E_BUSY)
			busy[i] = 1, nbusy++;
		frame_free(&f);
	}
	bound_kb = budget / 1024 + (long)n * (LIMIT_FRAME_CHUNK / 1024 + 16) +
	    4096;
	if (r1 - r0 > bound_kb) {
		rc = bad("server VmRSS grew %ld kB (%ld -> %ld) under %d "
		    "partial frames; bound %ld kB (budget %ld bytes)", r1 - r0,
		    r0, r1, n, bound_kb, budget);
		goto out;
	}
	rc = good("server VmRSS %ld -> %ld kB (+%ld, bound %ld) under %d "
	    "unauthenticated %u-byte and %d authenticated %u-byte partial "
	    "frames; %d refused with ALERT BUSY", r0, r1, r1 - r0, bound_kb,
	    FRAME_FLOOD_UNAUTH, LIMIT_FRAME_PREAUTH, FRAME_FLOOD_AUTH,
	    LIMIT_FRAME_POSTAUTH, nbusy);
out:
	for (i = 0; i < n; i++)
		hc_close(&c[i]);
	free(c);
	free(busy);
	free(junk);
	return rc;
}

static const struct hcase cases[] = {
	/* frame headers */
	{ "len-preauth-limit+1", case_header, XLICEN_E_FRAME_TOO_LONG,
	  FRAME_HELLO | ((long)(LIMIT_FRAME_PREAUTH + 1) << 8),
	  "HELLO header of LIMIT_FRAME_PREAUTH+1 bytes",
	  "frame of 65537 bytes exceeds the limit of 65536" },
	{ "len-ffffffff", case_header, XLICEN_E_FRAME_TOO_LONG,
	  FRAME_HELLO | (0xffffffffL << 8), "HELLO header of 0xFFFFFFFF bytes",
	  "frame of 4294967295 bytes exceeds the limit of 65536" },
	{ "len-context-limit+1", case_header_after_hello,
	  XLICEN_E_FRAME_TOO_LONG,
	  FRAME_CONTEXT | ((long)(LIMIT_FRAME_PREAUTH + 1) << 8),
	  "CONTEXT header of LIMIT_FRAME_PREAUTH+1 bytes after HELLO",
	  "frame of 65537 bytes exceeds the limit of 65536" },
	{ "len-postauth-limit+1", case_header_open, XLICEN_E_FRAME_TOO_LONG,
	  FRAME_DATA | ((long)(LIMIT_FRAME_POSTAUTH + 1) << 8),
	  "DATA header of LIMIT_FRAME_POSTAUTH+1 bytes when OPEN",
	  "frame of 262145 bytes exceeds the limit of 262144" },
	{ "len-preauth-exact", case_preauth_exact, XLICEN_E_TRAILING, 0,
	  "HELLO of exactly LIMIT_FRAME_PREAUTH bytes: accepted, then TRAILING",
	  "malformed HELLO" },
	{ "truncated-close", case_truncated_close, 0, 0,
	  "header says 100, 10 bytes sent, close: no answer, logged" , NULL },
	{ "empty-frame", case_header, XLICEN_E_FRAME_EMPTY, FRAME_HELLO,
	  "HELLO of length 0", "empty frame" },
	{ "empty-frame-open", case_header_open, XLICEN_E_FRAME_EMPTY,
	  FRAME_DATA, "DATA of length 0 when OPEN", "empty frame" },
	{ "type-0", case_header, XLICEN_E_FRAME_TYPE, 0 | (4L << 8),
	  "frame type 0", "unknown frame type 0" },
	{ "type-5", case_header, XLICEN_E_FRAME_TYPE, 5 | (4L << 8),
	  "frame type 5", "unknown frame type 5" },
	{ "type-255", case_header, XLICEN_E_FRAME_TYPE, 255 | (4L << 8),
	  "frame type 255", "unknown frame type 255" },
	{ "type-255-open", case_header_open, XLICEN_E_FRAME_TYPE,
	  255 | (4L << 8), "frame type 255 when OPEN",
	  "unknown frame type 255" },
	{ "split-hello", case_split_hello, 0, 0,
	  "HELLO one byte per segment: answered" , NULL },
	{ "pipelined", case_pipelined, XLICEN_E_STATE, 0,
	  "HELLO and DATA in one segment: HELLO, then ALERT STATE",
	  "frame not allowed in this state" },
	/* state machine */
	{ "data-before-hello", case_frame_before_hello, XLICEN_E_STATE,
	  FRAME_DATA, "DATA first",
	  "frame not allowed in this state" },
	{ "context-before-hello", case_frame_before_hello, XLICEN_E_STATE,
	  FRAME_CONTEXT, "CONTEXT first",
	  "frame not allowed in this state" },
	{ "data-after-hello", case_frame_after_hello, XLICEN_E_STATE,
	  FRAME_DATA, "DATA before the context is complete",
	  "frame not allowed in this state" },
	{ "hello-twice", case_frame_after_hello, XLICEN_E_STATE, FRAME_HELLO,
	  "a second HELLO",
	  "frame not allowed in this state" },
	{ "hello-when-open", case_frame_after_open, XLICEN_E_STATE,
	  FRAME_HELLO, "HELLO after the context is complete",
	  "frame not allowed in this state" },
	{ "context-when-open", case_frame_after_open, XLICEN_E_STATE,
	  FRAME_CONTEXT, "the AP-REQ again after the context is complete",
	  "frame not allowed in this state" },
	{ "client-alert", case_client_alert, 0, 0,
	  "client ALERT after HELLO: closed without an answer" , NULL },
	/* HELLO bodies */
	{ "hello-v2-3", case_hello_body, XLICEN_E_VERSION, HELLO_ARG(4, 2, 3),
	  "HELLO offering versions 2-3",
	  "server speaks version 1 only; client offered 2-3" },
	{ "hello-v0-0", case_hello_body, XLICEN_E_VERSION, HELLO_ARG(4, 0, 0),
	  "HELLO offering versions 0-0",
	  "server speaks version 1 only; client offered 0-0" },
	{ "hello-3-bytes", case_hello_body, XLICEN_E_TRUNCATED,
	  HELLO_ARG(3, 1, 1), "HELLO body of 3 bytes",
	  "malformed HELLO" },
	{ "hello-5-bytes", case_hello_body, XLICEN_E_TRAILING,
	  HELLO_ARG(5, 1, 1), "HELLO body of 5 bytes",
	  "malformed HELLO" },
	{ "hello-min-gt-max", case_hello_body, XLICEN_E_BAD_VALUE,
	  HELLO_ARG(4, 2, 1), "HELLO with min 2 > max 1",
	  "malformed HELLO" },
	/* authentication */
	{ "garbage-token", case_garbage_token, XLICEN_E_AUTH, 0,
	  "CONTEXT of random bytes" , NULL },
	{ "garbage-token-der", case_garbage_token, XLICEN_E_AUTH, 1,
	  "CONTEXT with a GSS token header, then random bytes" , NULL },
	{ "wrong-service", case_wrong_service, XLICEN_E_AUTH, 0,
	  "valid AP-REQ for other/localhost" , NULL },
	{ "no-conf", case_no_conf, 0, 0,
	  "context without CONF: GSS_FLAGS, or if MIT sets CONF anyway, "
	  "UNWRAP for an integrity-only wrap" , NULL },
	{ "no-mutual-replay", case_flags, XLICEN_E_GSS_FLAGS,
	  (long)(GSS_C_SEQUENCE_FLAG | GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG),
	  "context without MUTUAL and REPLAY",
	  "context lacks: mutual replay" },
	{ "no-sequence", case_flags, XLICEN_E_GSS_FLAGS,
	  (long)(GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG | GSS_C_CONF_FLAG |
	  GSS_C_INTEG_FLAG), "context without SEQUENCE",
	  "context lacks: sequence" },
	{ "replay-apreq", case_replay_apreq, XLICEN_E_AUTH, 0,
	  "a good context's AP-REQ replayed on a new connection" , NULL },
	/* DATA */
	{ "wrap-overhead", case_wrap_overhead, 0, 60,
	  "confidential wrap tokens are 60 bytes longer than the message",
	  NULL },
	{ "data-garbage", case_data_garbage, XLICEN_E_UNWRAP, 0,
	  "DATA of random bytes" , NULL },
	{ "data-garbage-hdr", case_data_garbage, XLICEN_E_UNWRAP, 1,
	  "DATA with a wrap token header, then random bytes" , NULL },
	{ "data-integ-only", case_data_integ_only, XLICEN_E_UNWRAP, 0,
	  "valid wrap token made with conf_req_flag=0",
	  "message was not encrypted" },
	{ "data-cut", case_data_cut, XLICEN_E_UNWRAP, 0,
	  "valid wrap token less its last byte" , NULL },
	{ "data-replay", case_data_replay, XLICEN_E_UNWRAP, 0,
	  "the same valid DATA frame twice",
	  "replayed or out-of-sequence token" },
	{ "data-reorder", case_data_replay, XLICEN_E_UNWRAP, 1,
	  "the second of two wrap tokens sent first",
	  "replayed or out-of-sequence token" },
	{ "data-other-context", case_data_other_context, XLICEN_E_UNWRAP, 0,
	  "a token wrapped by another connection's context" , NULL },
	/* messages inside DATA */
	{ "msg-short", case_crafted, XLICEN_E_TRUNCATED, 0,
	  "5-byte message",
	  "malformed message" },
	{ "msg-tlv-truncated", case_crafted, XLICEN_E_TRUNCATED, 1,
	  "TLV value running past the end",
	  "malformed message" },
	{ "msg-tlv-partial", case_crafted, XLICEN_E_TRUNCATED, 2,
	  "3 trailing bytes: half a TLV header",
	  "malformed message" },
	{ "msg-tlv-dup", case_crafted, XLICEN_E_TLV_DUP, 3, "PRODUCT twice",
	  "malformed message" },
	{ "msg-tlv-dup-critical", case_crafted, XLICEN_E_TLV_DUP, 4,
	  "PRODUCT, then PRODUCT|critical",
	  "malformed message" },
	{ "msg-tlv-critical", case_crafted, XLICEN_E_TLV_CRITICAL, 5,
	  "unknown critical tag 300",
	  "malformed message" },
	{ "msg-tlv-critical-foreign", case_crafted, XLICEN_E_TLV_CRITICAL, 6,
	  "LEASE|critical in a CHECKOUT",
	  "malformed message" },
	{ "msg-tlv-length", case_crafted, XLICEN_E_TLV_LENGTH, 7,
	  "COUNT of 2 bytes",
	  "malformed message" },
	{ "msg-tlv-missing", case_crafted, XLICEN_E_TLV_MISSING, 8,
	  "CHECKOUT without COUNT",
	  "malformed message" },
	{ "msg-tlv-count", case_crafted, XLICEN_E_TLV_COUNT, 9, "65 TLVs",
	  "malformed message" },
	{ "msg-tlv-count-cut", case_crafted, XLICEN_E_TLV_COUNT, 19,
	  "65th TLV's value running past the end: counted first",
	  "malformed message" },
	{ "msg-id-0-status", case_crafted, XLICEN_E_BAD_VALUE, 20,
	  "STATUS with request id 0 (reserved for unsolicited messages)",
	  "request id 0 is reserved for unsolicited messages" },
	{ "msg-id-0-checkout", case_crafted, XLICEN_E_BAD_VALUE, 21,
	  "CHECKOUT with request id 0",
	  "request id 0 is reserved for unsolicited messages" },
	{ "msg-string-256", case_crafted, XLICEN_E_STRING, 10,
	  "256-byte product name",
	  "malformed message" },
	{ "msg-string-utf8", case_crafted, XLICEN_E_STRING, 11,
	  "invalid UTF-8 display name",
	  "malformed message" },
	{ "msg-string-overlong", case_crafted, XLICEN_E_STRING, 12,
	  "overlong UTF-8 display name",
	  "malformed message" },
	{ "msg-string-surrogate", case_crafted, XLICEN_E_STRING, 13,
	  "surrogate in a display name",
	  "malformed message" },
	{ "msg-string-nul", case_crafted, XLICEN_E_STRING, 14,
	  "NUL in a display name",
	  "malformed message" },
	{ "msg-string-above-10ffff", case_crafted, XLICEN_E_STRING, 18,
	  "code point above U+10FFFF in a display name",
	  "malformed message" },
	{ "msg-type-unknown", case_crafted, XLICEN_E_MSG_TYPE, 15,
	  "message type 0x0077",
	  "malformed message" },
	{ "msg-type-grant", case_crafted, XLICEN_E_MSG_TYPE, 16,
	  "a valid GRANT sent by the client",
	  "unexpected GRANT message" },
	{ "msg-type-deny", case_crafted, XLICEN_E_MSG_TYPE, 17,
	  "a valid DENY sent by the client",
	  "unexpected DENY message" },
	{ "msg-skip-unknown", case_skip_unknown, XLICEN_E_NO_PRODUCT, 0,
	  "unknown non-critical TLV: skipped (DENY NO_PRODUCT)" , NULL },
	{ "msg-critical-known", case_checkout_variant, XLICEN_E_NO_PRODUCT, 0,
	  "critical bit on known fields: ignored (DENY NO_PRODUCT)" , NULL },
	{ "msg-empty-product", case_checkout_variant, XLICEN_E_NO_PRODUCT, 1,
	  "empty PRODUCT string: present (DENY NO_PRODUCT)" , NULL },
	{ "lease-sql", case_lease_sql, XLICEN_E_NO_LEASE, 0,
	  "HEARTBEAT/RELEASE of hostile lease ids: ERROR NO_LEASE" , NULL },
	/* replies, not ALERTs */
	{ "count-0", case_count, XLICEN_E_COUNT, 0,
	  "CHECKOUT of 0 seats: DENY COUNT, connection usable" , NULL },
	{ "count-1000001", case_count, XLICEN_E_COUNT, LIMIT_SEATS + 1L,
	  "CHECKOUT of LIMIT_SEATS+1 seats: DENY COUNT" , NULL },
	{ "count-4294967295", case_count, XLICEN_E_COUNT, 0xffffffffL,
	  "CHECKOUT of 2^32-1 seats: DENY COUNT, connection usable" , NULL },
	{ "bad-version", case_bad_version, XLICEN_E_BAD_VALUE, 0,
	  "CHECKOUT of version 1.x'--: DENY BAD_VALUE" , NULL },
	{ "sql-product", case_sql_product, XLICEN_E_NO_PRODUCT, 0,
	  "SQL/printf metacharacters in product names: DENY NO_PRODUCT" ,
	  NULL },
	/* timers and caps (need a server configured for them) */
	{ "silent", case_silent, XLICEN_E_TIMEOUT, 0,
	  "silent clients: ALERT TIMEOUT at the handshake deadline" , NULL },
	{ "flood", case_flood, XLICEN_E_BUSY, 0,
	  "connections beyond the caps: the oldest handshakes evicted with "
	  "ALERT BUSY" , NULL },
	{ "idle-flood", case_idle_flood, 0, 0,
	  "idle connections up to the caps, then real checkouts: all granted",
	  NULL },
	{ "frame-flood", case_frame_flood, XLICEN_E_BUSY, 0,
	  "450 partial frames of the largest declared length: server memory "
	  "within the partial-frame budget" , NULL },
	{ "no-read", case_no_read, 0, 0,
	  "100,000 pipelined STATUS requests, no reply read: server memory "
	  "bounded" , NULL },
};

#define NCASES	(sizeof(cases) / sizeof(cases[0]))

static const struct hcase *
case_find(const char *name)
{
	size_t i;

	for (i = 0; i < NCASES; i++)
		if (strcmp(cases[i].name, name) == 0)
			return &cases[i];
	return NULL;
}

/* Run a case and check its outcome against the table. */
static int
case_run(const struct hcase *k)
{
	g_why[0] = g_note[0] = '\0';
	g_reason = k->reason;
	return k->fn(k);
}

/* The mix of bad connections `churn` cycles through (no database writes:
 * SQLite's page cache would grow with the file and blur the numbers). */
static const char *const churn_mix[] = {
	"len-ffffffff", "type-255", "truncated-close", "hello-v2-3",
	"data-before-hello", "garbage-token", "wrong-service", "data-garbage",
	"msg-tlv-dup", "msg-string-256", "data-integ-only", "hello-3-bytes",
	"count-0",
};

static int
churn(long n)
{
	size_t nmix = sizeof(churn_mix) / sizeof(churn_mix[0]);
	long i, nbad = 0;
	int rc;

	g_churn = 1;
	for (i = 0; i < n; i++) {
		const struct hcase *k = case_find(churn_mix[(size_t)i % nmix]);

		if ((rc = case_run(k)) == EX_LOCAL) {
			fprintf(stderr, "churn: %s: %s\n", k->name, g_why);
			return EX_LOCAL;
		}
		if (rc != 0) {
			if (nbad++ < 5)
				fprintf(stderr, "churn: %s: %s\n", k->name, g_why);
		}
	}
	if (nbad > 0)
		return bad("%ld of %ld bad connections were not answered as "
		    "specified", nbad, n);
	return good("%ld bad connections, each answered as specified", n);
}

static void
usage(void)
{
	fprintf(stderr, "usage: xlicen-hostile CASE HOST PORT\n"
	    "       xlicen-hostile churn HOST PORT N\n"
	    "       xlicen-hostile list\n");
}

int
main(int argc, char **argv)
{
	const struct hcase *k = NULL;
	size_t i;
	int rc;

	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		for (i = 0; i < NCASES; i++)
			printf("%-26s %s\n", cases[i].name, cases[i].what);
		return EX_OK;
	}
	if (argc == 5 && strcmp(argv[1], "churn") == 0) {
		g_host = argv[2];
		g_port = argv[3];
		rc = churn(strtol(argv[4], NULL, 10));
	} else if (argc == 4 && (k = case_find(argv[1])) != NULL) {
		g_host = argv[2];
		g_port = argv[3];
		rc = case_run(k);
	} else {
		if (argc >= 2 && argc != 5 && case_find(argv[1]) == NULL)
			fprintf(stderr, "xlicen-hostile: unknown case \"%s\" "
			    "(see xlicen-hostile list)\n", argv[1]);
		usage();
		return EX_LOCAL;
	}
	if (rc == EX_OK)
		printf("%s: ok: %s\n", argv[1], g_note);
	else
		fprintf(stderr, "%s: %s: %s\n", argv[1],
		    rc == EX_BAD ? "FAIL" : "ERROR", g_why);
	return rc;
}
