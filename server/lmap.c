/*
 * The lease -> connection map: which open connection holds each lease, so
 * that a removed lease's holder can be told at once and the leases of a
 * connection its client ended become orphans (handlers.c).  A hash of
 * lease ids, and per connection the list of its leases (conn->hconn).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers_int.h"
#include "hash.h"

static size_t
lmap_bucket(const char *id)
{
	return (size_t)(hash_str(id) % LMAP_BUCKETS);
}

struct lnk *
lmap_find(struct handlers_state *hs, const char *id)
{
	struct lnk *l;

	if (hs == NULL)
		return NULL;
	for (l = hs->buckets[lmap_bucket(id)]; l != NULL; l = l->hnext)
		if (strcmp(l->id, id) == 0)
			return l;
	return NULL;
}

static void
lmap_unlink_conn(struct lnk *l)
{
	if (l->cprev != NULL)
		l->cprev->cnext = l->cnext;
	else
		l->c->hconn = l->cnext;
	if (l->cnext != NULL)
		l->cnext->cprev = l->cprev;
	l->cprev = l->cnext = NULL;
}

void
lmap_remove(struct handlers_state *hs, struct lnk *l)
{
	struct lnk **pp = &hs->buckets[lmap_bucket(l->id)];

	while (*pp != NULL && *pp != l)
		pp = &(*pp)->hnext;
	if (*pp == l)
		*pp = l->hnext;
	lmap_unlink_conn(l);
	free(l);
}

/* Remember that c is the connection lease id is used from now. */
void
lmap_bind(struct server *srv, const char *id, struct conn *c)
{
	struct handlers_state *hs = req_state(srv);
	struct lnk *l;
	size_t b;

	if (hs == NULL || id == NULL || id[0] == '\0' || c == NULL)
		return;
	if ((l = lmap_find(hs, id)) != NULL) {
		if (l->c == c)
			return;
		lmap_unlink_conn(l);
	} else {
		if ((l = calloc(1, sizeof(*l))) == NULL)
			return;	/* only a notification is lost */
		snprintf(l->id, sizeof(l->id), "%s", id);
		b = lmap_bucket(l->id);
		l->hnext = hs->buckets[b];
		hs->buckets[b] = l;
	}
	/* c->hconn is the head of the connection's list. */
	l->c = c;
	l->cprev = NULL;
	l->cnext = c->hconn;
	if (l->cnext != NULL)
		l->cnext->cprev = l;
	c->hconn = l;
}

void
lmap_unbind(struct server *srv, const char *id)
{
	struct lnk *l = lmap_find(srv->hs, id);

	if (l != NULL)
		lmap_remove(srv->hs, l);
}
