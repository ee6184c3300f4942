/*
 * Unit tests of server/queue.c, the checkout queue, on its parts that
 * need no connection: places per product, counts per product and per
 * principal, finding and unlinking entries, the queue timeout (built-in
 * or the policy's), the queue id's form, the next deadline, the timers
 * (timeout, abandoned WAIT, end of a WAIT step) and queue_add's answers
 * (QUEUED with its place, a WAIT deferred, the per-principal and
 * per-product caps).  The audit goes to a real SQLite store in a
 * temporary directory ($XLICEN_TEST_TMP, else a fresh mkdtemp) and is
 * read back through a second connection.  Serving the queue when seats
 * come free (queue_seats_freed) and the late answers sent on a
 * connection are left to tests/integration (queue, queue_serve,
 * queue_cap, async_queue).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "handlers_int.h"
#include "log.h"
#include "policy.h"
#include "xlicen_errors.h"
#include "unit_tmp.h"

static char tmpdir[512];
static int tmpdir_made;
static int dbseq;

struct fx {
	char path[600];
	struct server srv;
	struct conn c;		/* a connection as queue_add sees one */
};

static int
group_setup(void **state)
{
	(void)state;
	log_set_level(LOG_ERR);
	return unit_tmp_init("queue", tmpdir, sizeof(tmpdir), &tmpdir_made);
}

static int
group_teardown(void **state)
{
	(void)state;
	unit_tmp_done(tmpdir, tmpdir_made);
	return 0;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	if (f == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/queue-%ld-%d.db", tmpdir,
	    (long)getpid(), dbseq++);
	if (store_open(f->path, &f->srv.store, err, sizeof(err)) != 0) {
		fprintf(stderr, "store_open: %s\n", err);
		free(f);
		return -1;
	}
	f->srv.cfg.queue_per_principal = LIMIT_QUEUE_PER_PRINCIPAL;
	f->c.srv = &f->srv;
	f->c.fd = -1;
	snprintf(f->c.principal, sizeof(f->c.principal), "alice@R");
	snprintf(f->c.peer, sizeof(f->c.peer), "127.0.0.1:4000");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char side[700];

	handlers_free(&f->srv);
	policy_free(f->srv.policy);
	store_close(f->srv.store);
	(void)unlink(f->path);
	snprintf(side, sizeof(side), "%s-wal", f->path);
	(void)unlink(side);
	snprintf(side, sizeof(side), "%s-shm", f->path);
	(void)unlink(side);
	snprintf(side, sizeof(side), "%s-lock", f->path);
	(void)unlink(side);
	free(f);
	return 0;
}

/* An entry made by hand at the tail of srv's queue (no connection). */
static struct qentry *
put(struct server *srv, const char *qid, const char *principal,
    const char *product)
{
	struct handlers_state *hs = req_state(srv);
	struct qentry *e = calloc(1, sizeof(*e));

	assert_non_null(hs);
	assert_non_null(e);
	snprintf(e->qid, sizeof(e->qid), "%s", qid);
	snprintf(e->principal, sizeof(e->principal), "%s", principal);
	snprintf(e->product, sizeof(e->product), "%s", product);
	snprintf(e->version, sizeof(e->version), "1.0");
	snprintf(e->host, sizeof(e->host), "ws1");
	e->count = 1;
	e->deadline_ms = INT64_MAX;
	e->prev = hs->qtail;
	if (hs->qtail != NULL)
		hs->qtail->next = e;
	else
		hs->qhead = e;
	hs->qtail = e;
	hs->qlen++;
	return e;
}

/* Events of kind with lease_id qid (NULL: any) and code (an XLICEN_E_
 * value; the trail stores it positive) in the audit trail, read through
 * a second connection. */
static int64_t
events(const struct fx *f, const char *kind, const char *qid, int code)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t n;

	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 2000);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM events "
	    "WHERE kind = ?1 AND (?2 IS NULL OR lease_id = ?2) AND code = ?3",
	    -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	if (qid != NULL)
		sqlite3_bind_text(st, 2, qid, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, -code);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void
test_position_and_counts(void **state)
{
	struct fx *f = *state;
	struct handlers_state *hs;
	struct qentry *a1, *b1, *a2, *a3, *b2;

	/* Before any state: nothing queued, nothing found. */
	assert_int_equal(queue_count(f->srv.hs, NULL), 0);
	assert_int_equal(queue_count_of(f->srv.hs, "A", "alice@R"), 0);
	assert_null(queue_find(f->srv.hs, "q1", "alice@R"));

	a1 = put(&f->srv, "q1", "alice@R", "A");
	b1 = put(&f->srv, "q2", "bob@R", "B");
	a2 = put(&f->srv, "q3", "bob@R", "A");
	a3 = put(&f->srv, "q4", "alice@R", "A");
	b2 = put(&f->srv, "q5", "alice@R", "B");
	hs = f->srv.hs;
	/* Places count within a product, in arrival order. */
	assert_int_equal(queue_position(hs, a1), 1);
	assert_int_equal(queue_position(hs, b1), 1);
	assert_int_equal(queue_position(hs, a2), 2);
	assert_int_equal(queue_position(hs, a3), 3);
	assert_int_equal(queue_position(hs, b2), 2);
	assert_int_equal(queue_count(hs, NULL), 5);
	assert_int_equal(queue_count(hs, "A"), 3);
	assert_int_equal(queue_count(hs, "B"), 2);
	assert_int_equal(queue_count(hs, "C"), 0);
	assert_int_equal(queue_count_of(hs, "A", "alice@R"), 2);
	assert_int_equal(queue_count_of(hs, "A", "bob@R"), 1);
	assert_int_equal(queue_count_of(hs, "B", "bob@R"), 1);
	assert_int_equal(queue_count_of(hs, "B", "carol@R"), 0);
}

static void
test_find(void **state)
{
	struct fx *f = *state;
	struct qentry *a1, *b1;

	a1 = put(&f->srv, "q1", "alice@R", "A");
	b1 = put(&f->srv, "q2", "bob@R", "A");
	assert_ptr_equal(queue_find(f->srv.hs, "q1", "alice@R"), a1);
	assert_ptr_equal(queue_find(f->srv.hs, "q2", "bob@R"), b1);
	/* Only its own principal finds an entry. */
	assert_null(queue_find(f->srv.hs, "q2", "alice@R"));
	assert_null(queue_find(f->srv.hs, "q9", "alice@R"));
}

static void
test_unlink(void **state)
{
	struct fx *f = *state;
	struct handlers_state *hs;
	struct qentry *a1, *a2, *a3, *a4;

	a1 = put(&f->srv, "q1", "alice@R", "A");
	a2 = put(&f->srv, "q2", "bob@R", "A");
	a3 = put(&f->srv, "q3", "carol@R", "A");
	a4 = put(&f->srv, "q4", "dave@R", "A");
	hs = f->srv.hs;
	assert_int_equal(hs->qlen, 4);
	/* The middle: its neighbours join, the later ones move up. */
	queue_unlink(hs, a2);
	assert_int_equal(hs->qlen, 3);
	assert_ptr_equal(a1->next, a3);
	assert_ptr_equal(a3->prev, a1);
	assert_int_equal(queue_position(hs, a3), 2);
	assert_null(queue_find(hs, "q2", "bob@R"));
	/* The head and the tail. */
	queue_unlink(hs, a1);
	assert_ptr_equal(hs->qhead, a3);
	assert_null(a3->prev);
	assert_int_equal(queue_position(hs, a4), 2);
	queue_unlink(hs, a4);
	assert_ptr_equal(hs->qtail, a3);
	assert_null(a3->next);
	assert_int_equal(queue_position(hs, a3), 1);
	queue_unlink(hs, a3);
	assert_null(hs->qhead);
	assert_null(hs->qtail);
	assert_int_equal(hs->qlen, 0);
	assert_int_equal(queue_count(hs, NULL), 0);
}

static void
test_timeout_choice(void **state)
{
	struct fx *f = *state;
	char path[700], err[256];
	FILE *fp;

	/* No policy: the built-in timeout. */
	assert_int_equal(queue_timeout_s(&f->srv, "A"), LIMIT_QUEUE_TIMEOUT_S);
	snprintf(path, sizeof(path), "%s/queue-policy-%ld.conf", tmpdir,
	    (long)getpid());
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("[default]\n\tqueue_timeout = 7\n[products]\n\tfast = {\n"
	    "\t\tqueue_timeout = 3\n\t}\n\tplain = {\n\t\tlinger = 5\n\t}\n",
	    fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(policy_load(path, &f->srv.policy, err, sizeof(err)),
	    0);
	(void)unlink(path);
	/* A product's own, else the policy's default. */
	assert_int_equal(queue_timeout_s(&f->srv, "fast"), 3);
	assert_int_equal(queue_timeout_s(&f->srv, "plain"), 7);
	assert_int_equal(queue_timeout_s(&f->srv, "other"), 7);
}

static void
test_id_format(void **state)
{
	char a[QUEUE_ID_LEN + 1], b[QUEUE_ID_LEN + 1];
	size_t i;

	(void)state;
	memset(a, 'x', sizeof(a));
	assert_int_equal(queue_new_id(a), 0);
	assert_int_equal(strlen(a), 17);
	assert_int_equal(a[0], 'q');
	for (i = 1; i < QUEUE_ID_LEN; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	assert_int_equal(queue_new_id(b), 0);
	/* 64 random bits: two alike would be a broken generator. */
	assert_string_not_equal(a, b);
}

static void
test_next_deadline(void **state)
{
	struct fx *f = *state;
	struct qentry *e1, *e2;

	assert_int_equal(queue_next_deadline_ms(&f->srv), 0);
	e1 = put(&f->srv, "q1", "alice@R", "A");
	e2 = put(&f->srv, "q2", "bob@R", "B");
	e1->deadline_ms = 9000;
	e2->deadline_ms = 8000;
	assert_int_equal(queue_next_deadline_ms(&f->srv), 8000);
	/* A WAIT step or a park end before the deadline comes first. */
	e1->step_ms = 5000;
	assert_int_equal(queue_next_deadline_ms(&f->srv), 5000);
	e2->park_ms = 4000;
	assert_int_equal(queue_next_deadline_ms(&f->srv), 4000);
	/* The shutdown delay is not the queue's (handlers.c). */
	f->srv.hs->shutdown_ms = 1000;
	assert_int_equal(queue_next_deadline_ms(&f->srv), 4000);
	assert_int_equal(handlers_next_deadline_ms(&f->srv), 1000);
}

static void
test_timers(void **state)
{
	struct fx *f = *state;
	struct handlers_state *hs;
	struct qentry *late, *parked, *stepped, *waiting;

	late = put(&f->srv, "qlate", "alice@R", "A");
	parked = put(&f->srv, "qparked", "bob@R", "A");
	stepped = put(&f->srv, "qstep", "carol@R", "A");
	waiting = put(&f->srv, "qwait", "dave@R", "A");
	hs = f->srv.hs;
	late->deadline_ms = 1000;
	parked->deadline_ms = 50000;
	parked->park_ms = 2000;
	stepped->wait = 1;
	stepped->req_id = 7;
	stepped->deadline_ms = 50000;
	stepped->step_ms = 3000;
	waiting->wait = 1;
	waiting->req_id = 8;
	waiting->deadline_ms = 50000;
	waiting->step_ms = 20000;

	queue_timers(&f->srv, 10000);
	/* Timed out and abandoned: gone, each audited with its reason. */
	assert_null(queue_find(hs, "qlate", "alice@R"));
	assert_null(queue_find(hs, "qparked", "bob@R"));
	assert_int_equal(events(f, "dequeue", "qlate", XLICEN_E_TIMEOUT), 1);
	assert_int_equal(events(f, "dequeue", "qparked", XLICEN_E_CLOSED), 1);
	/* The step that ended: parked with its place, its reply sent. */
	assert_ptr_equal(queue_find(hs, "qstep", "carol@R"), stepped);
	assert_int_equal(stepped->step_ms, 0);
	assert_int_equal(stepped->req_id, 0);
	assert_int_equal(stepped->park_ms, 10000 + 1000 * LIMIT_QUEUE_PARK_S);
	assert_int_equal(queue_position(hs, stepped), 1);
	/* Not yet due: untouched. */
	assert_int_equal(waiting->step_ms, 20000);
	assert_int_equal(waiting->req_id, 8);
	assert_int_equal(waiting->park_ms, 0);
	assert_int_equal(hs->qlen, 2);
	assert_int_equal(events(f, "dequeue", "qstep", 0) +
	    events(f, "dequeue", "qwait", 0), 0);
}

/* A CHECKOUT of product by f's connection that found no seat. */
static void
checkout(struct msg *req, const char *product, uint32_t flags)
{
	msg_init(req, MSG_CHECKOUT, 42);
	assert_int_equal(msg_set_str(req, TAG_PRODUCT, product), 0);
	assert_int_equal(msg_set_str(req, TAG_VERSION, "1.0"), 0);
	req->count = 1;
	req->flags = flags;
}

static void
test_add_queued(void **state)
{
	struct fx *f = *state;
	struct store_grant g;
	struct msg req, reply;
	struct qentry *e;
	int64_t before = (int64_t)time(NULL);
	size_t i;

	memset(&g, 0, sizeof(g));
	g.in_use = 2;
	g.total = 2;
	checkout(&req, "A", MSG_FLAG_QUEUE);
	msg_init(&reply, 0, req.id);
	assert_int_equal(queue_add(&f->c, &req, "ws1", "ws1:0", &g, &reply),
	    0);
	assert_int_equal(reply.type, MSG_QUEUED);
	assert_int_equal(reply.position, 1);
	assert_int_equal(reply.in_use, 2);
	assert_int_equal(reply.total, 2);
	assert_true(reply.expires >= (uint64_t)before + LIMIT_QUEUE_TIMEOUT_S);
	assert_true(reply.expires <= (uint64_t)time(NULL) +
	    LIMIT_QUEUE_TIMEOUT_S);
	assert_int_equal(strlen(reply.queue_id), QUEUE_ID_LEN);
	assert_int_equal(reply.queue_id[0], 'q');
	for (i = 1; i < QUEUE_ID_LEN; i++)
		assert_non_null(strchr("0123456789abcdef", reply.queue_id[i]));
	e = queue_find(f->srv.hs, reply.queue_id, "alice@R");
	assert_non_null(e);
	assert_string_equal(e->display, "ws1:0");
	assert_int_equal(e->req_id, 42);
	assert_int_equal(e->wait, 0);
	assert_int_equal(events(f, "queue", reply.queue_id, 0), 1);
	msg_clear(&reply);

	/* The second of the product is second in line. */
	snprintf(f->c.principal, sizeof(f->c.principal), "bob@R");
	msg_init(&reply, 0, req.id);
	assert_int_equal(queue_add(&f->c, &req, "ws2", "", &g, &reply), 0);
	assert_int_equal(reply.type, MSG_QUEUED);
	assert_int_equal(reply.position, 2);
	msg_clear(&reply);
	msg_clear(&req);
}

static void
test_add_wait_deferred(void **state)
{
	struct fx *f = *state;
	struct store_grant g;
	struct msg req, reply;
	struct qentry *e;
	int64_t before = server_now_ms();

	memset(&g, 0, sizeof(g));
	checkout(&req, "A", MSG_FLAG_WAIT);
	req.wait = 3;
	req.have |= MSG_F(TAG_WAIT);
	msg_init(&reply, 0, req.id);
	assert_int_equal(queue_add(&f->c, &req, "ws1", "", &g, &reply),
	    HANDLERS_DEFERRED);
	/* No reply now: it is held for the step. */
	assert_int_equal(reply.type, 0);
	e = f->srv.hs->qhead;
	assert_non_null(e);
	assert_int_equal(e->wait, 1);
	assert_true(e->step_ms >= before + 3000);
	assert_true(e->step_ms <= server_now_ms() + 3000);
	assert_true(e->step_ms <= e->deadline_ms);
	msg_clear(&reply);

	/* A step asked longer than LIMIT_WAIT_STEP_S is cut to it. */
	req.wait = 10 * LIMIT_WAIT_STEP_S;
	msg_init(&reply, 0, req.id);
	before = server_now_ms();
	assert_int_equal(queue_add(&f->c, &req, "ws1", "", &g, &reply),
	    HANDLERS_DEFERRED);
	e = f->srv.hs->qtail;
	assert_true(e->step_ms >= before + 1000 * LIMIT_WAIT_STEP_S);
	assert_true(e->step_ms <= server_now_ms() + 1000 * LIMIT_WAIT_STEP_S);
	msg_clear(&reply);
	msg_clear(&req);
}

static void
test_add_principal_cap(void **state)
{
	struct fx *f = *state;
	struct store_grant g;
	struct msg req, reply;
	uint32_t i;

	memset(&g, 0, sizeof(g));
	f->srv.cfg.queue_per_principal = 2;
	checkout(&req, "A", MSG_FLAG_QUEUE);
	for (i = 0; i < 2; i++) {
		msg_init(&reply, 0, req.id);
		assert_int_equal(queue_add(&f->c, &req, "ws1", "", &g, &reply),
		    0);
		assert_int_equal(reply.type, MSG_QUEUED);
		msg_clear(&reply);
	}
	/* The third place of one principal in one product is refused. */
	msg_init(&reply, 0, req.id);
	assert_int_equal(queue_add(&f->c, &req, "ws1", "", &g, &reply), 0);
	assert_int_equal(reply.type, MSG_DENY);
	assert_int_equal(reply.code, -XLICEN_E_QUEUE_LIMIT);
	assert_int_equal(queue_count(f->srv.hs, "A"), 2);
	assert_int_equal(events(f, "deny", NULL, XLICEN_E_QUEUE_LIMIT), 1);
	msg_clear(&reply);
	/* Another product, or another principal, still queues. */
	msg_clear(&req);
	checkout(&req, "B", MSG_FLAG_QUEUE);
	msg_init(&reply, 0, req.id);
	assert_int_equal(queue_add(&f->c, &req, "ws1", "", &g, &reply), 0);
	assert_int_equal(reply.type, MSG_QUEUED);
	assert_int_equal(reply.position, 1);
	msg_clear(&reply);
	msg_clear(&req);
	checkout(&req, "A", MSG_FLAG_QUEUE);
	snprintf(f->c.principal, sizeof(f->c.principal), "bob@R");
	msg_init(&reply, 0, req.id);
	assert_int_equal(queue_add(&f->c, &req, "ws1", "", &g, &reply), 0);
	assert_int_equal(reply.type, MSG_QUEUED);
	assert_int_equal(reply.position, 3);
	msg_clear(&reply);
	msg_clear(&req);
}

static void
test_add_product_full(void **state)
{
	struct fx *f = *state;
	struct store_grant g;
	struct msg req, reply;
	char qid[QUEUE_ID_LEN + 1];
	uint32_t i;

	memset(&g, 0, sizeof(g));
	for (i = 0; i < LIMIT_QUEUE_LEN; i++) {
		snprintf(qid, sizeof(qid), "q%u", i);
		put(&f->srv, qid, "bob@R", "A");
	}
	checkout(&req, "A", MSG_FLAG_QUEUE);
	msg_init(&reply, 0, req.id);
	assert_int_equal(queue_add(&f->c, &req, "ws1", "", &g, &reply), 0);
	assert_int_equal(reply.type, MSG_DENY);
	assert_int_equal(reply.code, -XLICEN_E_BUSY);
	assert_int_equal(queue_count(f->srv.hs, "A"), LIMIT_QUEUE_LEN);
	msg_clear(&reply);
	/* The cap is per product. */
	msg_clear(&req);
	checkout(&req, "B", MSG_FLAG_QUEUE);
	msg_init(&reply, 0, req.id);
	assert_int_equal(queue_add(&f->c, &req, "ws1", "", &g, &reply), 0);
	assert_int_equal(reply.type, MSG_QUEUED);
	assert_int_equal(reply.position, 1);
	msg_clear(&reply);
	msg_clear(&req);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_position_and_counts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_choice, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_id_format, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_next_deadline, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_timers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_queued, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_add_wait_deferred, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_add_principal_cap, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_add_product_full, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
