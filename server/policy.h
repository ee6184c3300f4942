/*
 * The server's license policy: who may take seats of which product, how
 * many seats are held back for or capped for whom, how seats are grouped,
 * and who may administer the server.  Read from an options file in krb5
 * profile syntax (docs/ADMIN.md, "Policy"); pure decisions otherwise: this
 * module never touches SQLite or a socket, the store hands it the seats in
 * use and applies its answer inside its own transaction.
 *
 * Precedence, as in FLEXlm's options file: EXCLUDE > RESERVE > MAX >
 * INCLUDE.  An excluded identity gets nothing, even from a reservation; an
 * identity with reserved seats left takes them even past a MAX and even
 * when an INCLUDE list does not name it; a MAX caps even an included
 * identity; if a product has any INCLUDE, only included identities (and
 * reservation holders) may check it out.
 */
#ifndef XLICEN_POLICY_H
#define XLICEN_POLICY_H

#include <stddef.h>
#include <stdint.h>

#define POLICY_DEFAULT_PATH	"/etc/gss-xlicen/policy.conf"

/* Dup grouping: which checkouts of one product share one seat. */
enum policy_dup {
	POLICY_DUP_UHD = 0,	/* same principal, host and display (default) */
	POLICY_DUP_USER,	/* same principal */
	POLICY_DUP_HOST,	/* same host */
	POLICY_DUP_DISPLAY,	/* same display */
	POLICY_DUP_SITE,	/* everyone: one seat for the site */
	POLICY_DUP_NONE,	/* every checkout is a seat of its own */
};

struct policy;

/*
 * Read the policy file at path.  On success *out is a policy to free with
 * policy_free().  Every problem is refused (no partial policy): a syntax
 * error, an unknown section or key, a rule whose count or target does not
 * parse, a group used but not defined.  err gets one line
 * "FILE:LINE: [section] key = \"value\": what is wrong" (":LINE" when the
 * line can be found).  Returns 0, XLICEN_E_CONFIG or XLICEN_E_NOMEM.
 */
int policy_load(const char *path, struct policy **out, char *err,
    size_t errlen);

/* Free a policy.  Accepts NULL. */
void policy_free(struct policy *p);

/* The file a policy was read from ("" for NULL). */
const char *policy_path(const struct policy *p);

/* Whether principal is on the admin ACL ([admin] principals, or a member
 * of one of [admin] groups).  A NULL policy has no administrators: 0. */
int policy_is_admin(const struct policy *p, const char *principal);

/* Whether [admin] public_holders = true: every authenticated principal
 * may list the holders (HOLDERS), not only the admin ACL.  A NULL policy:
 * 0 (the default, for privacy). */
int policy_public_holders(const struct policy *p);

/* Per-product settings; 0 (or dup_set 0) where the policy says nothing. */
struct policy_settings {
	int dup_set;
	enum policy_dup dup;
	uint32_t linger_s;
	uint32_t ttl_s;
	uint32_t heartbeat_s;
	uint32_t queue_timeout_s;
	/* Borrowing (docs/ADMIN.md, "Borrowing"): the longest period in
	 * days (0: the policy allows no borrowing of the product) and the
	 * most seats of the product out on borrow at once (when set). */
	uint32_t borrow_days;
	int borrow_seats_set;
	uint32_t borrow_seats;
};

/* The settings for product: its own [products] entry, each key falling
 * back to [default].  p may be NULL (all unset).  *out is cleared first. */
void policy_settings(const struct policy *p, const char *product,
    struct policy_settings *out);

struct policy_ident;

/* Whether id may borrow product by the "borrow = TARGET" lists (the
 * product's own, else [default]'s; none: whoever may check it out).
 * Whether borrowing is allowed at all is borrow_days of
 * policy_settings.  A NULL policy: 0.  1 or 0. */
int policy_may_borrow(const struct policy *p, const char *product,
    const struct policy_ident *id);

/* Who asks: the authenticated principal and the host name the client
 * reported.  Host names (here and in policy_holding) are compared by
 * their key (display_host_key in display.h), so any spelling will do. */
struct policy_ident {
	const char *principal;
	const char *host;
};

/* A seat in use of the product, by whom it was taken. */
struct policy_holding {
	const char *principal;
	const char *host;
	uint32_t count;
};

struct policy_decision {
	int code;		/* 0, XLICEN_E_EXCLUDED or XLICEN_E_MAX_REACHED */
	uint32_t avail;		/* counted seats this identity may take now:
				 * free seats less those reserved for others */
	uint32_t reserved_others; /* free seats held back for others */
	int from_reserve;	/* granted from a reservation of its own */
	char reason[512];	/* why, naming the rule and its line */
};

/*
 * Decide whether id may take want more seats of product (want 0: it
 * shares a seat its dup group already holds).  total and in_use are the
 * counted seats of the product's usable pools and how many of them are in
 * use; held lists every seat of the product in use with its owner (MAX
 * and RESERVE count them).  A NULL policy allows everything (avail =
 * total - in_use).  Always fills *out; returns out->code.
 */
int policy_check(const struct policy *p, const char *product,
    const struct policy_ident *id, uint32_t want, uint32_t total,
    uint32_t in_use, const struct policy_holding *held, size_t nheld,
    struct policy_decision *out);

/* policy_dup_parse's answer for a string that names no mode. */
#define POLICY_DUP_UNKNOWN	(-1)

/* The name of a dup mode ("uhd") and back (an enum policy_dup, or
 * POLICY_DUP_UNKNOWN if s is NULL or not a mode).  policy_dup.c. */
const char *policy_dup_name(enum policy_dup d);
int policy_dup_parse(const char *s);

/*
 * The dup-group key of a checkout under mode d: checkouts with equal keys
 * share a seat of a pool.  display is the canonical display, or "" when
 * the client reported none, in which case the process (pid) stands in for
 * the display: without a display, two processes never share.  unique is a
 * string that differs for every checkout (the new lease id), used by
 * POLICY_DUP_NONE.  claimed_host enters the key as its host key
 * (display_host_key), so that one host under two spellings is one group.
 * Writes a NUL-terminated key into out; returns 0 or XLICEN_E_INVALID if
 * it does not fit.
 */
int policy_group_key(enum policy_dup d, const char *principal,
    const char *claimed_host, const char *display, uint32_t pid, const char *unique,
    char *out, size_t outlen);

#endif
