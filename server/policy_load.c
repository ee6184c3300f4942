/*
 * Loading the license policy (policy.h): the options file, read with the
 * krb5 profile library like the server configuration; the decisions made
 * from it are in policy.c.  The profile library gives values but no line numbers, so the
 * file's text is also scanned line by line (profscan.c, the scanner the
 * configuration shares), only to say where a bad value is.  Everything
 * in a policy is copied into fixed-size fields at load time; deciding
 * never allocates.  The dup-group names and key are in policy_dup.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <com_err.h>
#include <profile.h>

#include "display.h"
#include "err.h"
#include "fileio.h"
#include "license.h"
#include "limits.h"
#include "log.h"
#include "policy.h"
#include "policy_int.h"
#include "profscan.h"
#include "xlicen_errors.h"

#define POLICY_QUEUE_MAX_S	86400

static const char *const rule_names[] = {
	[R_INCLUDE] = "include", [R_EXCLUDE] = "exclude",
	[R_RESERVE] = "reserve", [R_MAX] = "max",
};

/* While loading. */
struct load_ctx {
	const char *path;
	const char *text;
	profile_t prof;
	struct policy *p;
	char *err;
	size_t errlen;
};

/* ---- finding lines ---- */

/* Skip the blanks around s[0..n) (and a CR at its end). */
static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && ((*s)[0] == ' ' || (*s)[0] == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' ||
	    (*s)[*n - 1] == '\r'))
		(*n)--;
}

/*
 * The line of "key = value" in [section], inside "sub = {" when sub is
 * not NULL (value NULL: any value; key NULL: the "sub = {" line itself,
 * or with sub NULL too the "[section]" line).  0 if not found.  Only used
 * for messages.
 */
static unsigned
line_of(const char *text, const char *section, const char *sub,
    const char *key, const char *value)
{
	struct profscan_query q;

	memset(&q, 0, sizeof(q));
	q.section = section;
	q.sub = sub;
	q.key = key;
	q.value = value;
	return (unsigned)profscan_find(text, 0, &q);
}

static int __attribute__((format(printf, 3, 4)))
load_fail(struct load_ctx *c, unsigned line, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		err_setf(c->err, c->errlen, "%s:%u: %s", c->path, line, msg);
	else
		err_setf(c->err, c->errlen, "%s: %s", c->path, msg);
	return XLICEN_E_CONFIG;
}

/* ---- reading the file ---- */

/* The whole file, NUL-terminated, or XLICEN_E_CONFIG with a message. */
static int
read_text(const char *path, char **out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t n;
	mode_t mode;
	int rc, errnum;

	*out = NULL;
	rc = fileio_read(path, LIMIT_CONFIG_BYTES, &buf, &n, &mode, &errnum);
	if (rc == XLICEN_E_NOMEM)
		return rc;
	if (rc == FILEIO_NOT_REGULAR)
		err_setf(err, errlen, "%s: not a regular file", path);
	else if (rc == FILEIO_TOO_LARGE)
		err_setf(err, errlen, "%s: larger than %d bytes", path,
		    LIMIT_CONFIG_BYTES);
	else if (rc != 0)
		err_setf(err, errlen, "%s: %s", path, strerror(errnum));
	else if (memchr(buf, '\0', n) != NULL)
		err_setf(err, errlen, "%s: contains a NUL byte", path);
	else {
		*out = buf;
		return 0;
	}
	free(buf);
	return XLICEN_E_CONFIG;
}

/* Every (name, value) of the section or subsection names; value NULL for
 * a subsection.  The callback returns 0 to go on. */
static int
each_relation(struct load_ctx *c, const char *const *names,
    int (*fn)(struct load_ctx *, const char *, const char *, void *),
    void *arg)
{
	void *it = NULL;
	char *n = NULL, *v = NULL;
	long prc;
	int rc = 0;

	prc = profile_iterator_create(c->prof, names,
	    PROFILE_ITER_LIST_SECTION, &it);
	if (prc != 0)
		return load_fail(c, 0, "%s", error_message(prc));
	for (;;) {
		prc = profile_iterator(&it, &n, &v);
		if (prc != 0) {
			rc = load_fail(c, 0, "%s", error_message(prc));
			break;
		}
		if (n == NULL)
			break;
		rc = fn(c, n, v, arg);
		profile_release_string(n);
		profile_release_string(v);
		n = v = NULL;
		if (rc != 0)
			break;
	}
	profile_iterator_free(&it);
	return rc;
}

static bool
copy_name(char *dst, size_t dstlen, const char *s, size_t n)
{
	if (n == 0 || n >= dstlen)
		return false;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

static const struct group *
group_find(const struct policy *p, const char *name, size_t *idx)
{
	size_t i;

	for (i = 0; i < p->ngroups; i++)
		if (strcmp(p->groups[i].name, name) == 0) {
			if (idx != NULL)
				*idx = i;
			return &p->groups[i];
		}
	return NULL;
}

/* Split a whitespace-separated list; fn gets each word. */
static int
each_word(const char *v, int (*fn)(void *, const char *, size_t), void *arg)
{
	size_t i = 0, j;
	int rc;

	for (;;) {
		while (v[i] == ' ' || v[i] == '\t' || v[i] == ',')
			i++;
		if (v[i] == '\0')
			return 0;
		for (j = i; v[j] != '\0' && v[j] != ' ' && v[j] != '\t' &&
		    v[j] != ','; j++)
			;
		if ((rc = fn(arg, v + i, j - i)) != 0)
			return rc;
		i = j;
	}
}

static int
principal_ok(const char *s, size_t n)
{
	size_t i;
	int at = 0;

	if (n == 0 || n >= POLICY_NAME)
		return 0;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x21 || s[i] == 0x7f)
			return 0;
		at |= s[i] == '@';
	}
	return at && s[0] != '@';
}

struct member_arg {
	char (**arr)[POLICY_NAME];
	size_t *n;
	int bad;
};

static int
add_member(void *arg, const char *w, size_t n)
{
	struct member_arg *a = arg;
	char (*na)[POLICY_NAME];

	if (!principal_ok(w, n)) {
		a->bad = 1;
		return XLICEN_E_CONFIG;
	}
	na = realloc(*a->arr, (*a->n + 1) * sizeof(*na));
	if (na == NULL)
		return XLICEN_E_NOMEM;
	*a->arr = na;
	memcpy(na[*a->n], w, n);
	na[*a->n][n] = '\0';
	(*a->n)++;
	return 0;
}

static int
on_group(struct load_ctx *c, const char *name, const char *value, void *arg)
{
	struct policy *p = c->p;
	struct group *g, *ng;
	struct member_arg ma;
	int rc;

	(void)arg;
	if (value == NULL)
		return load_fail(c, line_of(c->text, "groups", name, NULL, NULL),
		    "[groups] %s: expected \"NAME = PRINCIPAL ...\", not a "
		    "subsection", name);
	if (!license_name_valid(name))
		return load_fail(c, line_of(c->text, "groups", NULL, name, NULL),
		    "[groups] \"%s\": a group name is 1-64 of A-Z a-z 0-9 . _ "
		    "+ -", name);
	/* A repeated name adds members. */
	if ((g = (struct group *)group_find(p, name, NULL)) == NULL) {
		ng = realloc(p->groups, (p->ngroups + 1) * sizeof(*ng));
		if (ng == NULL)
			return XLICEN_E_NOMEM;
		p->groups = ng;
		g = &p->groups[p->ngroups++];
		memset(g, 0, sizeof(*g));
		snprintf(g->name, sizeof(g->name), "%s", name);
	}
	ma.arr = &g->members;
	ma.n = &g->n;
	ma.bad = 0;
	rc = each_word(value, add_member, &ma);
	if (rc != 0 && ma.bad)
		return load_fail(c, line_of(c->text, "groups", NULL, name, value),
		    "[groups] %s = \"%.100s\": members are principals "
		    "NAME@REALM separated by blanks", name, value);
	return rc;
}

static int
on_admin(struct load_ctx *c, const char *name, const char *value, void *arg)
{
	struct policy *p = c->p;
	struct member_arg ma;
	int rc;

	(void)arg;
	if (value == NULL)
		return load_fail(c, line_of(c->text, "admin", name, NULL, NULL),
		    "[admin] %s: unexpected subsection", name);
	if (strcmp(name, "principals") == 0) {
		ma.arr = &p->admins;
		ma.n = &p->nadmins;
		ma.bad = 0;
		rc = each_word(value, add_member, &ma);
		if (rc != 0 && ma.bad)
			return load_fail(c, line_of(c->text, "admin", NULL, name,
			    value), "[admin] principals = \"%.100s\": expected "
			    "principals NAME@REALM separated by blanks", value);
		return rc;
	}
	if (strcmp(name, "groups") == 0)
		return 0;	/* after [groups] is read: load_admin_groups */
	if (strcmp(name, "public_holders") == 0) {
		if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
			return load_fail(c, line_of(c->text, "admin", NULL,
			    name, value), "[admin] public_holders = \"%.100s\": "
			    "expected true or false", value);
		p->public_holders = strcmp(value, "true") == 0;
		return 0;
	}
	return load_fail(c, line_of(c->text, "admin", NULL, name, NULL),
	    "[admin] %s: unknown key (expected principals, groups or "
	    "public_holders)", name);
}

struct agroup_arg {
	struct load_ctx *c;
	const char *value;
};

static int
add_admin_group(void *arg, const char *w, size_t n)
{
	struct agroup_arg *a = arg;
	struct policy *p = a->c->p;
	char name[POLICY_NAME];
	size_t idx, *ng;

	if (!copy_name(name, sizeof(name), w, n) ||
	    group_find(p, name, &idx) == NULL)
		return load_fail(a->c, line_of(a->c->text, "admin", NULL,
		    "groups", a->value), "[admin] groups = \"%.100s\": group "
		    "\"%.*s\" is not defined in [groups]", a->value, (int)n, w);
	ng = realloc(p->admin_groups, (p->nadmin_groups + 1) * sizeof(*ng));
	if (ng == NULL)
		return XLICEN_E_NOMEM;
	p->admin_groups = ng;
	ng[p->nadmin_groups++] = idx;
	return 0;
}

static int
on_admin_groups(struct load_ctx *c, const char *name, const char *value,
    void *arg)
{
	struct agroup_arg a;

	(void)arg;
	if (value == NULL || strcmp(name, "groups") != 0)
		return 0;
	a.c = c;
	a.value = value;
	return each_word(value, add_admin_group, &a);
}

/* Parse a target "principal:P", "P@R", "@R", "realm:R", "group:G",
 * "host:H" from s[0..n).  false with why if it is none. */
static bool
parse_target(struct policy *p, const char *s, size_t n, struct target *t,
    const char **why)
{
	char buf[POLICY_NAME];

	memset(t, 0, sizeof(*t));
	*why = "expected principal:NAME@REALM, NAME@REALM, @REALM, "
	    "realm:REALM, group:NAME or host:NAME";
	if (n > 10 && memcmp(s, "principal:", 10) == 0) {
		s += 10;
		n -= 10;
		if (!principal_ok(s, n))
			return false;
		t->kind = T_PRINCIPAL;
		return copy_name(t->name, sizeof(t->name), s, n);
	}
	if (n > 6 && memcmp(s, "realm:", 6) == 0) {
		t->kind = T_REALM;
		t->name[0] = '@';
		if (n - 6 + 1 >= sizeof(t->name))
			return false;
		memcpy(t->name + 1, s + 6, n - 6);
		t->name[n - 5] = '\0';
		return strchr(t->name + 1, '@') == NULL;
	}
	if (n > 1 && s[0] == '@') {
		t->kind = T_REALM;
		if (memchr(s + 1, '@', n - 1) != NULL)
			return false;
		return copy_name(t->name, sizeof(t->name), s, n);
	}
	if (n > 6 && memcmp(s, "group:", 6) == 0) {
		t->kind = T_GROUP;
		if (!copy_name(buf, sizeof(buf), s + 6, n - 6))
			return false;
		if (group_find(p, buf, &t->group) == NULL) {
			*why = "that group is not defined in [groups]";
			return false;
		}
		snprintf(t->name, sizeof(t->name), "%s", buf);
		return true;
	}
	if (n > 5 && memcmp(s, "host:", 5) == 0) {
		t->kind = T_HOST;
		if (!copy_name(buf, sizeof(buf), s + 5, n - 5))
			return false;
		/* The rule keeps the host's key (common/display.h), the one
		 * form every host comparison uses: kiosk1 and
		 * kiosk1.example.org name one host. */
		if (display_host_key(buf, t->name, sizeof(t->name)) != 0 ||
		    t->name[0] == '\0')
			return false;
		return true;
	}
	if (principal_ok(s, n)) {
		t->kind = T_PRINCIPAL;
		return copy_name(t->name, sizeof(t->name), s, n);
	}
	return false;
}

/* A decimal number min..max in s[0..n); false if it is none. */
static bool
parse_u32(const char *s, size_t n, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	*out = 0;
	if (n == 0 || n > 10)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v < min || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* The borrow keys of [default] or a [products] entry pr (ADMIN.md,
 * "Borrowing"): borrow_days, borrow_seats, borrow = TARGET.  value as
 * written, v[0..vn) trimmed; 1 if name is none of them. */
static int
on_borrow_key(struct load_ctx *c, struct product *pr, unsigned line,
    const char *name, const char *value, const char *v, size_t vn)
{
	const char *sub = pr == &c->p->def ? NULL : pr->name;
	const char *sec = pr == &c->p->def ? "default" : "products";
	int days = strcmp(name, "borrow_days") == 0;
	struct target t, *nt;
	const char *why;
	uint32_t x;

#define WHERE sec, sub ? " " : "", sub ? sub : "", name, value
	if (days || strcmp(name, "borrow_seats") == 0) {
		if (!parse_u32(v, vn, days ? 1 : 0, days ?
		    LIMIT_BORROW_DAYS_MAX : LIMIT_SEATS, &x))
			return load_fail(c, line, "[%s]%s%s %s = \"%.60s\": "
			    "expected a number %u..%u", WHERE, days ? 1 : 0,
			    days ? LIMIT_BORROW_DAYS_MAX : LIMIT_SEATS);
		if (days) {
			pr->set.borrow_days = x;
		} else {
			pr->set.borrow_seats = x;
			pr->set.borrow_seats_set = 1;
		}
		return 0;
	}
	if (strcmp(name, "borrow") != 0)
		return 1;
	if (!parse_target(c->p, v, vn, &t, &why))
		return load_fail(c, line, "[%s]%s%s %s = \"%.60s\": %s", WHERE,
		    why);
#undef WHERE
	nt = realloc(pr->borrowers, (pr->nborrowers + 1) * sizeof(*nt));
	if (nt == NULL)
		return XLICEN_E_NOMEM;
	pr->borrowers = nt;
	pr->borrowers[pr->nborrowers++] = t;
	return 0;
}

/* The keys of [default] and of a [products] entry. */
static int
on_product_key(struct load_ctx *c, const char *name, const char *value,
    void *arg)
{
	struct product *pr = arg;
	const char *sub = pr == &c->p->def ? NULL : pr->name;
	const char *sec = pr == &c->p->def ? "default" : "products";
	const char *v = value, *why;
	struct rule r, *nr;
	unsigned line;
	size_t vn, sp;
	int kind = -1, d;
	uint32_t x;

	line = line_of(c->text, sec, sub, name, value);
	if (value == NULL)
		return load_fail(c, line, "[%s] %s%s%s: unexpected subsection",
		    sec, sub ? sub : "", sub ? ": " : "", name);
	vn = strlen(v);
	trim(&v, &vn);
#define WHERE sec, sub ? " " : "", sub ? sub : "", name, value
	if (strcmp(name, "dup_group") == 0) {
		if ((d = policy_dup_parse(value)) == POLICY_DUP_UNKNOWN)
			return load_fail(c, line, "[%s]%s%s %s = \"%.60s\": "
			    "expected uhd, user, host, display, site or none",
			    WHERE);
		pr->set.dup_set = 1;
		pr->set.dup = (enum policy_dup)d;
		return 0;
	}
	if (strncmp(name, "borrow", 6) == 0 &&
	    (d = on_borrow_key(c, pr, line, name, value, v, vn)) != 1)
		return d;
	if (strcmp(name, "linger") == 0 || strcmp(name, "ttl") == 0 ||
	    strcmp(name, "heartbeat") == 0 ||
	    strcmp(name, "queue_timeout") == 0) {
		uint32_t min = 1, max = LIMIT_LEASE_TTL_MAX_S;
		uint32_t *dst = &pr->set.linger_s;

		if (strcmp(name, "ttl") == 0) {
			min = LIMIT_LEASE_TTL_MIN_S;
			dst = &pr->set.ttl_s;
		} else if (strcmp(name, "heartbeat") == 0) {
			max = LIMIT_HEARTBEAT_MAX_S;
			dst = &pr->set.heartbeat_s;
		} else if (strcmp(name, "queue_timeout") == 0) {
			max = POLICY_QUEUE_MAX_S;
			dst = &pr->set.queue_timeout_s;
		}
		if (!parse_u32(v, vn, min, max, &x))
			return load_fail(c, line, "[%s]%s%s %s = \"%.60s\": "
			    "expected a number of seconds %u..%u", WHERE, min,
			    max);
		*dst = x;
		return 0;
	}
	for (d = 0; d < (int)(sizeof(rule_names) / sizeof(rule_names[0])); d++)
		if (strcmp(name, rule_names[d]) == 0)
			kind = d;
	if (kind < 0)
		return load_fail(c, line, "[%s]%s%s %s: unknown key (expected "
		    "include, exclude, reserve, max, dup_group, linger, ttl, "
		    "heartbeat, queue_timeout, borrow, borrow_days or "
		    "borrow_seats)", sec, sub ? " " : "",
		    sub ? sub : "", name);
	memset(&r, 0, sizeof(r));
	r.kind = (enum rule_kind)kind;
	if (kind == R_RESERVE || kind == R_MAX) {
		for (sp = 0; sp < vn && v[sp] != ' ' && v[sp] != '\t'; sp++)
			;
		if (!parse_u32(v, sp, kind == R_MAX ? 0 : 1, LIMIT_SEATS,
		    &r.n))
			return load_fail(c, line, "[%s]%s%s %s = \"%.60s\": "
			    "expected COUNT TARGET, COUNT a number %d..%d", WHERE,
			    kind == R_MAX ? 0 : 1, LIMIT_SEATS);
		v += sp;
		vn -= sp;
		trim(&v, &vn);
	}
	if (!parse_target(c->p, v, vn, &r.t, &why))
		return load_fail(c, line, "[%s]%s%s %s = \"%.60s\": %s", WHERE,
		    why);
#undef WHERE
	if (kind == R_RESERVE || kind == R_MAX)
		snprintf(r.text, sizeof(r.text), "%s = %u %.*s (line %u)",
		    rule_names[kind], r.n, (int)(vn > 100 ? 100 : vn), v, line);
	else
		snprintf(r.text, sizeof(r.text), "%s = %.*s (line %u)",
		    rule_names[kind], (int)(vn > 100 ? 100 : vn), v, line);
	nr = realloc(pr->rules, (pr->nrules + 1) * sizeof(*nr));
	if (nr == NULL)
		return XLICEN_E_NOMEM;
	pr->rules = nr;
	pr->rules[pr->nrules++] = r;
	return 0;
}

static int
on_product(struct load_ctx *c, const char *name, const char *value,
    void *arg)
{
	const char *names[3] = { "products", name, NULL };
	struct policy *p = c->p;
	struct product *np, *pr;
	size_t i;

	(void)arg;
	if (value != NULL)
		return load_fail(c, line_of(c->text, "products", NULL, name,
		    NULL), "[products] %s = \"%.60s\": expected a subsection "
		    "\"%s = { ... }\" (rules for all products go in [default])",
		    name, value, name);
	if (!license_name_valid(name))
		return load_fail(c, line_of(c->text, "products", name, NULL,
		    NULL), "[products] \"%.60s\": not a product name (1-64 of "
		    "A-Z a-z 0-9 . _ + -)", name);
	for (i = 0; i < p->nprods; i++)
		if (strcmp(p->prods[i].name, name) == 0)
			return 0;	/* the library merges repeats */
	np = realloc(p->prods, (p->nprods + 1) * sizeof(*np));
	if (np == NULL)
		return XLICEN_E_NOMEM;
	p->prods = np;
	pr = &p->prods[p->nprods++];
	memset(pr, 0, sizeof(*pr));
	snprintf(pr->name, sizeof(pr->name), "%s", name);
	return each_relation(c, names, on_product_key, pr);
}

static int
on_section(struct load_ctx *c, const char *name, const char *value,
    void *arg)
{
	static const char *const known[] = { "groups", "admin", "default",
	    "products" };
	size_t i;

	(void)arg;
	(void)value;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(name, known[i]) == 0)
			return 0;
	return load_fail(c, line_of(c->text, name, NULL, NULL, NULL),
	    "unknown section "
	    "[%s] (expected [groups], [admin], [default] or [products])",
	    name);
}

static int
has_section(struct load_ctx *c, const char *name)
{
	const char *names[2] = { name, NULL };
	void *it = NULL;
	char *n = NULL, *v = NULL;
	int found = 0;

	if (profile_iterator_create(c->prof, names, PROFILE_ITER_LIST_SECTION,
	    &it) != 0)
		return 0;
	if (profile_iterator(&it, &n, &v) == 0 && n != NULL)
		found = 1;
	profile_release_string(n);
	profile_release_string(v);
	profile_iterator_free(&it);
	return found;
}

void
policy_free(struct policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->ngroups; i++)
		free(p->groups[i].members);
	free(p->groups);
	free(p->admins);
	free(p->admin_groups);
	free(p->def.rules);
	free(p->def.borrowers);
	for (i = 0; i < p->nprods; i++) {
		free(p->prods[i].rules);
		free(p->prods[i].borrowers);
	}
	free(p->prods);
	free(p);
}

int
policy_load(const char *path, struct policy **out, char *err, size_t errlen)
{
	const char *top[1] = { NULL };
	const char *g[2] = { "groups", NULL }, *a[2] = { "admin", NULL };
	const char *d[2] = { "default", NULL }, *pr[2] = { "products", NULL };
	const char *files[2] = { path, NULL };
	struct load_ctx c;
	struct profscan_problem prob;
	char *text = NULL;
	long prc;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL || out == NULL)
		return XLICEN_E_INVALID;
	memset(&c, 0, sizeof(c));
	c.path = path;
	c.err = err;
	c.errlen = errlen;
	if ((rc = read_text(path, &text, err, errlen)) != 0)
		return rc;
	c.text = text;
	if ((c.p = calloc(1, sizeof(*c.p))) == NULL) {
		rc = XLICEN_E_NOMEM;
		goto out;
	}
	snprintf(c.p->path, sizeof(c.p->path), "%s", path);
	snprintf(c.p->def.name, sizeof(c.p->def.name), "*");
	/* profile_init_path() takes a colon-separated list; one file, read
	 * through profile_init() so a ':' in the name is not a separator. */
	prc = profile_init(files, &c.prof);
	if (prc != 0) {
		/* Out of memory here only costs the message its line. */
		(void)profscan_syntax_error(text, 0, &prob);
		rc = load_fail(&c, (unsigned)prob.line, "%s",
		    error_message(prc));
		goto out;
	}
	/* Groups first: rules and the admin ACL refer to them. */
	if ((rc = each_relation(&c, top, on_section, NULL)) != 0)
		goto out;
	if (has_section(&c, "groups") &&
	    (rc = each_relation(&c, g, on_group, NULL)) != 0)
		goto out;
	if (has_section(&c, "admin") &&
	    ((rc = each_relation(&c, a, on_admin, NULL)) != 0 ||
	    (rc = each_relation(&c, a, on_admin_groups, NULL)) != 0))
		goto out;
	if (has_section(&c, "default") &&
	    (rc = each_relation(&c, d, on_product_key, &c.p->def)) != 0)
		goto out;
	if (has_section(&c, "products") &&
	    (rc = each_relation(&c, pr, on_product, NULL)) != 0)
		goto out;
	*out = c.p;
	c.p = NULL;
	rc = 0;
out:
	if (c.prof != NULL)
		profile_release(c.prof);
	policy_free(c.p);
	free(text);
	return rc;
}
