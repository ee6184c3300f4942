/*
 * Reading the license directory and the policy file: once at start-up,
 * and again on SIGHUP or an admin REREAD, keeping every lease.  The same
 * judgement both times (the vendor key directory, then the policy, then
 * the licenses); a reread that fails leaves what runs as it was.  Offering
 * the seats a reread added to the queue is the caller's step
 * (queue_seats_freed), so that this module calls nothing of the loop
 * or the handlers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "err.h"
#include "licdir.h"
#include "log.h"
#include "policy.h"
#include "server.h"

/* Read the licenses into the store; the summary goes to sum. */
static int
reload_sync_licenses(struct server *srv, char *sum, size_t sumlen)
{
	struct license *lics = NULL;
	size_t n = 0, nbad = 0;
	int rc;

	if ((rc = licdir_load_dir(srv->cfg.licdir, srv->cfg.keydir, &lics,
	    &n, &nbad)) != 0) {
		snprintf(sum, sumlen, "cannot read license directory %s: %s",
		    srv->cfg.licdir, err_str(rc));
		log_msg(LOG_ERR, "%s", sum);
		return rc;
	}
	rc = store_sync_pools(srv->store, lics, n, (int64_t)time(NULL));
	if (rc != 0)
		free(lics);
	else {
		/* Kept for the borrow fields (req_borrow.c). */
		free(srv->lics);
		srv->lics = lics;
		srv->nlics = n;
	}
	if (rc != 0) {
		snprintf(sum, sumlen, "cannot store the licenses: %s",
		    err_str(rc));
		return rc;
	}
	snprintf(sum, sumlen, "loaded %zu license(s) from %s, refused %zu", n,
	    srv->cfg.licdir, nbad);
	srv->lic_loaded = (uint32_t)n;		/* for INFO */
	srv->lic_refused = (uint32_t)nbad;
	log_msg(LOG_INFO, "%s", sum);
	return 0;
}

/* Read the policy file, if one is configured; *out NULL if none. */
static int
reload_read_policy(struct server *srv, struct policy **out, char *err,
    size_t errlen)
{
	const char *path = srv->cfg.policy;
	int rc;

	*out = NULL;
	if (path == NULL)
		return 0;
	if ((rc = policy_load(path, out, err, errlen)) != 0) {
		log_msg(LOG_ERR, "policy %s", err);
		return rc;
	}
	log_msg(LOG_INFO, "policy %s read", path);
	return 0;
}

int
server_load_licenses(struct server *srv)
{
	struct policy *p = NULL;
	char err[512];
	int rc;

	/* The same judgement as server_reload's. */
	if ((rc = licdir_check_keydir(srv->cfg.keydir, err,
	    sizeof(err))) != 0)
		return rc;
	if ((rc = reload_read_policy(srv, &p, err, sizeof(err))) != 0)
		return rc;
	policy_free(srv->policy);
	srv->policy = p;
	return reload_sync_licenses(srv, err, sizeof(err));
}

int
server_reload(struct server *srv, char *err, size_t errlen)
{
	struct policy *p = NULL;
	char sum[256], local[512];
	int rc;

	if (err == NULL || errlen == 0) {
		/* SIGHUP: nobody to tell but the log. */
		err = local;
		errlen = sizeof(local);
	}
	err[0] = '\0';
	/* Judged as at start (server_load_licenses); refused, nothing
	 * changes. */
	if ((rc = licdir_check_keydir(srv->cfg.keydir, err, errlen)) != 0) {
		log_msg(LOG_ERR, "reread refused: the policy and the licenses "
		    "stay as they were");
		return rc;
	}
	/* The policy first: a bad one leaves everything as it was. */
	if ((rc = reload_read_policy(srv, &p, err, errlen)) != 0) {
		log_msg(LOG_ERR, "reread: the policy stays as it was");
		return rc;
	}
	if (srv->cfg.policy != NULL) {
		policy_free(srv->policy);
		srv->policy = p;
	}
	if ((rc = reload_sync_licenses(srv, sum, sizeof(sum))) != 0) {
		if (err != NULL)
			snprintf(err, errlen, "%s", sum);
		return rc;
	}
	if (err != NULL)
		snprintf(err, errlen, "%s%s%s", sum, srv->cfg.policy != NULL ?
		    "; policy reread from " : "", srv->cfg.policy != NULL ?
		    srv->cfg.policy : "");
	srv->next_expiry = store_next_expiry(srv->store);
	return 0;
}
