/*
 * libFuzzer target: the message codec.  The input is the plaintext of a
 * DATA frame (what gss_unwrap hands to msg_decode).
 *
 * Properties checked, beyond "no crash, no leak, no undefined behaviour":
 *   - the error is one of those msg.h documents, and m is cleared on error;
 *   - a decoded message re-encodes (msg_encode accepts what msg_decode
 *     produced), never longer than the input (only unknown TLVs are
 *     dropped), decodes again to an identical message (every field and
 *     every pool, holder and report row, compared byte for byte), and
 *     that encodes to the identical bytes (one canonical encoding).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "msg.h"
#include "xlicen_errors.h"

#include "fuzz_check.h"

/* 1 if s is a NUL-terminated string of at most LIMIT_STRING valid UTF-8
 * bytes, as msg.h promises for every decoded string. */
static int
str_ok(const char *s)
{
	const char *nul = memchr(s, '\0', LIMIT_STRING + 1);

	return nul != NULL &&
	    buf_utf8_valid((const uint8_t *)s, (size_t)(nul - s));
}

/* Byte-wise equality with a pointer to the first difference.  msg_decode
 * zeroes every struct it fills (padding included) before writing fields,
 * so two decodes of the same message are byte-for-byte identical. */
static void
bytes_equal(const void *a, const void *b, size_t n, const char *what)
{
	const uint8_t *x = a, *y = b;
	size_t i;

	for (i = 0; i < n; i++) {
		if (x[i] != y[i]) {
			fprintf(stderr, "%s differs at byte %zu of %zu\n", what,
			    i, n);
			abort();
		}
	}
}

/* Every field, including the list elements.  Written without naming the
 * fields, so that new ones are compared too; a new list (a new pointer
 * in struct msg) must be added here. */
static void
msg_equal(const struct msg *a, const struct msg *b)
{
	struct msg x, y;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	x.pools = y.pools = NULL;
	x.holders = y.holders = NULL;
	x.rows = y.rows = NULL;
	x.listens = y.listens = NULL;
	x.evs = y.evs = NULL;
	bytes_equal(&x, &y, sizeof(x), "struct msg");
	if (a->npools > 0)
		bytes_equal(a->pools, b->pools, a->npools * sizeof(*a->pools),
		    "pools");
	if (a->nholders > 0)
		bytes_equal(a->holders, b->holders,
		    a->nholders * sizeof(*a->holders), "holders");
	if (a->nrows > 0)
		bytes_equal(a->rows, b->rows, a->nrows * sizeof(*a->rows),
		    "rows");
	if (a->nlistens > 0)
		bytes_equal(a->listens, b->listens,
		    a->nlistens * sizeof(*a->listens), "listens");
	if (a->nevs > 0)
		bytes_equal(a->evs, b->evs, a->nevs * sizeof(*a->evs),
		    "events");
}

static void
msg_sane(const struct msg *m)
{
	FUZZ_CHECK(strcmp(msg_type_name(m->type), "UNKNOWN") != 0);
	FUZZ_CHECK(str_ok(m->product) && str_ok(m->version) &&
	    str_ok(m->host) && str_ok(m->display) && str_ok(m->lease) &&
	    str_ok(m->reason) && str_ok(m->queue_id) && str_ok(m->hash));
	FUZZ_CHECK(m->npools <= LIMIT_STATUS_POOLS);
	FUZZ_CHECK((m->npools == 0) == (m->pools == NULL));
	FUZZ_CHECK((m->npools > 0) == ((m->have & MSG_F(TAG_POOL)) != 0));
	FUZZ_CHECK(m->nholders <= LIMIT_LIST_ITEMS);
	FUZZ_CHECK((m->nholders == 0) == (m->holders == NULL));
	FUZZ_CHECK((m->nholders > 0) == ((m->have & MSG_F(TAG_HOLDER)) != 0));
	FUZZ_CHECK(m->nrows <= LIMIT_LIST_ITEMS);
	FUZZ_CHECK((m->nrows == 0) == (m->rows == NULL));
	FUZZ_CHECK((m->nrows > 0) == ((m->have & MSG_F(TAG_ROW)) != 0));
	FUZZ_CHECK(m->nevs <= LIMIT_LIST_ITEMS);
	FUZZ_CHECK((m->nevs == 0) == (m->evs == NULL));
	FUZZ_CHECK((m->nevs > 0) == ((m->have & MSG_F(TAG_EVENT)) != 0));
	/* The error table must answer for any wire code a peer sends. */
	if (m->have & MSG_F(TAG_CODE)) {
		FUZZ_CHECK(err_str(m->code) != NULL);
		FUZZ_CHECK(err_name(m->code) != NULL);
		(void)err_known(m->code);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct msg zero;
	struct msg m, m2;
	struct buf b, b2;
	int rc;

	buf_init(&b);
	buf_init(&b2);
	rc = msg_decode(data, size, &m);
	FUZZ_CHECK(rc == 0 || rc == XLICEN_E_TRUNCATED ||
	    rc == XLICEN_E_MSG_TYPE || rc == XLICEN_E_TLV_CRITICAL ||
	    rc == XLICEN_E_TLV_DUP || rc == XLICEN_E_TLV_MISSING ||
	    rc == XLICEN_E_TLV_LENGTH || rc == XLICEN_E_STRING ||
	    rc == XLICEN_E_TLV_COUNT || rc == XLICEN_E_NOMEM);
	if (rc != 0) {
		/* "m is cleared on error" */
		FUZZ_CHECK(memcmp(&m, &zero, sizeof(m)) == 0);
		(void)err_str(rc);
		return 0;
	}
	msg_sane(&m);

	rc = msg_encode(&m, &b);
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(b.len <= size);
	rc = msg_decode(b.data, b.len, &m2);
	FUZZ_CHECK(rc == 0);
	msg_equal(&m, &m2);
	rc = msg_encode(&m2, &b2);
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(b2.len == b.len && memcmp(b2.data, b.data, b.len) == 0);

	msg_clear(&m);
	msg_clear(&m2);
	msg_clear(NULL);
	buf_free(&b);
	buf_free(&b2);
	return 0;
}
