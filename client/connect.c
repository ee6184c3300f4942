/*
 * Connecting a session: the server list (the caller's, $XLICEN_SERVER,
 * or DNS SRV records), one address after another until one answers
 * HELLO, and the GSS context loop up to OPEN (part of the connection
 * machine of session.c, which drives these steps from sess_step).  The
 * credentials come from ccache.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>

#include "xlicen.h"

#include "buf.h"
#include "ccache.h"
#include "discover.h"
#include "err.h"
#include "frame.h"
#include "gssx.h"
#include "limits.h"
#include "msg.h"
#include "session_int.h"

/* Above this clock difference Kerberos (default clockskew) refuses
 * tickets; worth saying when authentication fails. */
#define SESS_SKEW_WARN_S	300

static int sess_connect_next(xlicen_session *s);
static void sess_behind_note(const xlicen_session *s, char *out,
    size_t outlen);

/* Add "peer: text" to the list of failed attempts. */
static void
sess_note_attempt(xlicen_session *s, int code, const char *text)
{
	size_t used = strlen(s->attempts);

	if (used + 1 < sizeof(s->attempts))
		snprintf(s->attempts + used, sizeof(s->attempts) - used, "%s%s: %s",
		    used > 0 ? "; " : "", s->peer, text);
	s->attempt_code = code;
}

/*
 * One address failed before the server said HELLO: note why and go on
 * with the next address (or server).  Returns 0 while an attempt is in
 * progress or an error once every address failed.
 */
int
sess_attempt_failed(xlicen_session *s, int code, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	sess_note_attempt(s, code, text);
	sess_drop_conn(s);
	return sess_connect_next(s);
}

/* TCP is up: HELLO goes out, and the handshake clock starts. */
int
sess_on_connected(xlicen_session *s)
{
	struct frame_hello_client h;
	int one = 1, rc;

	/* A request is one frame written at once; without NODELAY a reply
	 * can wait for a delayed ACK. */
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	h.min_version = XLICEN_PROTO_VERSION;
	h.max_version = XLICEN_PROTO_VERSION;
	if ((rc = frame_hello_client_encode(&s->out, &h)) != 0)
		return sess_fail(s, rc, "cannot encode HELLO");
	s->state = SESS_HELLO;
	s->deadline = sess_now_ms() + sess_handshake_ms(s);
	/*
	 * The first context token goes right behind the HELLO, in the same
	 * segment: a round trip less per connection (docs/PROTOCOL.md,
	 * section 4).  A server that refuses the HELLO never reads it.  We
	 * stay in HELLO, with its failover to the next address, until the
	 * server's HELLO comes.
	 */
	s->ctx_early = 0;
	if ((rc = sess_init_context(s, NULL, 0)) != 0)
		return rc;
	if (s->state == SESS_CONTEXT) {
		s->state = SESS_HELLO;
		s->ctx_early = 1;
	}
	return 0;
}

/* Start a TCP connection to the next address; see sess_attempt_failed. */
static int
sess_connect_next(xlicen_session *s)
{
	const struct discover_addr *a;
	char name[300], text[256];
	int rc;

	for (;;) {
		while (s->addr_i >= s->naddrs) {
			if (s->srv_i >= s->servers.n) {
				s->peer[0] = '\0';
				s->state = SESS_CLOSED;
				return sess_seterr(s, s->attempt_code != 0 ?
				    s->attempt_code : XLICEN_E_CONNECT, "%s",
				    s->attempts[0] != '\0' ? s->attempts :
				    "no server to connect to");
			}
			s->cur = &s->servers.v[s->srv_i++];
			s->addr_i = 0;
			discover_server_format(s->cur, s->peer, sizeof(s->peer));
			rc = discover_resolve(s->cur, s->addrs, &s->naddrs, text,
			    sizeof(text));
			if (rc == XLICEN_E_NOMEM) {
				s->state = SESS_CLOSED;
				return sess_seterr(s, rc, "out of memory");
			}
			if (rc != 0)
				sess_note_attempt(s, XLICEN_E_CONNECT, text);
		}
		a = &s->addrs[s->addr_i++];
		discover_server_format(s->cur, name, sizeof(name));
		if (strcmp(a->shown, s->cur->host) == 0)
			snprintf(s->peer, sizeof(s->peer), "%s", name);
		else
			snprintf(s->peer, sizeof(s->peer), "%s (%s)", name, a->shown);
		s->gen++;
		s->fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    IPPROTO_TCP);
		if (s->fd < 0) {
			snprintf(text, sizeof(text), "socket: %s", strerror(errno));
			sess_note_attempt(s, XLICEN_E_CONNECT, text);
			continue;
		}
		if (connect(s->fd, (const struct sockaddr *)&a->ss, a->len) == 0)
			return sess_on_connected(s);
		if (errno == EINPROGRESS || errno == EINTR) {
			s->state = SESS_CONNECTING;
			s->deadline = sess_now_ms() + sess_connect_ms(s);
			return 0;
		}
		snprintf(text, sizeof(text), "%s", strerror(errno));
		close(s->fd);
		s->fd = -1;
		sess_note_attempt(s, XLICEN_E_CONNECT, text);
	}
}

/*
 * Without a server list from the caller, ask DNS (SRV records of the
 * domain) at the first connection and again when the answer is older
 * than DISCOVER_SRV_CACHE_MS.
 */
static int
sess_servers_refresh(xlicen_session *s)
{
	struct discover_list l = { NULL, 0 };
	char text[512];
	int64_t now = sess_now_ms();
	int rc;

	if (!s->auto_servers || (s->servers.n > 0 &&
	    now - s->servers_at < DISCOVER_SRV_CACHE_MS))
		return 0;
	rc = discover_auto(&l, text, sizeof(text));
	if (rc != 0) {
		s->state = SESS_CLOSED;
		return sess_seterr(s, rc, "%s", text);
	}
	discover_list_free(&s->servers);
	s->servers = l;
	s->servers_at = now;
	return 0;
}

/* Begin connecting from the first server of the list. */
int
sess_connect_start(xlicen_session *s)
{
	int rc;

	sess_drop_conn(s);
	s->srv_i = 0;
	s->naddrs = 0;
	s->addr_i = 0;
	s->cur = NULL;
	s->attempt_code = 0;
	s->attempts[0] = '\0';
	s->peer[0] = '\0';
	s->skew = 0;
	s->dropped = 0;
	sess_clearerr(s);
	if ((rc = sess_servers_refresh(s)) != 0)
		return rc;
	return sess_connect_next(s);
}

/* A connection is being made (not yet open, not failed). */
int
sess_conn_pending(const xlicen_session *s)
{
	return s->state == SESS_CONNECTING || s->state == SESS_HELLO ||
	    s->state == SESS_CONTEXT;
}

/* "; the clocks differ by N s" when that may explain a Kerberos failure. */
void
sess_skew_note(const xlicen_session *s, char *out, size_t outlen)
{
	int64_t a = s->skew < 0 ? -s->skew : s->skew;

	out[0] = '\0';
	if (s->skew > SESS_SKEW_WARN_S)
		sess_behind_note(s, out, outlen);
	else if (a > SESS_SKEW_WARN_S)
		snprintf(out, outlen, " (the server's clock differs from ours by "
		    "%lld s: check the time on both hosts)", (long long)s->skew);
}

/* Our clock behind the server's: tickets the KDC dates by its (and the
 * server's) clock start in our future. */
static void
sess_behind_note(const xlicen_session *s, char *out, size_t outlen)
{
	snprintf(out, outlen, " (our clock is %lld s behind the server's: "
	    "set this host's clock (NTP), then try again)", (long long)s->skew);
}

/* Whether the host of a server list entry is an address literal. */
static int
sess_host_is_addr(const char *host)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1;
}

/*
 * Why a failed gss_init_sec_context failed, and what to do, when its
 * minor status says: a service principal the KDC does not know (target,
 * as we named it), or a ticket refused for the clocks.  Else the clock
 * note of sess_skew_note.
 */
static void
sess_auth_note(const xlicen_session *s, OM_uint32 min, const char *target,
    char *out, size_t outlen)
{
	out[0] = '\0';
	if (min == (OM_uint32)KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN) {
		if (s->service != NULL)
			snprintf(out, outlen, " (the KDC knows no service %s: "
			    "check the name given with --service or "
			    "$XLICEN_SERVICE)", target);
		else if (sess_host_is_addr(s->cur->host))
			snprintf(out, outlen, " (the server was given as an "
			    "address, and the KDC knows no service %s: name the "
			    "server by its host name, or give its principal with "
			    "--service or $XLICEN_SERVICE, e.g. %s@HOST)", target,
			    XLICEN_SERVICE_NAME);
		else
			snprintf(out, outlen, " (the KDC knows no service %s: "
			    "check the server's host name, or give its principal "
			    "with --service or $XLICEN_SERVICE)", target);
		return;
	}
	if ((min == (OM_uint32)KRB5KRB_AP_ERR_TKT_NYV ||
	    min == (OM_uint32)KRB5KRB_AP_ERR_SKEW) && s->skew > SESS_SKEW_IGNORE_S) {
		sess_behind_note(s, out, outlen);
		return;
	}
	/* Not yet valid although the server's clock and ours agree: the
	 * ticket's start came from the KDC's clock. */
	if (min == (OM_uint32)KRB5KRB_AP_ERR_TKT_NYV &&
	    s->skew >= -SESS_SKEW_IGNORE_S && s->skew <= SESS_SKEW_IGNORE_S) {
		snprintf(out, outlen, " (the ticket starts later than the clock "
		    "here, which agrees with the server's: check the time on "
		    "the KDC)");
		return;
	}
	sess_skew_note(s, out, outlen);
}

/* Whether a failed init_sec_context means "you have no usable tickets". */
static int
sess_is_no_creds(OM_uint32 maj, OM_uint32 min)
{
	OM_uint32 routine = GSS_ROUTINE_ERROR(maj);

	if (routine == GSS_S_NO_CRED || routine == GSS_S_CREDENTIALS_EXPIRED)
		return 1;
	return min == (OM_uint32)KRB5_FCC_NOFILE ||
	    min == (OM_uint32)KRB5_CC_NOTFOUND ||
	    min == (OM_uint32)KRB5_CC_NOSUPP ||
	    min == (OM_uint32)KRB5_CC_FORMAT ||
	    min == (OM_uint32)KRB5KRB_AP_ERR_TKT_EXPIRED;
}

/* The context is complete: remember until when it is good, and whom it
 * authenticated. */
static void
sess_context_done(xlicen_session *s, OM_uint32 time_rec)
{
	gss_name_t src = GSS_C_NO_NAME;
	OM_uint32 maj, min;
	int64_t now = sess_now_ms(), life;

	life = time_rec == GSS_C_INDEFINITE ? CCACHE_INDEFINITE_MS :
	    (int64_t)time_rec * 1000;
	s->ctx_end = now + life;
	s->ctx_check = now + life * SESS_CTX_REFRESH_PCT / 100;
	/* An early refresh that brought no longer life (the service ticket
	 * came from the cache) is not repeated: this context runs out, and
	 * the next one is made with a new ticket. */
	if (s->ctx_prev_end != 0 && s->ctx_end < s->ctx_prev_end + SESS_CTX_GAIN_MS)
		s->ctx_check = s->ctx_end;
	s->ctx_prev_end = 0;
	s->creds_low = 0;
	if (s->cc != NULL && s->cc->principal[0] != '\0') {
		memcpy(s->principal, s->cc->principal,
		    strlen(s->cc->principal) + 1);
		return;
	}
	/* MIT krb5 1.20's gss_inquire_context of a context at its end
	 * (lifetime 0) makes the initiator's name, then returns
	 * GSS_S_CONTEXT_EXPIRED without it: the name leaks.  A context made
	 * within a second of its end (ticket times are whole seconds; a
	 * blocking call dials with the ticket of its last second) keeps the
	 * principal the session had; it is replaced at once anyway. */
	if (time_rec != GSS_C_INDEFINITE &&
	    (int64_t)time_rec * 1000 <= SESS_CTX_TICK_MS)
		return;
	maj = gss_inquire_context(&min, s->ctx, &src, NULL, NULL, NULL, NULL,
	    NULL, NULL);
	if (!GSS_ERROR(maj) &&
	    gssx_display_name(src, s->principal, sizeof(s->principal)) != 0)
		s->principal[0] = '\0';
	if (src != GSS_C_NO_NAME)
		gss_release_name(&min, &src);
}

/*
 * Make the target a Kerberos mechanism name, once per connection: given a
 * name that is not one, each gss_init_sec_context call imports it into
 * the mechanism and frees it again, and each of those makes and frees a
 * krb5 context (stat() and access() of krb5.conf).  The same conversion
 * the call would make; if it fails, the name stays as it was and the call
 * reports why.
 */
static void
sess_canon_target(xlicen_session *s)
{
	gss_name_t mn = GSS_C_NO_NAME;
	OM_uint32 maj, min;

	maj = gss_canonicalize_name(&min, s->target, gss_mech_krb5, &mn);
	if (GSS_ERROR(maj))
		return;
	gss_release_name(&min, &s->target);
	s->target = mn;
}

/*
 * One round of gss_init_sec_context: in is the server's token (NULL on
 * the first call).  The output token goes out even when the call failed
 * (it may be an error token the server should see).
 */
int
sess_init_context(xlicen_session *s, const uint8_t *in_p, size_t in_n)
{
	OM_uint32 maj, min, tmp, ret_flags = 0, time_rec = 0;
	gss_buffer_desc in, out = GSS_C_EMPTY_BUFFER;
	char target[300], text[600], note[600], missing[96], ftext[128];
	char reason[1200];
	int rc, code;

	/* The name asked for: also what a failure's note names, in any
	 * round. */
	if (s->service != NULL)
		snprintf(target, sizeof(target), "%s", s->service);
	else
		snprintf(target, sizeof(target), "%s@%s", XLICEN_SERVICE_NAME,
		    s->cur->host);
	if (s->target == GSS_C_NO_NAME) {
		ccache_keep_config();
		if ((rc = gssx_import_service(target, &s->target, text,
		    sizeof(text))) != 0)
			return sess_fail(s, rc, "service name %s: %s", target, text);
		sess_canon_target(s);
		if ((rc = ccache_get(&s->cc, text, sizeof(text))) != 0)
			return sess_abort(s, rc, text);
	}
	in.value = (void *)in_p;
	in.length = in_n;
	maj = gss_init_sec_context(&min, s->cc != NULL ? s->cc->cred :
	    GSS_C_NO_CREDENTIAL, &s->ctx, s->target,
	    GSS_C_NO_OID, GSSX_REQUIRED_FLAGS, 0, GSS_C_NO_CHANNEL_BINDINGS,
	    in_p != NULL ? &in : GSS_C_NO_BUFFER, NULL, &out, &ret_flags,
	    &time_rec);
	rc = 0;
	if (out.length > 0)
		rc = frame_encode(&s->out, FRAME_CONTEXT, out.value, out.length);
	gss_release_buffer(&tmp, &out);
	if (rc != 0)
		return sess_fail(s, rc, "cannot frame the context token");
	if (GSS_ERROR(maj)) {
		gssx_status_text(maj, min, text, sizeof(text));
		if (sess_is_no_creds(maj, min))
			code = XLICEN_E_NO_CREDS;
		else if (GSS_ROUTINE_ERROR(maj) == GSS_S_BAD_NAME ||
		    GSS_ROUTINE_ERROR(maj) == GSS_S_BAD_NAMETYPE ||
		    GSS_ROUTINE_ERROR(maj) == GSS_S_BAD_MECH)
			code = XLICEN_E_GSS;
		else
			code = XLICEN_E_AUTH;
		sess_auth_note(s, min, target, note, sizeof(note));
		snprintf(reason, sizeof(reason), "%s%s", text, note);
		/* The error token (queued above) goes first, then our ALERT,
		 * so that the server logs why we gave up. */
		return sess_abort(s, code, reason);
	}
	if ((rc = sess_flush(s, ftext, sizeof(ftext))) != 0)
		return sess_fail(s, rc, "%s", ftext);
	if (maj & GSS_S_CONTINUE_NEEDED) {
		s->state = SESS_CONTEXT;
		return 0;
	}
	if (!gssx_flags_ok(ret_flags)) {
		gssx_flags_missing(ret_flags, missing, sizeof(missing));
		snprintf(text, sizeof(text), "context lacks: %s", missing);
		return sess_abort(s, XLICEN_E_GSS_FLAGS, text);
	}
	s->state = SESS_OPEN;
	s->deadline = 0;
	frame_dec_set_max(&s->dec, LIMIT_FRAME_POSTAUTH);
	sess_context_done(s, time_rec);
	return 0;
}
