/*
 * Durability of the SQLite store: group commit (store_batch_begin/end),
 * the syncer and checkpointer threads that keep fdatasync() and
 * checkpoints out of the event loop, and the heartbeats answered from
 * memory and written within a second (store_heartbeat, store_flush,
 * store_extend_leases).  docs/PERFORMANCE.md has the figures.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "hash.h"
#include "limits.h"
#include "log.h"
#include "store.h"
#include "sqlite_int.h"
#include "xlicen_errors.h"

/* The checkpointer copies the WAL into the database when it has this
 * many pages (SQLite's own automatic threshold), and at least every
 * second. */
#define STORE_CKPT_PAGES	1000
#define STORE_CKPT_EVERY_S	1
/* Heartbeats held in memory are written once the oldest is a second old,
 * or sooner when there are this many: 10,000 sessions heartbeating every
 * 10 s would otherwise make one write of 1,000 rows (several ms in the
 * loop thread) each second. */
#define STORE_HB_FLUSH_AT	256

/*
 * Background threads, so that no fsync stalls the event loop (a batch's
 * fdatasync() costs 0.1-4 ms here, a checkpoint 5-40 ms).
 *
 * The syncer makes batches durable.  A batch that must be durable before
 * its replies commits with synchronous = NORMAL (in WAL mode: written,
 * not synced) and gets a ticket; the syncer fdatasync()s the WAL through
 * a descriptor of its own, which covers every frame written before the
 * call, and counts the tickets it covered as done, waking the loop
 * through an eventfd.  The loop holds the batch's replies until then
 * (conn.c), and meanwhile serves other connections: contexts are
 * accepted while the disk syncs, and one fdatasync() covers every batch
 * committed while the previous one ran.  This is SQLite's own FULL
 * commit (sync the WAL after the commit frame), done by another thread.
 * The WAL file is not deleted while our connection is open, so the
 * descriptor stays valid.
 *
 * The checkpointer has a SQLite connection of its own and runs PASSIVE
 * checkpoints (neither waits for the other writer) when the WAL reaches
 * STORE_CKPT_PAGES, and every STORE_CKPT_EVERY_S; a checkpoint syncs the
 * WAL first, so what was committed without a sync of its own (releases,
 * expiries, heartbeats) is durable within about a second.  What the loop
 * committed during a pass is left for the loop to copy before its next
 * round (store_ckpt_tail), after which SQLite writes the WAL from its
 * start again: the file stays near STORE_CKPT_PAGES and a sync rewrites
 * blocks in place instead of extending it.
 */
struct store_bg {
	pthread_mutex_t lock;
	pthread_cond_t sync_cond, ckpt_cond;
	pthread_t sync_thread, ckpt_thread;
	int sync_started, ckpt_started;
	int walfd;		/* the -wal file, for fdatasync() */
	int efd;		/* eventfd: a sync is done */
	uint64_t want, done;	/* tickets asked for, synced */
	int sync_errno;		/* a failed fdatasync(): never cleared */
	int ckpt_want, stop;
	int ckpt_tail;		/* atomic: the loop should finish a checkpoint */
	sqlite3 *ck_db;
};

/*
 * Finish, in the loop's connection, a checkpoint the checkpointer could
 * not complete because the loop kept committing.  SQLite starts the WAL
 * over from its beginning only when a write finds every frame copied into
 * the database; under steady load the checkpointer never gets there, and
 * the WAL would grow without end, each commit's sync extending the file
 * (a metadata write besides the data, each time).  Between rounds nothing
 * else writes, so this copies the few frames written since the
 * checkpointer's pass, and the round's first commit starts the WAL over.
 */
static void
store_ckpt_tail(struct store *s)
{
	int rc;

	rc = sqlite3_wal_checkpoint_v2(store_sqlite_db(s), "main",
	    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	if (rc == SQLITE_BUSY)	/* the checkpointer is at it: next round */
		__atomic_store_n(&s->bg->ckpt_tail, 1, __ATOMIC_RELAXED);
	else if (rc != SQLITE_OK)
		log_msg(LOG_WARNING, "store: checkpoint: %s",
		    sqlite3_errmsg(store_sqlite_db(s)));
}

/*
 * Carry: a round whose transaction needs no sync (releases, expiries,
 * heartbeats written: nothing that grants) is not committed at its end but
 * left open, and its replies go at once; the next round goes on in the
 * same transaction, and the first round that commits (one that may grant,
 * one that finds the transaction LIMIT_STORE_CARRY_MS old, or an operation
 * outside a round) commits both.  With clients cycling, a release and the
 * next checkout make one commit instead of two (the pool, the leases and
 * their indexes written once).  What a reply promises does not change in
 * kind: a release, like a written heartbeat, was never synced before its
 * reply, and if a crash takes it (now also a crash of the process within
 * those ms), its seat stays taken until the lease expires, never given
 * twice.  Not carried: a failed round, or one after which the checkpoint
 * must be finished (store_ckpt_tail needs no transaction open).
 */
static int
store_may_carry(struct store *s, int64_t now)
{
	return s->bg != NULL && s->in_batch && !s->batch_full &&
	    !s->batch_failed &&
	    !__atomic_load_n(&s->bg->ckpt_tail, __ATOMIC_RELAXED) &&
	    (s->carried_ms == 0 || now - s->carried_ms < LIMIT_STORE_CARRY_MS);
}

int64_t
store_carry_until(const struct store *s)
{
	return s != NULL && s->carried_ms != 0 ?
	    s->carried_ms + LIMIT_STORE_CARRY_MS : 0;
}

/* A commit that held carried rounds failed: their replies went. */
static void
store_carry_lost(void)
{
	log_msg(LOG_ERR, "store: the commit of rounds already answered "
	    "failed: their releases keep their seats until the leases expire");
}

int
store_carry_end(struct store *s)
{
	int rc;

	if (s->carried_ms == 0)
		return XLICEN_OK;
	s->carried_ms = 0;
	s->in_batch = 0;
	if ((rc = store_st_exec(s, ST_COMMIT, "commit")) != 0) {
		if (!sqlite3_get_autocommit(store_sqlite_db(s)))
			(void)store_st_exec(s, ST_ROLLBACK, "rollback");
		store_carry_lost();
	}
	return rc;
}

void
store_sqlite_batch_begin(struct store *s)
{
	if (s->carried_ms != 0) {	/* an earlier round's transaction */
		s->batching = 1;
		return;
	}
	if (s->bg != NULL &&
	    __atomic_exchange_n(&s->bg->ckpt_tail, 0, __ATOMIC_RELAXED))
		store_ckpt_tail(s);
	s->batching = 1;
	s->in_batch = 0;
	s->batch_failed = 0;
}

/* A ticket for what was committed so far (the syncer covers it). */
static uint64_t
store_sync_ask(struct store_bg *bg)
{
	uint64_t t;

	pthread_mutex_lock(&bg->lock);
	t = ++bg->want;
	/* Broadcast: store_sync_wait waits on the same condition. */
	pthread_cond_broadcast(&bg->sync_cond);
	pthread_mutex_unlock(&bg->lock);
	return t;
}

int
store_sqlite_batch_end(struct store *s, uint64_t *ticket)
{
	int64_t now = store_now_ms();
	int rc = XLICEN_OK, carried;

	*ticket = 0;
	if (store_may_carry(s, now)) {
		if (s->carried_ms == 0)
			s->carried_ms = now;
		s->batching = 0;
		return XLICEN_OK;
	}
	carried = s->carried_ms != 0;
	s->carried_ms = 0;
	if (s->in_batch && (rc = store_st_exec(s, ST_COMMIT, "commit")) != 0 &&
	    !sqlite3_get_autocommit(store_sqlite_db(s)))
		(void)store_st_exec(s, ST_ROLLBACK, "rollback");
	if (s->batch_failed)
		rc = XLICEN_E_DB;
	if (rc != 0 && carried)
		store_carry_lost();
	if (rc == 0 && s->in_batch && s->batch_full && s->bg != NULL)
		*ticket = store_sync_ask(s->bg);
	s->batching = 0;
	s->in_batch = 0;
	s->batch_failed = 0;
	return rc;
}

int
store_sync_fd(const struct store *s)
{
	if (s != NULL && s->ops->sync_fd != NULL)
		return s->ops->sync_fd(s);
	return s != NULL && s->bg != NULL ? s->bg->efd : -1;
}

int
store_sync_pending(const struct store *s)
{
	return s->ops->sync_pending != NULL && s->ops->sync_pending(s);
}

uint64_t
store_sync_failed(struct store *s, uint64_t *first)
{
	*first = 0;
	return s->ops->sync_failed != NULL ? s->ops->sync_failed(s, first) :
	    0;
}

int
store_synced(struct store *s, uint64_t *done)
{
	struct store_bg *bg = s->bg;
	uint64_t n;
	int err;

	if (s->ops->synced != NULL)
		return s->ops->synced(s, done);
	if (bg == NULL) {
		*done = UINT64_MAX;
		return XLICEN_OK;
	}
	while (read(bg->efd, &n, sizeof(n)) == sizeof(n))
		;
	pthread_mutex_lock(&bg->lock);
	*done = bg->done;
	err = bg->sync_errno;
	pthread_mutex_unlock(&bg->lock);
	if (err != 0) {
		log_msg(LOG_ERR, "store: fdatasync of the WAL: %s", strerror(err));
		return XLICEN_E_DB;
	}
	return XLICEN_OK;
}

int
store_sync_wait(struct store *s, uint64_t ticket)
{
	struct store_bg *bg = s->bg;
	int err;

	if (s->ops->sync_wait != NULL)
		return s->ops->sync_wait(s, ticket);
	if (bg == NULL || ticket == 0)
		return XLICEN_OK;
	pthread_mutex_lock(&bg->lock);
	while (bg->done < ticket && bg->sync_errno == 0)
		pthread_cond_wait(&bg->sync_cond, &bg->lock);
	err = bg->sync_errno;
	pthread_mutex_unlock(&bg->lock);
	return err != 0 ? XLICEN_E_DB : XLICEN_OK;
}

/*
 * Heartbeats answered from memory (store_heartbeat), written by the next
 * operation that writes or by store_flush.
 */

/* The slot of id, or the free slot where it would go. */
struct store_hb *
store_hb_slot(struct store *s, const char *id)
{
	size_t i = (size_t)hash_str(id) & (s->hb_cap - 1);

	while (s->hb[i].id[0] != '\0' && strcmp(s->hb[i].id, id) != 0)
		i = (i + 1) & (s->hb_cap - 1);
	return &s->hb[i];
}

int
store_hb_put(struct store *s, const char *id, int64_t at, int64_t expires)
{
	struct store_hb *old = s->hb, *e;
	size_t oldcap = s->hb_cap, i;

	if (2 * (s->hb_n + 1) > s->hb_cap) {
		s->hb_cap = oldcap != 0 ? 2 * oldcap : 256;
		if ((s->hb = calloc(s->hb_cap, sizeof(*s->hb))) == NULL) {
			s->hb = old;
			s->hb_cap = oldcap;
			return XLICEN_E_NOMEM;
		}
		for (i = 0; i < oldcap; i++)
			if (old[i].id[0] != '\0')
				*store_hb_slot(s, old[i].id) = old[i];
		free(old);
	}
	e = store_hb_slot(s, id);
	if (e->id[0] == '\0') {
		/* 32 hex digits and the NUL: the caller checked the length. */
		memcpy(e->id, id, sizeof(e->id));
		if (s->hb_n++ == 0)
			s->hb_since = at;
	}
	e->at = at;
	e->expires = expires;
	return XLICEN_OK;
}

/* Write them all, inside the caller's transaction. */
int
store_hb_flush(struct store *s)
{
	struct store_stmt *st = s->st[ST_HB_SET];
	size_t i;
	int rc;

	if (s->hb_n == 0)
		return XLICEN_OK;
	for (i = 0; i < s->hb_cap; i++) {
		if (s->hb[i].id[0] == '\0')
			continue;
		if (store_bind_text(st, 1, s->hb[i].id) != 0 ||
		    store_bind_int64(st, 2, s->hb[i].at) != 0 ||
		    store_bind_int64(st, 3, s->hb[i].expires) != 0 ||
		    store_step(st) != STORE_DONE) {
			rc = store_dberr(s, "heartbeat: write");
			store_st_done(st);
			return rc;
		}
		store_st_done(st);
	}
	memset(s->hb, 0, s->hb_cap * sizeof(*s->hb));
	s->hb_n = 0;
	return XLICEN_OK;
}

/* Write the heartbeats held in memory in a transaction of their own:
 * store_begin_as writes them, the empty operation commits them. */
static int
store_hb_commit(struct store *s, int durable)
{
	int rc;

	if (s->hb_n == 0)
		return XLICEN_OK;
	if ((rc = store_begin_as(s, durable)) != 0)
		return rc;
	if ((rc = store_commit(s)) != 0)
		store_rollback(s);
	return rc;
}

/* Before a read of expires_at: write the heartbeats, no fsync needed. */
int
store_hb_write(struct store *s)
{
	return store_hb_commit(s, 0);
}

int
store_flush(struct store *s, int64_t now, int64_t max_age)
{
	if (s == NULL || s->hb_n == 0 ||
	    (max_age > 0 && now - s->hb_since < max_age &&
	    s->hb_n < STORE_HB_FLUSH_AT))
		return XLICEN_OK;
	/* What a power loss can take must stay about a second of heartbeats
	 * (store_extend_leases): the checkpointer syncs the WAL every second;
	 * without one, this commit does, at most once a second. */
	return store_hb_commit(s, s->bg == NULL);
}

int
store_extend_leases(struct store *s, int64_t now)
{
	struct store_stmt *st;
	int rc = XLICEN_OK;

	if (s == NULL)
		return XLICEN_E_INVALID;
	/* Shared (PostgreSQL): heartbeats are written when answered, so
	 * none is lost, and the other servers' leases are not ours to
	 * lengthen. */
	if (s->ops->shared)
		return XLICEN_OK;
	/*
	 * A heartbeat lost in a crash was answered while its lease was live,
	 * within about a second of the last one written (store_flush), and
	 * before the crash: the expiry it gave is at most one TTL past the
	 * stored one and at most now + TTL.  The bound is computed from
	 * heartbeat_at, not from expires_at, so that starting again (a crash
	 * loop) gives nothing more: an abandoned lease ends at most two TTL
	 * after its last written heartbeat however many times the server
	 * starts.
	 */
	st = s->st[ST_EXTEND];
	if (store_bind_int64(st, 1, now) != 0 ||
	    store_step(st) != STORE_DONE)
		rc = store_dberr(s, "extend leases");
	store_st_done(st);
	return rc;
}

static void *
store_sync_main(void *arg)
{
	struct store_bg *bg = arg;
	uint64_t t, one = 1;
	ssize_t n;
	int e;

	pthread_mutex_lock(&bg->lock);
	for (;;) {
		while (bg->done == bg->want && !bg->stop)
			pthread_cond_wait(&bg->sync_cond, &bg->lock);
		if (bg->done == bg->want)
			break;		/* stopping, nothing left */
		t = bg->want;
		pthread_mutex_unlock(&bg->lock);
		e = fdatasync(bg->walfd) == 0 ? 0 : errno;
		pthread_mutex_lock(&bg->lock);
		if (e != 0 && bg->sync_errno == 0)
			bg->sync_errno = e;
		if (e == 0)
			bg->done = t;
		/* store_sync_wait waits on the same condition. */
		pthread_cond_broadcast(&bg->sync_cond);
		/* EAGAIN: the counter is full, the loop is awake anyway. */
		n = write(bg->efd, &one, sizeof(one));
		(void)n;
		if (e != 0)
			break;		/* the loop stops the server */
	}
	pthread_mutex_unlock(&bg->lock);
	return NULL;
}

/* After every commit of the loop's connection (sqlite3_wal_hook, which
 * replaces SQLite's automatic checkpoint): wake the checkpointer once the
 * WAL is long. */
static int
store_wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store_bg *bg = arg;

	(void)db;
	(void)name;
	if (pages >= STORE_CKPT_PAGES &&
	    !__atomic_load_n(&bg->ckpt_tail, __ATOMIC_RELAXED)) {
		pthread_mutex_lock(&bg->lock);
		bg->ckpt_want = 1;
		pthread_cond_signal(&bg->ckpt_cond);
		pthread_mutex_unlock(&bg->lock);
	}
	return SQLITE_OK;
}

static void *
store_ckpt_main(void *arg)
{
	struct store_bg *bg = arg;
	struct timespec until;
	int stop, rc, nlog;

	for (;;) {
		pthread_mutex_lock(&bg->lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += STORE_CKPT_EVERY_S;
		while (!bg->ckpt_want && !bg->stop &&
		    pthread_cond_timedwait(&bg->ckpt_cond, &bg->lock,
		    &until) == 0)
			;
		bg->ckpt_want = 0;
		stop = bg->stop;
		pthread_mutex_unlock(&bg->lock);
		/* A last one when stopping: what was committed unsynced is
		 * durable when the server exits. */
		rc = sqlite3_wal_checkpoint_v2(bg->ck_db, "main",
		    SQLITE_CHECKPOINT_PASSIVE, &nlog, NULL);
		if (rc != SQLITE_OK)
			log_msg(LOG_WARNING, "store: checkpoint: %s",
			    sqlite3_errmsg(bg->ck_db));
		else if (nlog >= STORE_CKPT_PAGES) {
			/* Hand the rest to the loop, also when this pass
			 * copied all it saw: the loop may have begun its next
			 * round meanwhile, and SQLite starts the WAL over only
			 * for a write begun with nothing left to copy.  No
			 * second pass meanwhile (store_wal_hook does not ask
			 * while this is pending). */
			__atomic_store_n(&bg->ckpt_tail, 1, __ATOMIC_RELAXED);
			pthread_mutex_lock(&bg->lock);
			bg->ckpt_want = 0;
			pthread_mutex_unlock(&bg->lock);
		}
		if (stop)
			break;
	}
	return NULL;
}

void
store_bg_stop(struct store *s)
{
	struct store_bg *bg = s->bg;

	if (bg == NULL)
		return;
	pthread_mutex_lock(&bg->lock);
	bg->stop = 1;
	pthread_cond_broadcast(&bg->sync_cond);
	pthread_cond_signal(&bg->ckpt_cond);
	pthread_mutex_unlock(&bg->lock);
	if (bg->sync_started)
		pthread_join(bg->sync_thread, NULL);
	if (bg->ckpt_started)
		pthread_join(bg->ckpt_thread, NULL);
	sqlite3_wal_hook(store_sqlite_db(s), NULL, NULL);
	sqlite3_close(bg->ck_db);
	if (bg->walfd != -1)
		close(bg->walfd);
	if (bg->efd != -1)
		close(bg->efd);
	pthread_mutex_destroy(&bg->lock);
	pthread_cond_destroy(&bg->sync_cond);
	pthread_cond_destroy(&bg->ckpt_cond);
	free(bg);
	s->bg = NULL;
}

/* Start the syncer and the checkpointer.  Without them (an in-memory or
 * URI database, a SQLite without threads, no resources) every durable
 * commit syncs in the loop thread and SQLite checkpoints there, as it
 * does by default: slower, equally safe. */
void
store_bg_start(struct store *s, const char *path)
{
	struct store_bg *bg;
	char wal[4096];
	int nlog;

	if (!sqlite3_threadsafe() || path[0] == '\0' ||
	    strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0 ||
	    (size_t)snprintf(wal, sizeof(wal), "%s-wal", path) >= sizeof(wal) ||
	    (bg = calloc(1, sizeof(*bg))) == NULL)
		return;
	bg->walfd = bg->efd = -1;
	pthread_mutex_init(&bg->lock, NULL);
	pthread_cond_init(&bg->sync_cond, NULL);
	pthread_cond_init(&bg->ckpt_cond, NULL);
	s->bg = bg;
	if ((bg->walfd = open(wal, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (bg->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    sqlite3_open_v2(path, &bg->ck_db, SQLITE_OPEN_READWRITE,
	    store_sqlite_vfs()) != SQLITE_OK) {
		log_msg(LOG_WARNING, "store: no background sync (%s): every "
		    "grant syncs in the event loop", bg->ck_db != NULL ?
		    sqlite3_errmsg(bg->ck_db) : strerror(errno));
		store_bg_stop(s);
		return;
	}
	sqlite3_busy_timeout(bg->ck_db, STORE_BUSY_MS);
	/* A connection opens the WAL at its first read; until then a
	 * checkpoint through it does nothing at all. */
	if (sqlite3_exec(bg->ck_db, "SELECT 1 FROM sqlite_schema LIMIT 1",
	    NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_wal_checkpoint_v2(bg->ck_db, "main",
	    SQLITE_CHECKPOINT_PASSIVE, &nlog, NULL) != SQLITE_OK || nlog < 0) {
		log_msg(LOG_WARNING, "store: no background checkpoints (%s): "
		    "every grant syncs in the event loop",
		    sqlite3_errmsg(bg->ck_db));
		store_bg_stop(s);
		return;
	}
	if (pthread_create(&bg->sync_thread, NULL, store_sync_main, bg) != 0) {
		store_bg_stop(s);
		return;
	}
	bg->sync_started = 1;
	if (pthread_create(&bg->ckpt_thread, NULL, store_ckpt_main, bg) != 0) {
		store_bg_stop(s);
		return;
	}
	bg->ckpt_started = 1;
	sqlite3_wal_hook(store_sqlite_db(s), store_wal_hook, bg);
}
