/*
 * The license policy's decisions (policy.h): who is an administrator, the
 * settings in force for a product, whether a checkout or a borrow is
 * allowed.  policy_load.c reads the file into the structures of
 * policy_int.h; deciding never allocates.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "display.h"
#include "err.h"
#include "log.h"
#include "policy.h"
#include "policy_int.h"
#include "xlicen_errors.h"

int
policy_public_holders(const struct policy *p)
{
	return p != NULL && p->public_holders;
}

const char *
policy_path(const struct policy *p)
{
	return p != NULL ? p->path : "";
}

static int
in_group(const struct policy *p, size_t gi, const char *principal)
{
	const struct group *g = &p->groups[gi];
	size_t i;

	for (i = 0; i < g->n; i++)
		if (strcmp(g->members[i], principal) == 0)
			return 1;
	return 0;
}

int
policy_is_admin(const struct policy *p, const char *principal)
{
	size_t i;

	if (p == NULL || principal == NULL || principal[0] == '\0')
		return 0;
	for (i = 0; i < p->nadmins; i++)
		if (strcmp(p->admins[i], principal) == 0)
			return 1;
	for (i = 0; i < p->nadmin_groups; i++)
		if (in_group(p, p->admin_groups[i], principal))
			return 1;
	return 0;
}

static const struct product *
product_find(const struct policy *p, const char *product)
{
	size_t i;

	for (i = 0; p != NULL && product != NULL && i < p->nprods; i++)
		if (strcmp(p->prods[i].name, product) == 0)
			return &p->prods[i];
	return NULL;
}

void
policy_settings(const struct policy *p, const char *product,
    struct policy_settings *out)
{
	const struct product *pr;

	memset(out, 0, sizeof(*out));
	if (p == NULL)
		return;
	*out = p->def.set;
	if ((pr = product_find(p, product)) == NULL)
		return;
	if (pr->set.dup_set) {
		out->dup_set = 1;
		out->dup = pr->set.dup;
	}
	if (pr->set.linger_s != 0)
		out->linger_s = pr->set.linger_s;
	if (pr->set.ttl_s != 0)
		out->ttl_s = pr->set.ttl_s;
	if (pr->set.heartbeat_s != 0)
		out->heartbeat_s = pr->set.heartbeat_s;
	if (pr->set.queue_timeout_s != 0)
		out->queue_timeout_s = pr->set.queue_timeout_s;
	if (pr->set.borrow_days != 0)
		out->borrow_days = pr->set.borrow_days;
	if (pr->set.borrow_seats_set) {
		out->borrow_seats_set = 1;
		out->borrow_seats = pr->set.borrow_seats;
	}
}

static int target_matches(const struct policy *p, const struct target *t,
    const char *principal, const char *host);

int
policy_may_borrow(const struct policy *p, const char *product,
    const struct policy_ident *id)
{
	const struct product *pr;
	const struct target *t;
	size_t n, i;

	if (p == NULL)
		return 0;
	/* A product's own borrow list replaces [default]'s. */
	pr = product_find(p, product);
	if (pr != NULL && pr->nborrowers > 0) {
		t = pr->borrowers;
		n = pr->nborrowers;
	} else {
		t = p->def.borrowers;
		n = p->def.nborrowers;
	}
	if (n == 0)
		return 1;
	for (i = 0; i < n; i++)
		if (target_matches(p, &t[i], id->principal, id->host))
			return 1;
	return 0;
}

static int
target_matches(const struct policy *p, const struct target *t,
    const char *principal, const char *host)
{
	size_t n, m;

	switch (t->kind) {
	case T_PRINCIPAL:
		return principal != NULL && strcmp(principal, t->name) == 0;
	case T_REALM:
		if (principal == NULL)
			return 0;
		n = strlen(principal);
		m = strlen(t->name);
		return n > m && strcmp(principal + n - m, t->name) == 0;
	case T_GROUP:
		return principal != NULL && in_group(p, t->group, principal);
	case T_HOST:
		return display_host_same(host, t->name);
	}
	return 0;
}

/* Seats held by the identities a target matches. */
static uint64_t
held_by(const struct policy *p, const struct target *t,
    const struct policy_holding *held, size_t nheld)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < nheld; i++)
		if (target_matches(p, t, held[i].principal, held[i].host))
			sum += held[i].count;
	return sum;
}

int
policy_check(const struct policy *p, const char *product,
    const struct policy_ident *id, uint32_t want, uint32_t total,
    uint32_t in_use, const struct policy_holding *held, size_t nheld,
    struct policy_decision *out)
{
	const struct product *pr = NULL;
	const struct rule *rules = NULL, *r;
	uint64_t used, free_seats, mine = 0, others = 0, out_r;
	size_t nrules = 0, i;
	int any_include = 0, included = 0;

	memset(out, 0, sizeof(*out));
	free_seats = total > in_use ? total - in_use : 0;
	if (p != NULL) {
		pr = product_find(p, product);
		/* A product's own rules replace [default]'s. */
		if (pr != NULL && pr->nrules > 0) {
			rules = pr->rules;
			nrules = pr->nrules;
		} else {
			rules = p->def.rules;
			nrules = p->def.nrules;
		}
	}

	/* 1. EXCLUDE: nothing else matters. */
	for (i = 0; i < nrules; i++) {
		r = &rules[i];
		if (r->kind == R_EXCLUDE &&
		    target_matches(p, &r->t, id->principal, id->host)) {
			log_debug("policy: %s for %s: rule %s matched",
			    product, id->principal, r->text);
			out->code = XLICEN_E_EXCLUDED;
			snprintf(out->reason, sizeof(out->reason),
			    "%s is excluded from %s by policy: %s",
			    id->principal, product, r->text);
			return out->code;
		}
	}

	/* Reserved seats still unused, for this identity and for others. */
	for (i = 0; i < nrules; i++) {
		r = &rules[i];
		if (r->kind != R_RESERVE)
			continue;
		used = held_by(p, &r->t, held, nheld);
		out_r = r->n > used ? r->n - used : 0;
		if (target_matches(p, &r->t, id->principal, id->host))
			mine += out_r;
		else
			others += out_r;
	}
	out->reserved_others = (uint32_t)(others < free_seats ? others :
	    free_seats);
	out->avail = (uint32_t)(free_seats > others ? free_seats - others : 0);

	/* 2. RESERVE: seats reserved for this identity are its own, past
	 * any MAX and any INCLUDE list. */
	if (want > 0 && mine >= want) {
		log_debug("policy: %s for %s: %u seat(s) from the %llu "
		    "reserved for it", product, id->principal, want,
		    (unsigned long long)mine);
		out->from_reserve = 1;
		return 0;
	}

	/* 3. MAX: a cap on the seats the matching identities hold together. */
	for (i = 0; i < nrules; i++) {
		r = &rules[i];
		if (r->kind != R_MAX ||
		    !target_matches(p, &r->t, id->principal, id->host))
			continue;
		used = held_by(p, &r->t, held, nheld);
		log_debug("policy: %s for %s: rule %s matched (%llu held, %u "
		    "wanted)", product, id->principal, r->text,
		    (unsigned long long)used, want);
		if (used + want > r->n && (want > 0 || used > r->n)) {
			out->code = XLICEN_E_MAX_REACHED;
			snprintf(out->reason, sizeof(out->reason),
			    "policy limit for %s reached: %s; %llu seat(s) "
			    "held, %u wanted", product, r->text,
			    (unsigned long long)used, want);
			return out->code;
		}
	}

	/* 4. INCLUDE: with any INCLUDE for the product, only those. */
	for (i = 0; i < nrules; i++) {
		r = &rules[i];
		if (r->kind != R_INCLUDE)
			continue;
		any_include = 1;
		if (target_matches(p, &r->t, id->principal, id->host)) {
			log_debug("policy: %s for %s: rule %s matched",
			    product, id->principal, r->text);
			included = 1;
		}
	}
	if (any_include && !included) {
		out->code = XLICEN_E_EXCLUDED;
		snprintf(out->reason, sizeof(out->reason),
		    "%s is not on the include list of %s in the policy",
		    id->principal, product);
		return out->code;
	}
	return 0;
}
