/*
 * wire_probe: a raw protocol client for the integration tests of queues,
 * revocation and the messages libxlicen's blocking calls do not expose.
 * It speaks the protocol with common/ directly (HELLO, the GSS context,
 * wrapped messages) and prints every message it receives, unsolicited
 * ones (request id 0) included, one line each:
 *
 *   TYPE id=N [lease=..] [code=NAME] [request=N] [queue_id=..]
 *        [position=N] [in_use=N] [total=N] [heartbeat=N (GRANT)]
 *        [detail=N] [holders=N] [reason="..."]
 *
 *   wire_probe -s HOST:PORT STEP...
 *     checkout PRODUCT VERSION COUNT FLAGS [WAIT [QUEUE_ID|last]]
 *                       (FLAGS: 1 QUEUE, 2 WAIT; "last": the queue id of
 *                       the last QUEUED received, to ask again)
 *     heartbeat LEASE | release LEASE | reclaim LEASE | remove LEASE
 *                       (LEASE "last": the queue id of the last QUEUED)
 *     listen SECONDS    print what arrives for SECONDS
 *     expect SECONDS    wait for one message (print it, or "none")
 *     wait SECONDS      wait for the reply to the last request that was
 *                       answered later (a WAIT checkout)
 *     status PRODUCT    STATUS of one product; its pools are printed as
 *                       pool=PRODUCT:start=N:expires=N:state=N
 *     flood N           N STATUS requests sent back to back, replies read
 *                       only while a send would block, then all of them;
 *                       prints "FLOOD sent=N replies=M in_order=yes|no"
 *
 * A request's reply is waited for (10 s) and printed.  Exit 0, or 3 on a
 * connection or protocol failure (a line "wire_probe: ..." on stderr).
 *
 * Environment: XLICEN_PROBE_HOST, the HOST a checkout claims (default
 * "probe.example"; may hold any bytes a test wants to send, control
 * characters too), and a reclaim (default: none); XLICEN_PROBE_NOHOST=1, send no HOST at all;
 * XLICEN_PROBE_NOPID=1, send no PID (a checkout sends no DISPLAY either);
 * XLICEN_PROBE_SRC, a local address to connect from (e.g. 127.0.0.2);
 * XLICEN_PROBE_RCVBUF, a receive buffer size to set before connecting.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <gssapi/gssapi.h>

#include "buf.h"
#include "err.h"
#include "frame.h"
#include "gssx.h"
#include "limits.h"
#include "msg.h"

static int fd = -1;
static char last_qid[LIMIT_STRING + 1];
static struct frame_dec dec;
static gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
static uint32_t next_id = 100;

static void __attribute__((noreturn))
die(const char *what, const char *why)
{
	fprintf(stderr, "wire_probe: %s: %s\n", what, why);
	exit(3);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
send_all(const struct buf *b)
{
	size_t off = 0;
	ssize_t n;

	while (off < b->len) {
		n = send(fd, b->data + off, b->len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("send", strerror(errno));
		off += (size_t)n;
	}
}

/* The next frame, waiting up to ms; 0 if none came in time. */
static int
read_frame(struct frame *f, int ms)
{
	static uint8_t pend[65536];
	static size_t plen, poff;
	int64_t end = now_ms() + ms;
	struct pollfd p;
	size_t used;
	ssize_t n;
	int rc;

	for (;;) {
		while (poff < plen) {
			rc = frame_dec_feed(&dec, pend + poff, plen - poff, &used,
			    f);
			poff += used;
			if (rc < 0)
				die("frame", err_str(rc));
			if (rc == 1)
				return 1;
		}
		plen = poff = 0;
		p.fd = fd;
		p.events = POLLIN;
		p.revents = 0;
		ms = (int)(end - now_ms());
		if (ms < 0)
			ms = 0;
		if (poll(&p, 1, ms) <= 0)
			return 0;
		n = recv(fd, pend, sizeof(pend), 0);
		if (n == 0)
			die("recv", "connection closed by the server");
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("recv", strerror(errno));
		}
		plen = (size_t)n;
	}
}

static void
print_msg(const struct msg *m)
{
	printf("%s id=%u", msg_type_name(m->type), m->id);
	if (m->have & MSG_F(TAG_LEASE))
		printf(" lease=%s", m->lease);
	if (m->have & MSG_F(TAG_CODE))
		printf(" code=%s", err_name(m->code));
	if (m->have & MSG_F(TAG_REQUEST))
		printf(" request=%u", m->request);
	if (m->have & MSG_F(TAG_QUEUE_ID)) {
		printf(" queue_id=%s", m->queue_id);
		if (m->type == MSG_QUEUED)
			snprintf(last_qid, sizeof(last_qid), "%s", m->queue_id);
	}
	if (m->have & MSG_F(TAG_POSITION))
		printf(" position=%u", m->position);
	if (m->have & MSG_F(TAG_IN_USE))
		printf(" in_use=%u", m->in_use);
	if (m->have & MSG_F(TAG_TOTAL))
		printf(" total=%u", m->total);
	if (m->have & MSG_F(TAG_DETAIL))
		printf(" detail=%u", m->detail);
	if (m->type == MSG_GRANT && (m->have & MSG_F(TAG_HEARTBEAT)))
		printf(" heartbeat=%u", m->heartbeat);
	if (m->type == MSG_HOLDERS_REPLY)
		printf(" holders=%zu", m->nholders);
	if (m->type == MSG_STATUS_REPLY) {
		size_t i;

		for (i = 0; i < m->npools; i++)
			printf(" pool=%s:start=%llu:expires=%llu:state=%u",
			    m->pools[i].product,
			    (unsigned long long)m->pools[i].start,
			    (unsigned long long)m->pools[i].expires,
			    m->pools[i].state);
	}
	if (m->have & MSG_F(TAG_REASON))
		printf(" reason=\"%s\"", m->reason);
	printf("\n");
	fflush(stdout);
}

/* The next message within ms; 0 if none. */
static int
read_msg(struct msg *m, int ms)
{
	struct frame f;
	struct frame_alert a;
	struct buf plain;
	char err[256];
	int rc;

	if (!read_frame(&f, ms))
		return 0;
	if (f.type == FRAME_ALERT) {
		if (frame_alert_decode(f.body, f.len, &a) == 0) {
			printf("ALERT code=%s reason=\"%s\"\n", err_name(a.code),
			    a.reason);
			fflush(stdout);
		}
		exit(0);
	}
	if (f.type != FRAME_DATA)
		die("frame", "not DATA");
	buf_init(&plain);
	if ((rc = gssx_unwrap(ctx, f.body, f.len, &plain, err, sizeof(err))) !=
	    0)
		die("unwrap", err);
	frame_free(&f);
	if ((rc = msg_decode(plain.data, plain.len, m)) != 0)
		die("decode", err_str(rc));
	buf_free(&plain);
	return 1;
}

static uint32_t
send_msg(struct msg *m)
{
	struct buf enc, out;
	char err[256];

	buf_init(&enc);
	buf_init(&out);
	m->id = next_id++;
	if (msg_encode(m, &enc) != 0 ||
	    gssx_wrap_frame(ctx, enc.data, enc.len, &out, err, sizeof(err)) != 0)
		die("send", "cannot encode or wrap");
	send_all(&out);
	buf_free(&enc);
	buf_free(&out);
	return m->id;
}

/* Print messages until the reply to id (or ms passes: "none"). */
static void
await_reply(uint32_t id, int ms)
{
	int64_t end = now_ms() + ms;
	struct msg m;
	int left;

	for (;;) {
		left = (int)(end - now_ms());
		if (left <= 0 || !read_msg(&m, left)) {
			printf("none\n");
			fflush(stdout);
			return;
		}
		print_msg(&m);
		if (m.id == id) {
			msg_clear(&m);
			return;
		}
		msg_clear(&m);
	}
}

/* Bind to the local address src (a loopback alias, to test what the
 * server makes of the peer address); -1 if src is not of that family or
 * cannot be bound. */
static int
bind_source(int sfd, int family, const char *src)
{
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;
	int rc = -1;

	if (family == AF_INET) {
		memset(&a4, 0, sizeof(a4));
		a4.sin_family = AF_INET;
		if (inet_pton(AF_INET, src, &a4.sin_addr) == 1)
			rc = bind(sfd, (struct sockaddr *)&a4, sizeof(a4));
	} else if (family == AF_INET6) {
		memset(&a6, 0, sizeof(a6));
		a6.sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, src, &a6.sin6_addr) == 1)
			rc = bind(sfd, (struct sockaddr *)&a6, sizeof(a6));
	}
	return rc == 0 ? 0 : -1;
}

static void
connect_to(const char *spec)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256], svc[300], err[512];
	const char *colon = strrchr(spec, ':');
	struct frame_hello_client hc = { 1, 1 };
	struct frame_hello_server hs;
	struct frame f;
	struct buf b;
	gss_name_t target = GSS_C_NO_NAME;
	gss_buffer_desc in = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER;
	OM_uint32 maj, min, flags = 0;
	const char *src = getenv("XLICEN_PROBE_SRC");
	int one = 1;

	if (colon == NULL || (size_t)(colon - spec) >= sizeof(host))
		die(spec, "expected HOST:PORT");
	snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
		die(spec, "cannot resolve");
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd >= 0 && src != NULL && src[0] != '\0' &&
		    bind_source(fd, ai->ai_family, src) != 0) {
			close(fd);
			fd = -1;
			continue;
		}
		if (fd >= 0 && getenv("XLICEN_PROBE_RCVBUF") != NULL) {
			int rb = atoi(getenv("XLICEN_PROBE_RCVBUF"));

			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
		}
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		die(spec, "cannot connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	frame_dec_init(&dec, LIMIT_FRAME_PREAUTH);
	buf_init(&b);
	frame_hello_client_encode(&b, &hc);
	send_all(&b);
	if (!read_frame(&f, 5000) || f.type != FRAME_HELLO ||
	    frame_hello_server_decode(f.body, f.len, &hs) != 0)
		die("hello", "no server HELLO");
	frame_free(&f);
	if (getenv("XLICEN_SERVICE") != NULL && getenv("XLICEN_SERVICE")[0])
		snprintf(svc, sizeof(svc), "%s", getenv("XLICEN_SERVICE"));
	else
		snprintf(svc, sizeof(svc), "%s@%s", XLICEN_SERVICE_NAME, host);
	if (gssx_import_service(svc, &target, err, sizeof(err)) != 0)
		die("service", err);
	for (;;) {
		maj = gss_init_sec_context(&min, GSS_C_NO_CREDENTIAL, &ctx,
		    target, GSS_C_NO_OID, GSSX_REQUIRED_FLAGS, 0,
		    GSS_C_NO_CHANNEL_BINDINGS, &in, NULL, &out, &flags, NULL);
		if (in.value != NULL)
			free(in.value);
		in.value = NULL;
		in.length = 0;
		if (out.length > 0) {
			buf_reset(&b);
			frame_encode(&b, FRAME_CONTEXT, out.value, out.length);
			send_all(&b);
			gss_release_buffer(&min, &out);
		}
		if (GSS_ERROR(maj)) {
			gssx_status_text(maj, min, err, sizeof(err));
			die("gss", err);
		}
		if (!(maj & GSS_S_CONTINUE_NEEDED))
			break;
		if (!read_frame(&f, 5000) || f.type != FRAME_CONTEXT)
			die("gss", "no context token from the server");
		in.value = f.body;
		in.length = f.len;
	}
	gss_release_name(&min, &target);
	frame_dec_set_max(&dec, LIMIT_FRAME_POSTAUTH);
	buf_free(&b);
}

/* The "flood" step: n STATUS requests written back to back; replies are
 * read only while a send would block (so that the server's output backs
 * up), then until every one is in.  Checks they answer in order. */
static void
flood(unsigned n)
{
	struct buf all, enc;
	struct msg m;
	struct pollfd p;
	char err[256];
	size_t off = 0;
	unsigned i, got = 0, in_order = 1;
	int64_t end;
	ssize_t w;

	buf_init(&all);
	for (i = 0; i < n; i++) {
		buf_init(&enc);
		msg_init(&m, MSG_STATUS, next_id++);
		if (msg_encode(&m, &enc) != 0 ||
		    gssx_wrap_frame(ctx, enc.data, enc.len, &all, err,
		    sizeof(err)) != 0)
			die("flood", "cannot encode or wrap");
		buf_free(&enc);
		msg_clear(&m);
	}
	end = now_ms() + 60000;
	while (got < n && now_ms() < end) {
		if (off < all.len) {
			p.fd = fd;
			p.events = POLLOUT;
			p.revents = 0;
			if (poll(&p, 1, 100) > 0) {
				w = send(fd, all.data + off, all.len - off,
				    MSG_NOSIGNAL | MSG_DONTWAIT);
				if (w < 0 && errno != EAGAIN && errno != EINTR)
					die("send", strerror(errno));
				if (w > 0)
					off += (size_t)w;
				continue;
			}
		}
		/* Blocked, or all sent: take the replies that are there. */
		while (got < n && read_msg(&m, off < all.len ? 20 : 10000)) {
			if (m.id != next_id - n + got)
				in_order = 0;
			got++;
			msg_clear(&m);
		}
	}
	printf("FLOOD sent=%u replies=%u in_order=%s\n", n, got,
	    in_order ? "yes" : "no");
	fflush(stdout);
	buf_free(&all);
}

int
main(int argc, char **argv)
{
	struct msg m;
	uint32_t id = 0;
	int i = 1, ms;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3 || strcmp(argv[1], "-s") != 0) {
		fprintf(stderr, "usage: wire_probe -s HOST:PORT STEP...\n");
		return 1;
	}
	connect_to(argv[2]);
	for (i = 3; i < argc; i++) {
		const char *c = argv[i];

		msg_init(&m, 0, 0);
		if (strcmp(c, "checkout") == 0 && i + 4 < argc) {
			m.type = MSG_CHECKOUT;
			msg_set_str(&m, TAG_PRODUCT, argv[i + 1]);
			msg_set_str(&m, TAG_VERSION, argv[i + 2]);
			m.count = (uint32_t)strtoul(argv[i + 3], NULL, 10);
			m.flags = (uint32_t)strtoul(argv[i + 4], NULL, 10);
			m.pid = (uint32_t)getpid();
			m.have |= MSG_F(TAG_COUNT) | MSG_F(TAG_FLAGS);
			if (getenv("XLICEN_PROBE_NOPID") == NULL)
				m.have |= MSG_F(TAG_PID);
			if (getenv("XLICEN_PROBE_NOHOST") == NULL)
				msg_set_str(&m, TAG_HOST,
				    getenv("XLICEN_PROBE_HOST") != NULL ?
				    getenv("XLICEN_PROBE_HOST") :
				    "probe.example");
			i += 4;
			if (i + 1 < argc && argv[i + 1][0] >= '0' &&
			    argv[i + 1][0] <= '9') {
				m.wait = (uint32_t)strtoul(argv[++i], NULL, 10);
				m.have |= MSG_F(TAG_WAIT);
				if (i + 1 < argc && (argv[i + 1][0] == 'q' ||
				    strcmp(argv[i + 1], "last") == 0)) {
					i++;
					msg_set_str(&m, TAG_QUEUE_ID,
					    strcmp(argv[i], "last") == 0 ?
					    last_qid : argv[i]);
				}
			}
			id = send_msg(&m);
			/* A WAIT is answered later: "wait" picks it up. */
			if (!(m.flags & MSG_FLAG_WAIT))
				await_reply(id, 10000);
		} else if ((strcmp(c, "heartbeat") == 0 ||
		    strcmp(c, "release") == 0 || strcmp(c, "reclaim") == 0 ||
		    strcmp(c, "remove") == 0) && i + 1 < argc) {
			m.type = strcmp(c, "heartbeat") == 0 ? MSG_HEARTBEAT :
			    strcmp(c, "release") == 0 ? MSG_RELEASE :
			    strcmp(c, "reclaim") == 0 ? MSG_RECLAIM : MSG_REMOVE;
			i++;
			msg_set_str(&m, TAG_LEASE, strcmp(argv[i], "last") ==
			    0 ? last_qid : argv[i]);
			if (m.type == MSG_RECLAIM &&
			    getenv("XLICEN_PROBE_HOST") != NULL)
				msg_set_str(&m, TAG_HOST,
				    getenv("XLICEN_PROBE_HOST"));
			await_reply(send_msg(&m), 10000);
		} else if (strcmp(c, "status") == 0 && i + 1 < argc) {
			m.type = MSG_STATUS;
			msg_set_str(&m, TAG_PRODUCT, argv[++i]);
			await_reply(send_msg(&m), 10000);
		} else if (strcmp(c, "flood") == 0 && i + 1 < argc) {
			flood((unsigned)strtoul(argv[++i], NULL, 10));
		} else if ((strcmp(c, "listen") == 0 ||
		    strcmp(c, "expect") == 0 || strcmp(c, "wait") == 0) &&
		    i + 1 < argc) {
			ms = (int)(atof(argv[++i]) * 1000);
			if (strcmp(c, "wait") == 0) {
				await_reply(id, ms);
			} else if (strcmp(c, "expect") == 0) {
				if (read_msg(&m, ms))
					print_msg(&m);
				else
					printf("none\n");
			} else {
				int64_t end = now_ms() + ms;

				while (now_ms() < end &&
				    read_msg(&m, (int)(end - now_ms()))) {
					print_msg(&m);
					msg_clear(&m);
				}
			}
		} else {
			fprintf(stderr, "wire_probe: bad step \"%s\"\n", c);
			return 1;
		}
		msg_clear(&m);
	}
	close(fd);
	return 0;
}
