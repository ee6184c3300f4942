/*
 * The event loop: one epoll set for the listening sockets, a signalfd and
 * every connection; no thread or process per client.  Timers (handshake
 * and idle deadlines, lease expiry) are checked each time round.  Accept
 * admits or refuses a client against the connection caps, from the
 * counts conn.c keeps; rereading the licenses is reload.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include "err.h"
#include "limits.h"
#include "license.h"
#include "log.h"
#include "http_jobs.h"
#include "metrics.h"
#include "policy.h"
#include "server.h"
#include "trace.h"

/* epoll data for the listeners and the signalfd: small integers, never
 * valid conn pointers. */
#define LOOP_TAG_SIGNAL	((void *)1)
#define LOOP_TAG_LISTEN	((void *)2)
#define LOOP_TAG_SYNC	((void *)3)
#define LOOP_TAG_METRICS	((void *)4)
#define LOOP_TAG_HTTP	((void *)5)

/* "addr:port" or "[v6addr]:port" or "port" -> host and port strings. */
static int
loop_split_addr(const char *spec, char *host, size_t hostlen, char *port,
    size_t portlen)
{
	const char *colon, *close;

	if (spec[0] == '[') {
		if ((close = strchr(spec, ']')) == NULL || close[1] != ':')
			return XLICEN_E_CONFIG;
		if ((size_t)(close - spec - 1) >= hostlen)
			return XLICEN_E_CONFIG;
		snprintf(host, hostlen, "%.*s", (int)(close - spec - 1), spec + 1);
		snprintf(port, portlen, "%s", close + 2);
		return 0;
	}
	if ((colon = strrchr(spec, ':')) == NULL) {
		snprintf(host, hostlen, "%s", "");
		snprintf(port, portlen, "%s", spec);
		return 0;
	}
	if ((size_t)(colon - spec) >= hostlen)
		return XLICEN_E_CONFIG;
	snprintf(host, hostlen, "%.*s", (int)(colon - spec), spec);
	snprintf(port, portlen, "%s", colon + 1);
	return 0;
}

static void
loop_format_addr(const struct sockaddr *sa, char *out, size_t outlen,
    char *addr, size_t addrlen)
{
	char h[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, h, sizeof(h));
		port = ntohs(s4->sin_port);
		snprintf(out, outlen, "%s:%u", h, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, h, sizeof(h));
		port = ntohs(s6->sin6_port);
		snprintf(out, outlen, "[%s]:%u", h, port);
	} else {
		snprintf(out, outlen, "?");
	}
	if (addr != NULL)
		snprintf(addr, addrlen, "%s", h);
}

static int
loop_add_fd(struct server *srv, int fd, void *tag)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = tag;
	return epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev);
}

int
loop_listen(struct server *srv)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char host[256], port[32], shown[80];
	int i, fd, one = 1, rc;

	for (i = 0; i < srv->cfg.nlisten; i++) {
		if (loop_split_addr(srv->cfg.listen[i], host, sizeof(host), port,
		    sizeof(port)) != 0) {
			log_msg(LOG_ERR, "listen address \"%s\": expected ADDR:PORT "
			    "or [ADDR]:PORT", srv->cfg.listen[i]);
			return XLICEN_E_CONFIG;
		}
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
		rc = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &res);
		if (rc != 0) {
			log_msg(LOG_ERR, "listen address \"%s\": %s",
			    srv->cfg.listen[i], gai_strerror(rc));
			return XLICEN_E_CONFIG;
		}
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			if (srv->nlisten >= SERVER_MAX_LISTEN)
				break;
			fd = socket(ai->ai_family, ai->ai_socktype |
			    SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
			if (fd < 0)
				continue;
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (ai->ai_family == AF_INET6)
				setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
				    sizeof(one));
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
			    listen(fd, LIMIT_LISTEN_BACKLOG) != 0) {
				log_msg(LOG_ERR, "cannot listen on %s: %s",
				    srv->cfg.listen[i], strerror(errno));
				close(fd);
				freeaddrinfo(res);
				return XLICEN_E_IO;
			}
			sslen = sizeof(ss);
			getsockname(fd, (struct sockaddr *)&ss, &sslen);
			loop_format_addr((struct sockaddr *)&ss, shown,
			    sizeof(shown), NULL, 0);
			log_msg(LOG_INFO, "listening on %s", shown);
			snprintf(srv->listen_shown[srv->nlisten],
			    sizeof(srv->listen_shown[0]), "%s", shown);
			srv->listen_fds[srv->nlisten++] = fd;
		}
		freeaddrinfo(res);
		res = NULL;
	}
	if (srv->nlisten == 0) {
		log_msg(LOG_ERR, "no listening socket");
		return XLICEN_E_CONFIG;
	}
	return 0;
}

/*
 * The key of a peer for the per-peer caps: an IPv4 address as it is, an
 * IPv6 address cut to its LIMIT_PEER_V6_PREFIX-bit prefix ("p::/64"): one
 * host there has a whole /64 to pick source addresses from.
 */
void
loop_peer_key(const struct sockaddr *sa, char *key, size_t keylen)
{
	char h[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, h, sizeof(h));
		snprintf(key, keylen, "%s", h);
	} else if (sa->sa_family == AF_INET6) {
		struct in6_addr a = ((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr;
		int bit;

		for (bit = LIMIT_PEER_V6_PREFIX; bit < 128; bit++)
			a.s6_addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
		inet_ntop(AF_INET6, &a, h, sizeof(h));
		snprintf(key, keylen, "%s/%d", h, LIMIT_PEER_V6_PREFIX);
	} else {
		snprintf(key, keylen, "?");
	}
}

/* The ALERT BUSY reason of each cause (and its name in the summary). */
static const char *const loop_cause_text[LOOP_NCAUSES] = {
	[LOOP_REFUSE_SHUTDOWN] = "server is shutting down",
	[LOOP_REFUSE_TOTAL] = "too many connections",
	[LOOP_REFUSE_PEER] = "too many connections from this address",
	[LOOP_REFUSE_NOFD] = "server out of file descriptors",
	[LOOP_REFUSE_NOMEM] = "out of memory",
	[LOOP_EVICT_TOTAL] = "handshake evicted: too many connections",
	[LOOP_EVICT_PEER] = "handshake evicted: too many connections from "
	    "this address",
	[LOOP_EVICT_UNAUTH] = "handshake evicted: too many unauthenticated "
	    "connections",
	[LOOP_EVICT_UNAUTH_PEER] = "handshake evicted: too many "
	    "unauthenticated connections from this address",
	[LOOP_EVICT_NOFD] = "handshake evicted: server out of file "
	    "descriptors",
	[LOOP_CLOSE_HANDSHAKE_TIMEOUT] = "handshake not completed in time",
	[LOOP_CLOSE_FRAME_BUDGET] = "partial frame budget spent",
};

/*
 * One line for what was refused or closed since the last one, at most
 * every LIMIT_REFUSE_LOG_MS (a flood made one line per connection,
 * 300,000 lines in 25 s); force: now, whatever the interval (at exit).
 */
static void
loop_log_refusals(struct server *srv, int force)
{
	char line[1024];
	int64_t now = server_now_ms();
	uint64_t total = 0;
	size_t off = 0;
	int i;

	if (!force && now - srv->refused_logged_ms < LIMIT_REFUSE_LOG_MS)
		return;
	for (i = 0; i < LOOP_NCAUSES; i++)
		total += srv->refused[i];
	if (total == 0)
		return;
	line[0] = '\0';
	for (i = 0; i < LOOP_NCAUSES; i++) {
		if (srv->refused[i] == 0 || off >= sizeof(line))
			continue;
		off += (size_t)snprintf(line + off, sizeof(line) - off,
		    "%s%s: %llu", off > 0 ? ", " : "", loop_cause_text[i],
		    (unsigned long long)srv->refused[i]);
	}
	log_msg(LOG_WARNING, "refused or closed %llu connection(s) (%s)",
	    (unsigned long long)total, line);
	memset(srv->refused, 0, sizeof(srv->refused));
	srv->refused_logged_ms = now;
}

/* Refuse a new connection: a best-effort ALERT BUSY, then close. */
static void
loop_refuse(struct server *srv, int fd, enum loop_cause cause)
{
	struct buf b;

	buf_init(&b);
	if (frame_alert_encode(&b, XLICEN_E_BUSY, loop_cause_text[cause]) == 0)
		(void)send(fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	buf_free(&b);
	conn_note(srv, cause);
	close(fd);
}

/*
 * The handshake to evict first: of the peer e, or of all (e NULL); NULL if
 * none may go now.  A silent one accepted in this turn of the loop has not
 * had its first bytes read yet: it is not evicted, nor is any whose HELLO
 * was answered while such silent ones remain (a flood from a client's own
 * address would otherwise evict the client before its HELLO was seen).
 * soft: for the handshake caps, which may give way; then a silent one
 * younger than LIMIT_HANDSHAKE_GRACE_MS is not evicted either (a client
 * slow to be scheduled still gets to send its HELLO).
 */
static struct conn *
loop_hs_victim(const struct server *srv, const struct peer_slot *e,
    int soft)
{
	struct conn *c = e != NULL ? e->uold[0] : srv->hs_old[0];

	if (c != NULL)
		return c->round != srv->round && (!soft || c->accepted_ms +
		    LIMIT_HANDSHAKE_GRACE_MS <= srv->accept_ms) ? c : NULL;
	return e != NULL ? e->uold[1] : srv->hs_old[1];
}

/* Close handshake c to make room: a best-effort ALERT BUSY naming the
 * cap, then free it at once (its descriptor is what is short).  Only
 * called from loop_accept, after the round's events are handled, so no
 * pending event refers to c. */
static void
loop_evict(struct conn *c, enum loop_cause cause)
{
	struct buf b;

	buf_init(&b);
	if (frame_alert_encode(&b, XLICEN_E_BUSY, loop_cause_text[cause]) == 0)
		(void)send(c->fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	buf_free(&b);
	conn_note(c->srv, cause);
	conn_free(c);
}

/*
 * Make room for a new connection from peer key addr: over a per-peer cap,
 * that peer's oldest handshakes are evicted; over a server-wide cap, the
 * oldest handshakes of all (loop_hs_victim says which).  Authenticated
 * connections are never evicted: if max_connections(_per_peer) is full of
 * them (or of handshakes too new to evict), the new connection is refused.
 * Returns 0 to admit it, or the cause to refuse it with (never
 * LOOP_REFUSE_SHUTDOWN, which is 0).
 */
static int
loop_make_room(struct server *srv, const char *addr)
{
	struct peer_slot *e;
	struct conn *v;

	/* (Each eviction may move or empty the slot: look it up again.) */
	while ((e = conn_peer_find(srv, addr)) != NULL &&
	    e->n >= srv->cfg.conn_per_peer) {
		if ((v = loop_hs_victim(srv, e, 0)) == NULL)
			return LOOP_REFUSE_PEER;
		loop_evict(v, LOOP_EVICT_PEER);
	}
	/* The handshake caps give way while every candidate is new (the
	 * other caps bound them); later accepts evict those still silent. */
	while ((e = conn_peer_find(srv, addr)) != NULL &&
	    e->nu >= srv->cfg.conn_unauth_per_peer &&
	    (v = loop_hs_victim(srv, e, 1)) != NULL)
		loop_evict(v, LOOP_EVICT_UNAUTH_PEER);
	while (srv->nconns >= srv->cfg.conn_total) {
		if ((v = loop_hs_victim(srv, NULL, 0)) == NULL)
			return LOOP_REFUSE_TOTAL;
		loop_evict(v, LOOP_EVICT_TOTAL);
	}
	while (srv->nhandshakes >= srv->cfg.conn_unauth &&
	    (v = loop_hs_victim(srv, NULL, 1)) != NULL)
		loop_evict(v, LOOP_EVICT_UNAUTH);
	return 0;
}

/* Accept what is pending on lfd (at most LIMIT_ACCEPT_BATCH).  Called
 * after the round's other events: evictions free connections. */
static void
loop_accept(struct server *srv, int lfd)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	char peer[80], addr[48];
	struct conn *c;
	int fd, one = 1, i, cause;

	srv->accept_ms = server_now_ms();
	for (i = 0; i < LIMIT_ACCEPT_BATCH; i++) {
		sslen = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EMFILE || errno == ENFILE) &&
		    loop_hs_victim(srv, NULL, 0) != NULL) {
			/* Out of descriptors: the oldest handshake gives
			 * up its one, and the client is taken. */
			loop_evict(loop_hs_victim(srv, NULL, 0),
			    LOOP_EVICT_NOFD);
			continue;
		}
		if (fd < 0 && (errno == EMFILE || errno == ENFILE) &&
		    srv->spare_fd >= 0) {
			/* Out of descriptors, every one authenticated: the
			 * pending client would keep the listener readable
			 * and the loop spinning.  Give up the spare one to
			 * take the client and refuse it (ALERT BUSY), then
			 * take the spare back. */
			close(srv->spare_fd);
			fd = accept4(lfd, (struct sockaddr *)&ss, &sslen,
			    SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd >= 0)
				loop_refuse(srv, fd, LOOP_REFUSE_NOFD);
			srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			continue;
		}
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_msg(LOG_WARNING, "accept: %s", strerror(errno));
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		loop_format_addr((struct sockaddr *)&ss, peer, sizeof(peer),
		    NULL, 0);
		loop_peer_key((struct sockaddr *)&ss, addr, sizeof(addr));
		if (srv->stopping) {
			loop_refuse(srv, fd, LOOP_REFUSE_SHUTDOWN);
			continue;
		}
		if ((cause = loop_make_room(srv, addr)) != 0) {
			loop_refuse(srv, fd, (enum loop_cause)cause);
			continue;
		}
		if (conn_peer_add(srv, addr) != 0) {
			conn_note(srv, LOOP_REFUSE_NOMEM);
			close(fd);
		} else if ((c = conn_new(srv, fd, peer, addr)) == NULL) {
			conn_note(srv, LOOP_REFUSE_NOMEM);
			conn_peer_gone(srv, addr);
			close(fd);
		} else {
			c->round = srv->round;
			c->accepted_ms = srv->accept_ms;
			conn_handshake_start(c);
		}
	}
}

static void
loop_expire(struct server *srv)
{
	int64_t now = (int64_t)time(NULL);
	int n = 0;

	if (srv->next_expiry == 0 || now < srv->next_expiry)
		return;
	/* Not while the last round's COMMIT is under way (it would wait
	 * for it): in a round after it answered. */
	if (store_sync_pending(srv->store))
		return;
	if (store_expire(srv->store, now, &n) == 0 && n > 0)
		log_msg(LOG_INFO, "expired %d lease(s) or lingering seat(s)", n);
	/* On a shared store (every LIMIT_STORE_POLL_S at least) the seats
	 * other servers freed may serve this server's queue too. */
	if (n > 0 || store_shared(srv->store))
		queue_seats_freed(srv);
	srv->next_expiry = store_next_expiry(srv->store);
}

static void
loop_timers(struct server *srv)
{
	struct conn *c, *next;
	int64_t now = server_now_ms();

	/* Walk the connections only when one is due: deadlines only move
	 * later on traffic, so the cached minimum stays a lower bound and
	 * a busy loop does no per-connection work here. */
	if (now >= srv->conn_deadline_ms) {
		srv->conn_deadline_ms = INT64_MAX;
		for (c = srv->conns; c != NULL; c = next) {
			next = c->next;
			if (now >= c->deadline_ms)
				conn_on_timeout(c);	/* may re-arm or free c */
			else if (c->deadline_ms < srv->conn_deadline_ms)
				srv->conn_deadline_ms = c->deadline_ms;
		}
	}
	loop_expire(srv);
	handlers_timers(srv);
	loop_log_refusals(srv, 0);
	log_tick();
}

/* Milliseconds until the next timer, at most one second. */
static int
loop_wait_ms(struct server *srv)
{
	int64_t now = server_now_ms(), next = now + 1000;
	int64_t q = handlers_next_deadline_ms(srv);
	int64_t carry = store_carry_until(srv->store);

	if (srv->conn_deadline_ms < next)
		next = srv->conn_deadline_ms;
	if (q != 0 && q < next)
		next = q;
	if (carry != 0 && carry < next)
		next = carry;
	return next <= now ? 0 : (int)(next - now);
}

/* SIGHUP and SIGUSR1: the --trace file by its name again, as the log
 * file (log_reopen), and a failure said the same way. */
static void
loop_trace_reopen(const char *why)
{
	char err[256];

	if (trace_file() == NULL)
		return;
	if (trace_reopen(err, sizeof(err)) != 0)
		log_msg(LOG_ERR, "%s: cannot reopen trace file %s (%s); trace "
		    "lines still go to the file it was", why, trace_file(),
		    err);
	else
		log_msg(LOG_INFO, "%s: reopened trace file %s", why,
		    trace_file());
}

static int
loop_on_signal(struct server *srv)
{
	struct signalfd_siginfo si;
	int rc;

	while (read(srv->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			log_reopen("SIGHUP");
			loop_trace_reopen("SIGHUP");
			log_msg(LOG_INFO, "SIGHUP: rereading licenses and policy");
			if (srv->on_reload != NULL)
				(void)srv->on_reload(srv);
			/* New seats (and a new policy) may let queued
			 * checkouts in. */
			rc = server_reload(srv, NULL, 0);
			metrics_reload(rc);
			if (rc == 0)
				queue_seats_freed(srv);
			break;
		case SIGUSR1:	/* logrotate's postrotate */
			log_reopen("SIGUSR1");
			loop_trace_reopen("SIGUSR1");
			break;
		case SIGTERM:
		case SIGINT:
			log_msg(LOG_INFO, "%s: shutting down",
			    si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			srv->stopping = 1;
			break;
		}
	}
	return 0;
}

/* Before the first round: signals through a signalfd, the epoll set
 * (signals, listeners, the syncer, the metrics and page wake-ups), and
 * the store's start-of-run steps.  0, XLICEN_E_IO or XLICEN_E_DB. */
static int
loop_setup(struct server *srv)
{
	sigset_t mask;
	int i;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((srv->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (srv->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		log_msg(LOG_ERR, "epoll/signalfd: %s", strerror(errno));
		return XLICEN_E_IO;
	}
	loop_add_fd(srv, srv->sigfd, LOOP_TAG_SIGNAL);
	srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (i = 0; i < srv->nlisten; i++)
		loop_add_fd(srv, srv->listen_fds[i], LOOP_TAG_LISTEN);
	if (store_sync_fd(srv->store) != -1)
		loop_add_fd(srv, store_sync_fd(srv->store), LOOP_TAG_SYNC);
	if (metrics_wake_fd() >= 0)
		loop_add_fd(srv, metrics_wake_fd(), LOOP_TAG_METRICS);
	if (http_jobs_fd() >= 0)
		loop_add_fd(srv, http_jobs_fd(), LOOP_TAG_HTTP);
	/* The heartbeats of the last second before a crash may be lost
	 * (store_heartbeat): every lease gets one TTL more. */
	if (store_extend_leases(srv->store, (int64_t)time(NULL)) != 0)
		return XLICEN_E_DB;
	/* Nobody could re-attach an orphan while the server was down: each
	 * gets its grace again from now. */
	if (store_orphans_rearm(srv->store, (int64_t)time(NULL),
	    srv->cfg.orphan_grace_s) != 0)
		return XLICEN_E_DB;
	srv->next_expiry = store_next_expiry(srv->store);
	return 0;
}

/*
 * What the store's commits came to: the replies held for a ticket whose
 * COMMIT failed (PostgreSQL: store_sync_failed) are withdrawn, then those
 * of every covered ticket go.  0, or -1 if a sync failed (SQLite's
 * fdatasync: nothing more becomes durable).
 */
static int
loop_synced(struct server *srv)
{
	uint64_t done = srv->synced, first, last;
	int rc;

	rc = store_synced(srv->store, &done);
	if ((last = store_sync_failed(srv->store, &first)) != 0)
		conn_withdraw_held(srv, first, last);
	srv->synced = done;
	metrics_sync_end(srv->synced);
	conn_flush_synced(srv);
	return rc != 0 ? -1 : 0;
}

int
loop_run(struct server *srv)
{
	struct epoll_event evs[256];
	uint64_t ticket;
	int64_t t0;
	int i, n, rc, sync_failed = 0, accept_ready, sync_ready;

	if ((rc = loop_setup(srv)) != 0)
		return rc;

	while (!srv->stopping) {
		n = epoll_wait(srv->epfd, evs, 256, loop_wait_ms(srv));
		if (n < 0 && errno != EINTR) {
			log_msg(LOG_ERR, "epoll_wait: %s", strerror(errno));
			return XLICEN_E_IO;
		}
		/* Group commit: what this round decides is committed at once,
		 * and only then do its replies go out; those of a round that
		 * may grant wait for the syncer's fdatasync (store/sqlite_durable.c), while
		 * the next rounds go on. */
		srv->batching = 1;
		store_batch_begin(srv->store);
		accept_ready = sync_ready = 0;
		srv->round++;
		for (i = 0; i < n; i++) {
			void *tag = evs[i].data.ptr;

			if (tag == LOOP_TAG_SIGNAL) {
				loop_on_signal(srv);
			} else if (tag == LOOP_TAG_SYNC) {
				sync_ready = 1;
			} else if (tag == LOOP_TAG_METRICS) {
				metrics_wake_read();
			} else if (tag == LOOP_TAG_HTTP) {
				http_jobs_run(srv);
			} else if (tag == LOOP_TAG_LISTEN) {
				accept_ready = 1;
			} else {
				struct conn *c = tag;

				if ((evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) &&
				    conn_on_readable(c) < 0)
					continue;
				if (evs[i].events & EPOLLOUT)
					conn_on_writable(c);
			}
		}
		/* After the other events, because each of these may free a
		 * connection that one of them names: sending the replies the
		 * syncer released (a client gone meanwhile fails the send), an
		 * eviction at accept.  A failed fdatasync: what it should have
		 * made durable may be lost; stop rather than answer as if it
		 * were not (held replies never go). */
		if (sync_ready && loop_synced(srv) != 0) {
			sync_failed = 1;
			srv->stopping = 1;
		}
		for (i = 0; accept_ready && i < srv->nlisten; i++)
			loop_accept(srv, srv->listen_fds[i]);
		loop_timers(srv);
		(void)store_flush(srv->store, (int64_t)time(NULL), 1);
		t0 = metrics_now_ns();
		rc = store_batch_end(srv->store, &ticket);
		metrics_commit_ns(metrics_now_ns() - t0);
		srv->batching = 0;
		if (rc != 0)
			log_msg(LOG_ERR, "store: a batch failed; its replies are "
			    "withdrawn");
		if (ticket > srv->last_ticket)
			srv->last_ticket = ticket;
		conn_flush_batch(srv, rc == 0, ticket);
		if (store_shared(srv->store)) {
			/* The connection may be new (EEXIST if watched
			 * already); the round may have waited for the last
			 * COMMIT, and this one's may have answered already:
			 * their replies go, or are withdrawn. */
			if (store_sync_fd(srv->store) >= 0)
				(void)loop_add_fd(srv, store_sync_fd(srv->store),
				    LOOP_TAG_SYNC);
			(void)loop_synced(srv);
		}
		if (rc == 0)
			metrics_sync_begin(ticket);
		metrics_publish_due(srv);
		http_jobs_committed(rc == 0);
	}
	/* (The heartbeats still in memory are written by store_close.) */
	if (!sync_failed &&
	    store_sync_wait(srv->store, srv->last_ticket) == 0)
		srv->synced = srv->last_ticket;

	conn_shutdown_all(srv);
	loop_log_refusals(srv, 1);
	handlers_free(srv);
	if (srv->spare_fd >= 0)
		close(srv->spare_fd);
	srv->spare_fd = -1;
	policy_free(srv->policy);
	srv->policy = NULL;
	license_key_free(srv->borrow_key);
	srv->borrow_key = NULL;
	free(srv->lics);
	srv->lics = NULL;
	srv->nlics = 0;
	return sync_failed ? XLICEN_E_DB : 0;
}
