/*
 * The status page (http_page.h): its data gathered by the event loop in
 * an http_jobs.h job, rendered here on the HTTP thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "handlers_int.h"
#include "http_jobs.h"
#include "http_page.h"
#include "limits.h"
#include "log.h"
#include "policy.h"

/* A queued checkout, as the page shows it. */
struct http_page_queued {
	char product[LIMIT_STRING + 1];
	char principal[LIMIT_STRING + 1];
	char host[LIMIT_STRING + 1];
	char qid[QUEUE_ID_LEN + 1];
	uint32_t count, position;
	int64_t since;
};

/* What the loop gathers for one page. */
struct http_page_data {
	const char *principal;		/* "": nobody signed in */
	int admin;			/* on the admin ACL */
	int holders;			/* the holders are shown */
	int64_t now;
	struct store_pool_status *pools;
	size_t npools;
	uint32_t *queued;		/* per pool: its product's queue */
	struct store_holder *sh;
	size_t nsh;
	struct http_page_queued *q;
	size_t nq, qleft;		/* shown; left out */
};

/* The queued checkouts into d->q (at most LIMIT_HTTP_PAGE_ROWS). */
static int
http_page_queue(struct server *srv, struct http_page_data *d)
{
	const struct qentry *e;
	struct http_page_queued *q;
	size_t n = srv->hs != NULL ? srv->hs->qlen : 0;

	if (n == 0)
		return 0;
	if (n > LIMIT_HTTP_PAGE_ROWS)
		n = LIMIT_HTTP_PAGE_ROWS;
	if ((d->q = calloc(n, sizeof(*d->q))) == NULL)
		return XLICEN_E_NOMEM;
	for (e = srv->hs->qhead; e != NULL; e = e->next) {
		if (d->nq == n) {
			d->qleft++;
			continue;
		}
		q = &d->q[d->nq++];
		snprintf(q->product, sizeof(q->product), "%s", e->product);
		snprintf(q->principal, sizeof(q->principal), "%s",
		    e->principal);
		snprintf(q->host, sizeof(q->host), "%s", e->host);
		snprintf(q->qid, sizeof(q->qid), "%s", e->qid);
		q->count = e->count;
		q->since = e->since;
		q->position = queue_position(srv->hs, e);
	}
	return 0;
}

/* Loop: the page's data. */
static void
http_page_collect(struct server *srv, struct http_job *j)
{
	struct http_page_data *d = j->arg;
	size_t i;

	d->now = (int64_t)time(NULL);
	d->admin = d->principal[0] != '\0' &&
	    policy_is_admin(srv->policy, d->principal);
	d->holders = d->admin || (d->principal[0] != '\0' &&
	    policy_public_holders(srv->policy));
	if ((j->rc = store_status(srv->store, NULL, d->now, &d->pools,
	    &d->npools)) != 0)
		return;
	if (d->npools > 0 &&
	    (d->queued = calloc(d->npools, sizeof(*d->queued))) == NULL) {
		j->rc = XLICEN_E_NOMEM;
		return;
	}
	for (i = 0; i < d->npools; i++)
		d->queued[i] = queue_count(srv->hs, d->pools[i].product);
	if (!d->holders)
		return;
	if ((j->rc = store_holders(srv->store, NULL, NULL, d->now, &d->sh,
	    &d->nsh)) != 0)
		return;
	j->rc = http_page_queue(srv, d);
}

static void
http_page_data_free(struct http_page_data *d)
{
	free(d->pools);
	free(d->queued);
	free(d->sh);
	free(d->q);
}

/* s, HTML-escaped (text and attribute values). */
static void
http_page_esc(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f); break;
		}
	}
}

/* A UTC time as "YYYY-MM-DD HH:MM:SSZ" (t 0: none). */
static void
http_page_time(FILE *f, int64_t t, const char *none)
{
	struct tm tm;
	time_t tt = (time_t)t;
	char buf[32];

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%SZ", &tm) == 0) {
		fputs(none, f);
		return;
	}
	fputs(buf, f);
}

static const char *
http_page_state(int state)
{
	switch (state) {
	case STORE_POOL_ACTIVE: return "active";
	case STORE_POOL_EXPIRED: return "expired";
	case STORE_POOL_NOT_YET: return "not yet valid";
	case STORE_POOL_WITHDRAWN: return "withdrawn";
	default: return "unknown";
	}
}

/* What a holders row is, as `xlicen holders` names it (a borrowed lease's
 * seat stays counted until its end, even once cancelled). */
static const char *
http_page_holder_kind(const struct store_holder *h)
{
	if (h->lingering)
		return "lingering";
	if (h->borrow == 1)
		return "borrowed";
	if (h->borrow == 2)
		return "borrowed, cancelled";
	return h->withdrawn ? "lease (withdrawn)" : "lease";
}

static const char http_page_head[] =
"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
"<meta name=\"viewport\" content=\"width=device-width\">\n"
"<title>%s</title>\n<style>\n"
"body{font-family:sans-serif;margin:1.5em;color:#222}\n"
"table{border-collapse:collapse;margin-bottom:1.5em}\n"
"th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left;"
"white-space:nowrap}\n"
"td.lease{font-family:monospace;font-size:.85em}\n"
"th{background:#eee}td.n{text-align:right}\n"
".who{background:#f4f4f4;padding:.4em .6em}\n"
"form{margin:0}\n</style>\n</head>\n<body>\n";

/* The pools, as `xlicen status` shows them. */
static void
http_page_pools(FILE *f, const struct http_page_data *d)
{
	const struct store_pool_status *p;
	size_t i;

	fputs("<h2>Licenses</h2>\n<table id=\"pools\">\n<tr><th>Product"
	    "<th>Versions<th>Vendor<th>Serial<th>In use<th>Seats<th>Queued"
	    "<th>Expires<th>State</tr>\n", f);
	for (i = 0; i < d->npools; i++) {
		p = &d->pools[i];
		fputs("<tr><td>", f);
		http_page_esc(f, p->product);
		fputs("<td>", f);
		http_page_esc(f, p->versions);
		fputs("<td>", f);
		http_page_esc(f, p->vendor);
		fputs("<td>", f);
		http_page_esc(f, p->serial);
		fprintf(f, "<td class=\"n\">%u", p->in_use);
		if (p->state == STORE_POOL_WITHDRAWN)
			fputs("<td class=\"n\">-", f);
		else if (p->uncounted)
			fputs("<td class=\"n\">uncounted", f);
		else
			fprintf(f, "<td class=\"n\">%u", p->total);
		fprintf(f, "<td class=\"n\">%u<td>", d->queued[i]);
		http_page_time(f, p->expires, "permanent");
		fprintf(f, "<td>%s</tr>\n", http_page_state(p->state));
	}
	if (d->npools == 0)
		fputs("<tr><td colspan=\"9\">No licenses are loaded.</tr>\n", f);
	fputs("</table>\n", f);
}

/* A lease's Remove form (admin only). */
static void
http_page_remove_form(FILE *f, const char *lease, const char *csrf)
{
	fputs("<form method=\"post\" action=\"/remove\">"
	    "<input type=\"hidden\" name=\"lease\" value=\"", f);
	http_page_esc(f, lease);
	fprintf(f, "\"><input type=\"hidden\" name=\"csrf\" value=\"%s\">"
	    "<button type=\"submit\">Remove</button></form>", csrf);
}

/* The holders, as `xlicen holders` shows them; Remove for admins. */
static void
http_page_holders(FILE *f, const struct http_page_data *d, const char *csrf)
{
	const struct store_holder *h;
	size_t i, n = d->nsh < LIMIT_HTTP_PAGE_ROWS ? d->nsh :
	    LIMIT_HTTP_PAGE_ROWS;

	fputs("<h2>Holders</h2>\n<table id=\"holders\">\n<tr><th>Product"
	    "<th>Version<th>Principal<th>Host<th>Display<th>Seats<th>Since"
	    "<th>Expires<th>State<th>Lease", f);
	fputs(d->admin ? "<th></tr>\n" : "</tr>\n", f);
	for (i = 0; i < n; i++) {
		h = &d->sh[i];
		fputs("<tr class=\"holder\"><td>", f);
		http_page_esc(f, h->product);
		fputs("<td>", f);
		http_page_esc(f, h->version);
		fputs("<td>", f);
		http_page_esc(f, h->principal);
		fputs("<td>", f);
		http_page_esc(f, h->host);
		fputs("<td>", f);
		http_page_esc(f, h->display);
		fprintf(f, "<td class=\"n\">%u<td>", h->count);
		http_page_time(f, h->since, "-");
		fputs("<td>", f);
		http_page_time(f, h->expires, "-");
		fprintf(f, "<td>%s<td class=\"lease\">", http_page_holder_kind(h));
		http_page_esc(f, h->lease_id);
		if (d->admin) {
			fputs("<td>", f);
			/* A cancelled borrow stays until its end: nothing
			 * more to remove. */
			if (!h->lingering && h->borrow != 2)
				http_page_remove_form(f, h->lease_id, csrf);
		}
		fputs("</tr>\n", f);
	}
	if (d->nsh > n)
		fprintf(f, "<tr><td colspan=\"11\">%zu more not shown "
		    "(xlicen holders lists them all)</tr>\n", d->nsh - n);
	if (d->nsh == 0)
		fputs("<tr><td colspan=\"11\">No seats are held.</tr>\n", f);
	fputs("</table>\n", f);
}

/* The queued checkouts (with the holders). */
static void
http_page_queued(FILE *f, const struct http_page_data *d)
{
	const struct http_page_queued *q;
	size_t i;

	if (d->nq == 0)
		return;
	fputs("<h2>Queued checkouts</h2>\n<table id=\"queue\">\n<tr><th>"
	    "Product<th>Principal<th>Host<th>Seats<th>Position<th>Since"
	    "<th>Queue id</tr>\n", f);
	for (i = 0; i < d->nq; i++) {
		q = &d->q[i];
		fputs("<tr><td>", f);
		http_page_esc(f, q->product);
		fputs("<td>", f);
		http_page_esc(f, q->principal);
		fputs("<td>", f);
		http_page_esc(f, q->host);
		fprintf(f, "<td class=\"n\">%u<td class=\"n\">%u<td>", q->count,
		    q->position);
		http_page_time(f, q->since, "-");
		fprintf(f, "<td>%s</tr>\n", q->qid);
	}
	if (d->qleft > 0)
		fprintf(f, "<tr><td colspan=\"7\">%zu more not shown</tr>\n",
		    d->qleft);
	fputs("</table>\n", f);
}

/* The small refresh: only a browser that runs scripts changes the note
 * and reloads; without them the page stays as it is. */
static const char http_page_script[] =
"<script>\n"
"(function(){var n=document.getElementById('refresh');\n"
"if(n)n.textContent='This page reloads every %d s while it is visible.';\n"
"setInterval(function(){if(!document.hidden)location.reload();},%d);})();\n"
"</script>\n";

static void
http_page_render(FILE *f, const struct http_page_data *d, const char *csrf)
{
	fprintf(f, http_page_head, "gss-xlicend: license status");
	fputs("<h1>License status</h1>\n<p class=\"who\" id=\"who\">", f);
	if (d->principal[0] == '\0') {
		fputs("Not signed in. <a href=\"/admin\">Sign in with "
		    "Kerberos</a> to see the holders (administrators).", f);
	} else {
		fputs("Signed in as <b id=\"principal\">", f);
		http_page_esc(f, d->principal);
		fputs(d->admin ? "</b> (administrator)." :
		    "</b> (not on the admin ACL: no holders, no Remove).", f);
	}
	fputs("</p>\n<p>As of <time id=\"asof\">", f);
	http_page_time(f, d->now, "-");
	fputs("</time>. <span id=\"refresh\">Reload the page to update it."
	    "</span></p>\n", f);
	http_page_pools(f, d);
	if (d->holders) {
		http_page_holders(f, d, csrf);
		http_page_queued(f, d);
	}
	fprintf(f, http_page_script, HTTP_PAGE_REFRESH_S,
	    HTTP_PAGE_REFRESH_S * 1000);
	fputs("</body>\n</html>\n", f);
}

int
http_page_status(const struct http_auth *a, const char *principal,
    char **html, size_t *len)
{
	struct http_page_data d;
	struct http_job j;
	char csrf[HTTP_AUTH_CSRF_LEN + 1] = "";
	FILE *f;
	int rc;

	*html = NULL;
	*len = 0;
	memset(&d, 0, sizeof(d));
	memset(&j, 0, sizeof(j));
	d.principal = principal;
	j.run = http_page_collect;
	j.arg = &d;
	if ((rc = http_jobs_call(&j)) != 0 || (rc = j.rc) != 0)
		goto out;
	if (d.admin && (rc = http_auth_csrf(a, principal, csrf)) != 0)
		goto out;
	if ((f = open_memstream(html, len)) == NULL) {
		rc = XLICEN_E_NOMEM;
		goto out;
	}
	http_page_render(f, &d, csrf);
	if (fclose(f) != 0) {
		free(*html);
		*html = NULL;
		rc = XLICEN_E_NOMEM;
	}
out:
	http_page_data_free(&d);
	return rc;
}

/* What a removal asks of the loop. */
struct http_page_rm {
	const char *principal;
	const char *lease;
};

/* Loop: the admin ACL, the audit, the removal (as req_admin.c). */
static void
http_page_remove_run(struct server *srv, struct http_job *j)
{
	const struct http_page_rm *r = j->arg;
	char detail[LIMIT_STRING + 32];

	snprintf(detail, sizeof(detail), "REMOVE %s (status page)", r->lease);
	if (!policy_is_admin(srv->policy, r->principal)) {
		log_msg(LOG_NOTICE, "http: REMOVE refused to %s", r->principal);
		req_audit(srv, "deny", r->principal, NULL, NULL,
		    XLICEN_E_NOT_AUTHORIZED, detail);
		j->rc = XLICEN_E_NOT_AUTHORIZED;
		return;
	}
	req_audit(srv, "admin", r->principal, NULL, NULL, 0, detail);
	log_msg(LOG_INFO, "http: admin %s by %s", detail, r->principal);
	j->rc = req_admin_remove_lease(srv, r->principal, r->lease, NULL);
}

int
http_page_remove(const char *principal, const char *lease)
{
	struct http_page_rm r = { principal, lease };
	struct http_job j;
	int rc;

	if (lease == NULL || lease[0] == '\0' ||
	    strlen(lease) > LIMIT_LEASE_ID)
		return XLICEN_E_BAD_VALUE;
	memset(&j, 0, sizeof(j));
	j.run = http_page_remove_run;
	j.arg = &r;
	if ((rc = http_jobs_call(&j)) != 0)
		return rc;
	return j.rc;
}

/* Loop: whether j->arg's principal is on the admin ACL. */
static void
http_page_admin_run(struct server *srv, struct http_job *j)
{
	j->rc = policy_is_admin(srv->policy, j->arg);
}

int
http_page_is_admin(const char *principal)
{
	struct http_job j;
	int rc;

	memset(&j, 0, sizeof(j));
	j.run = http_page_admin_run;
	j.arg = (void *)principal;
	if ((rc = http_jobs_call(&j)) != 0)
		return rc;
	return j.rc;
}

const char http_page_signin_text[] =
"<p>This page needs a Kerberos sign-on (HTTP Negotiate), and your browser "
"sent no ticket the server could accept.</p>\n"
"<ol>\n<li>Get a ticket: <code>kinit</code> (then <code>klist</code> "
"shows it).</li>\n"
"<li>Let the browser use it for this server. Firefox: in "
"<code>about:config</code> add the server's name to "
"<code>network.negotiate-auth.trusted-uris</code>. Chromium and Chrome: "
"the <code>AuthServerAllowlist</code> policy, or start it with "
"<code>--auth-server-allowlist=HOST</code>.</li>\n"
"<li>Reload this page.</li>\n</ol>\n"
"<p>From a shell: <code>curl --negotiate -u : URL</code>.</p>\n";

int
http_page_message(const char *title, const char *text, char **html,
    size_t *len)
{
	FILE *f;

	*html = NULL;
	if ((f = open_memstream(html, len)) == NULL)
		return XLICEN_E_NOMEM;
	fprintf(f, http_page_head, title);
	fprintf(f, "<h1>%s</h1>\n%s</body>\n</html>\n", title, text);
	if (fclose(f) != 0) {
		free(*html);
		*html = NULL;
		return XLICEN_E_NOMEM;
	}
	return 0;
}
