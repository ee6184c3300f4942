/*
 * Unit tests for client/discover: the server list grammar, and DNS SRV
 * records (RFC 2782) from canned DNS answers built here byte by byte, so
 * no test touches the network: parsing (compressed names, skipped
 * records, every malformed case), the priority/weight order with a fixed
 * random sequence, the list made from the records, and the domain taken
 * from $XLICEN_DOMAIN.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "discover.h"
#include "xlicen_errors.h"

/* ---- a tiny DNS message builder ---- */

struct dns {
	uint8_t b[2048];
	size_t n;
	size_t ancount_off;
	unsigned ancount;
};

static void
put8(struct dns *d, unsigned v)
{
	assert_true(d->n < sizeof(d->b));
	d->b[d->n++] = (uint8_t)v;
}

static void
put16(struct dns *d, unsigned v)
{
	put8(d, v >> 8);
	put8(d, v & 0xff);
}

static void
put32(struct dns *d, unsigned long v)
{
	put16(d, (unsigned)(v >> 16));
	put16(d, (unsigned)(v & 0xffff));
}

/* A name as labels, "." for the root; no compression. */
static void
put_name(struct dns *d, const char *name)
{
	const char *p = name, *dot;
	size_t len;

	while (*p != '\0' && strcmp(p, ".") != 0) {
		dot = strchr(p, '.');
		len = dot != NULL ? (size_t)(dot - p) : strlen(p);
		put8(d, (unsigned)len);
		memcpy(d->b + d->n, p, len);
		d->n += len;
		p += len;
		if (*p == '.')
			p++;
	}
	put8(d, 0);
}

/* Offset of the question name: right after the 12-byte header. */
#define QNAME_OFF	12
#define QNAME		"_gss-xlicen._tcp.example.org"
/* Offset of "example.org" inside the question name. */
#define EXAMPLE_OFF	(QNAME_OFF + 1 + 11 + 1 + 4)

static void
dns_start(struct dns *d)
{
	memset(d, 0, sizeof(*d));
	put16(d, 0x1234);	/* id */
	put16(d, 0x8180);	/* response, RD, RA, NOERROR */
	put16(d, 1);		/* qdcount */
	d->ancount_off = d->n;
	put16(d, 0);		/* ancount, patched */
	put16(d, 0);
	put16(d, 0);
	put_name(d, QNAME);
	put16(d, 33);		/* SRV */
	put16(d, 1);		/* IN */
}

/* The owner name (a pointer to the question), type, class, TTL; the
 * caller writes rdlength and rdata.  Returns nothing: counts the RR. */
static void
rr_head(struct dns *d, unsigned type)
{
	put16(d, 0xc000 | QNAME_OFF);
	put16(d, type);
	put16(d, 1);
	put32(d, 300);
	d->ancount++;
	d->b[d->ancount_off] = (uint8_t)(d->ancount >> 8);
	d->b[d->ancount_off + 1] = (uint8_t)(d->ancount & 0xff);
}

/* An SRV record with an uncompressed target. */
static void
add_srv(struct dns *d, unsigned pri, unsigned w, unsigned port,
    const char *target)
{
	size_t len_off;

	rr_head(d, 33);
	len_off = d->n;
	put16(d, 0);
	put16(d, pri);
	put16(d, w);
	put16(d, port);
	put_name(d, target);
	d->b[len_off] = (uint8_t)((d->n - len_off - 2) >> 8);
	d->b[len_off + 1] = (uint8_t)((d->n - len_off - 2) & 0xff);
}

static int
parse(const struct dns *d, struct discover_srv *v, size_t max, size_t *n)
{
	char err[128];

	return discover_srv_parse(d->b, d->n, v, max, n, err, sizeof(err));
}

/* ---- parsing ---- */

static void
test_srv_parse_basic(void **state)
{
	struct discover_srv v[8];
	struct dns d;
	size_t n = 99;

	(void)state;
	dns_start(&d);
	add_srv(&d, 10, 60, 128, "ls1.example.org");
	add_srv(&d, 10, 40, 1128, "ls2.example.org.");
	add_srv(&d, 20, 0, 65535, "backup.example.net");
	assert_int_equal(parse(&d, v, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[0].priority, 10);
	assert_int_equal(v[0].weight, 60);
	assert_int_equal(v[0].port, 128);
	assert_string_equal(v[0].target, "ls1.example.org");
	assert_string_equal(v[1].target, "ls2.example.org");
	assert_int_equal(v[1].port, 1128);
	assert_int_equal(v[2].priority, 20);
	assert_int_equal(v[2].port, 65535);
	assert_string_equal(v[2].target, "backup.example.net");
}

static void
test_srv_parse_compressed_target(void **state)
{
	struct discover_srv v[4];
	struct dns d;
	size_t n;

	(void)state;
	dns_start(&d);
	rr_head(&d, 33);
	put16(&d, 6 + 4 + 2);	/* rdlength: fields, "\3ls4", pointer */
	put16(&d, 5);
	put16(&d, 7);
	put16(&d, 128);
	put8(&d, 3);
	memcpy(d.b + d.n, "ls4", 3);
	d.n += 3;
	put16(&d, 0xc000 | EXAMPLE_OFF);
	assert_int_equal(parse(&d, v, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].target, "ls4.example.org");
	assert_int_equal(v[0].priority, 5);
	assert_int_equal(v[0].weight, 7);
}

static void
test_srv_parse_skips(void **state)
{
	struct discover_srv v[4];
	struct dns d;
	size_t n, len_off;

	(void)state;
	dns_start(&d);
	/* A CNAME on the way is not an SRV record. */
	rr_head(&d, 5);
	len_off = d.n;
	put16(&d, 0);
	put_name(&d, "alias.example.org");
	d.b[len_off + 1] = (uint8_t)(d.n - len_off - 2);
	/* Port 0 cannot be dialed. */
	add_srv(&d, 1, 1, 0, "zero.example.org");
	add_srv(&d, 1, 1, 128, "ok.example.org");
	assert_int_equal(parse(&d, v, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].target, "ok.example.org");

	/* No answer records at all: fine, nothing found. */
	dns_start(&d);
	assert_int_equal(parse(&d, v, 4, &n), 0);
	assert_int_equal(n, 0);
}

static void
test_srv_parse_max(void **state)
{
	struct discover_srv v[2];
	struct dns d;
	size_t n;

	(void)state;
	dns_start(&d);
	add_srv(&d, 1, 1, 128, "a.example.org");
	add_srv(&d, 1, 1, 128, "b.example.org");
	add_srv(&d, 1, 1, 128, "c.example.org");
	assert_int_equal(parse(&d, v, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[1].target, "b.example.org");
}

static void
test_srv_parse_root_target(void **state)
{
	struct discover_srv v[2];
	struct discover_list l;
	struct dns d;
	char err[200];
	size_t n;

	(void)state;
	dns_start(&d);
	add_srv(&d, 0, 0, 128, ".");
	assert_int_equal(parse(&d, v, 2, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].target, ".");
	/* "Decidedly not available": no server list. */
	assert_int_equal(discover_srv_list(v, n, &l, err, sizeof(err)),
	    XLICEN_E_CONNECT);
	assert_null(l.v);
	assert_int_equal(l.n, 0);
	assert_non_null(strstr(err, "no license server"));
}

static void
test_srv_parse_malformed(void **state)
{
	struct discover_srv v[4];
	struct dns d, cut;
	char err[128];
	size_t n, len_off, i;

	(void)state;
	/* Every truncation of a good answer is refused, never read past. */
	dns_start(&d);
	add_srv(&d, 1, 2, 128, "ls1.example.org");
	for (i = 0; i < d.n; i++) {
		cut = d;
		cut.n = i;
		n = 7;
		assert_int_equal(discover_srv_parse(cut.b, cut.n, v, 4, &n, err,
		    sizeof(err)), XLICEN_E_BAD_VALUE);
		assert_int_equal(n, 0);
	}

	/* rdata too short for priority, weight, port and a name. */
	dns_start(&d);
	rr_head(&d, 33);
	put16(&d, 6);
	put16(&d, 1);
	put16(&d, 1);
	put16(&d, 128);
	assert_int_equal(parse(&d, v, 4, &n), XLICEN_E_BAD_VALUE);
	assert_int_equal(n, 0);

	/* rdlength longer than the name inside it. */
	dns_start(&d);
	rr_head(&d, 33);
	len_off = d.n;
	put16(&d, 0);
	put16(&d, 1);
	put16(&d, 1);
	put16(&d, 128);
	put_name(&d, "a.example.org");
	put16(&d, 0);		/* two stray bytes counted in rdlength */
	d.b[len_off + 1] = (uint8_t)(d.n - len_off - 2);
	assert_int_equal(parse(&d, v, 4, &n), XLICEN_E_BAD_VALUE);

	/* rdlength running past the end of the message. */
	dns_start(&d);
	add_srv(&d, 1, 1, 128, "a.example.org");
	d.b[d.n - 6 - 15 - 1] += 10;	/* rdlength's low byte */
	assert_int_equal(parse(&d, v, 4, &n), XLICEN_E_BAD_VALUE);

	/* A target that would change the GSS name "service@host". */
	dns_start(&d);
	add_srv(&d, 1, 1, 128, "evil@example.org");
	assert_int_equal(parse(&d, v, 4, &n), XLICEN_E_BAD_VALUE);
	dns_start(&d);
	add_srv(&d, 1, 1, 128, "sp ace.example.org");
	assert_int_equal(parse(&d, v, 4, &n), XLICEN_E_BAD_VALUE);

	/* A compression pointer that points at itself. */
	dns_start(&d);
	rr_head(&d, 33);
	put16(&d, 8);
	put16(&d, 1);
	put16(&d, 1);
	put16(&d, 128);
	put16(&d, 0xc000 | (unsigned)(d.n));
	assert_int_equal(parse(&d, v, 4, &n), XLICEN_E_BAD_VALUE);

	/* Not a DNS message at all. */
	assert_int_equal(discover_srv_parse((const unsigned char *)"x", 1, v, 4,
	    &n, err, sizeof(err)), XLICEN_E_BAD_VALUE);
}

/* ---- ordering ---- */

struct seq {
	const uint32_t *v;
	size_t n, i;
};

static uint32_t
seq_rnd(void *arg)
{
	struct seq *q = arg;

	assert_true(q->i < q->n);
	return q->v[q->i++];
}

static void
set(struct discover_srv *s, unsigned pri, unsigned w, const char *t)
{
	memset(s, 0, sizeof(*s));
	s->priority = pri;
	s->weight = w;
	s->port = 128;
	snprintf(s->target, sizeof(s->target), "%s", t);
}

static void
test_srv_order_priority(void **state)
{
	struct discover_srv v[4];
	static const uint32_t r[] = { 0, 0, 0 };
	struct seq q = { r, 3, 0 };

	(void)state;
	set(&v[0], 30, 0, "c");
	set(&v[1], 10, 0, "a1");
	set(&v[2], 20, 0, "b");
	set(&v[3], 10, 0, "a2");
	discover_srv_order(v, 4, seq_rnd, &q);
	assert_string_equal(v[0].target, "a1");
	assert_string_equal(v[1].target, "a2");
	assert_string_equal(v[2].target, "b");
	assert_string_equal(v[3].target, "c");
	/* Groups of one need no random number, all-zero weights none. */
	assert_int_equal(q.i, 0);
}

static void
test_srv_order_weight(void **state)
{
	struct discover_srv v[3];
	static const uint32_t r0[] = { 0 }, r61[] = { 61 }, r100[] = { 100 },
	    r201[] = { 201 };
	struct seq q;

	(void)state;
	/* Weights 60 and 40: running sums 60, 100 against r in [0, 100]. */
	set(&v[0], 1, 60, "a");
	set(&v[1], 1, 40, "b");
	q = (struct seq){ r0, 1, 0 };
	discover_srv_order(v, 2, seq_rnd, &q);
	assert_string_equal(v[0].target, "a");
	assert_string_equal(v[1].target, "b");

	set(&v[0], 1, 60, "a");
	set(&v[1], 1, 40, "b");
	q = (struct seq){ r61, 1, 0 };
	discover_srv_order(v, 2, seq_rnd, &q);
	assert_string_equal(v[0].target, "b");
	assert_string_equal(v[1].target, "a");

	/* r is taken modulo total + 1: 201 % 101 = 100, the last one. */
	set(&v[0], 1, 60, "a");
	set(&v[1], 1, 40, "b");
	q = (struct seq){ r201, 1, 0 };
	discover_srv_order(v, 2, seq_rnd, &q);
	assert_string_equal(v[0].target, "b");

	set(&v[0], 1, 60, "a");
	set(&v[1], 1, 40, "b");
	q = (struct seq){ r100, 1, 0 };
	discover_srv_order(v, 2, seq_rnd, &q);
	assert_string_equal(v[0].target, "b");
}

static void
test_srv_order_zero_weight(void **state)
{
	struct discover_srv v[3];
	static const uint32_t r0[] = { 0, 0 }, r1[] = { 1, 0 };
	struct seq q;

	(void)state;
	/* A weight-0 record goes to the front of the draw: r = 0 picks it,
	 * anything larger the weighted one. */
	set(&v[0], 1, 50, "w");
	set(&v[1], 1, 0, "z");
	q = (struct seq){ r0, 2, 0 };
	discover_srv_order(v, 2, seq_rnd, &q);
	assert_string_equal(v[0].target, "z");
	assert_string_equal(v[1].target, "w");

	set(&v[0], 1, 50, "w");
	set(&v[1], 1, 0, "z");
	q = (struct seq){ r1, 2, 0 };
	discover_srv_order(v, 2, seq_rnd, &q);
	assert_string_equal(v[0].target, "w");
	assert_string_equal(v[1].target, "z");
}

static void
test_srv_order_three_draws(void **state)
{
	struct discover_srv v[4];
	/* 10/20/30 (total 60): r=35 picks c (10+20 < 35 <= 60); then a/b
	 * (total 30): r=5 picks a; b is left. */
	static const uint32_t r[] = { 35, 5 };
	struct seq q = { r, 2, 0 };

	(void)state;
	set(&v[0], 5, 10, "a");
	set(&v[1], 5, 20, "b");
	set(&v[2], 5, 30, "c");
	set(&v[3], 1, 0, "first");
	discover_srv_order(v, 4, seq_rnd, &q);
	assert_string_equal(v[0].target, "first");
	assert_string_equal(v[1].target, "c");
	assert_string_equal(v[2].target, "a");
	assert_string_equal(v[3].target, "b");
	assert_int_equal(q.i, 2);
}

static void
test_srv_list(void **state)
{
	struct discover_srv v[3];
	struct discover_list l;
	char err[128], shown[300];

	(void)state;
	set(&v[0], 1, 0, "ls1.example.org");
	v[0].port = 1128;
	set(&v[1], 1, 0, ".");
	set(&v[2], 2, 0, "ls2.example.org");
	assert_int_equal(discover_srv_list(v, 3, &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].host, "ls1.example.org");
	assert_string_equal(l.v[0].port, "1128");
	assert_int_equal(l.v[0].port_given, 1);
	discover_server_format(&l.v[1], shown, sizeof(shown));
	assert_string_equal(shown, "ls2.example.org:128");
	discover_list_free(&l);
	assert_null(l.v);
}

/* ---- the domain and the list grammar ---- */

static void
test_domain_env(void **state)
{
	char d[256];

	(void)state;
	setenv("XLICEN_DOMAIN", "lab.example.org", 1);
	assert_int_equal(discover_domain(d, sizeof(d)), 0);
	assert_string_equal(d, "lab.example.org");
	setenv("XLICEN_DOMAIN", "bad@domain", 1);
	assert_int_equal(discover_domain(d, sizeof(d)), XLICEN_E_CONNECT);
	assert_string_equal(d, "");
	unsetenv("XLICEN_DOMAIN");
}

static void
test_parse_list(void **state)
{
	struct discover_list l;
	char err[256];

	(void)state;
	assert_int_equal(discover_parse(" a , b:129,[::1]:7,::1 ", &l, err,
	    sizeof(err)), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.v[0].host, "a");
	assert_string_equal(l.v[0].port, "128");
	assert_int_equal(l.v[0].port_given, 0);
	assert_string_equal(l.v[1].port, "129");
	assert_string_equal(l.v[2].host, "::1");
	assert_string_equal(l.v[2].port, "7");
	assert_string_equal(l.v[3].host, "::1");
	assert_string_equal(l.v[3].port, "128");
	discover_list_free(&l);

	assert_int_equal(discover_parse("a,,b", &l, err, sizeof(err)),
	    XLICEN_E_INVALID);
	assert_non_null(strstr(err, "empty entry"));
	assert_int_equal(discover_parse("a:0", &l, err, sizeof(err)),
	    XLICEN_E_INVALID);
	assert_int_equal(discover_parse("a:65536", &l, err, sizeof(err)),
	    XLICEN_E_INVALID);
	assert_int_equal(discover_parse("[::1", &l, err, sizeof(err)),
	    XLICEN_E_INVALID);
	assert_int_equal(discover_parse("x@y", &l, err, sizeof(err)),
	    XLICEN_E_INVALID);
	assert_null(l.v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srv_parse_basic),
		cmocka_unit_test(test_srv_parse_compressed_target),
		cmocka_unit_test(test_srv_parse_skips),
		cmocka_unit_test(test_srv_parse_max),
		cmocka_unit_test(test_srv_parse_root_target),
		cmocka_unit_test(test_srv_parse_malformed),
		cmocka_unit_test(test_srv_order_priority),
		cmocka_unit_test(test_srv_order_weight),
		cmocka_unit_test(test_srv_order_zero_weight),
		cmocka_unit_test(test_srv_order_three_draws),
		cmocka_unit_test(test_srv_list),
		cmocka_unit_test(test_domain_env),
		cmocka_unit_test(test_parse_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
