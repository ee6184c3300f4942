/*
 * xlicen-xmon: a seat monitor for administrators, in the manner of xload:
 * one bar per product showing the seats in use out of the total, with a
 * strip of its recent history, refreshed every few seconds; below, who
 * holds the seats (the admin HOLDERS request), and a Remove button that
 * takes the selected holder's lease away once a dialog has asked "Remove
 * the lease of PRINCIPAL?".  A product with no pool within its dates
 * shows why instead of its count: "expired YYYY-MM-DD" (the last valid
 * day), "not yet valid" or "withdrawn".  For a principal that is not
 * on the server's admin ACL (the server answers NOT_AUTHORIZED) the list
 * shows the license pools instead and Remove is hidden.  Xt and Athena;
 * the bars are a Core widget drawn with Xlib.
 *
 *   xlicen-xmon [Xt options] [-server LIST] [-interval SECONDS]
 *               [-product P]
 *
 * The options are also X resources (server, interval, product; the class
 * is XlicenXmon).  A refresh is a STATUS and a HOLDERS request on a
 * kept-open connection, blocking calls bounded by a short timeout (an
 * unreachable server shows as an error line, and the next refresh tries
 * again).  For tests, the window carries the property _XLICEN_XMON
 * ("product=IN_USE/TOTAL ... admin=yes|no holders=N", or "error=NAME";
 * a product not in force is "product=expired:YYYY-MM-DD", "=not-yet" or
 * "=withdrawn"), and the list, the Remove button and the confirmation's
 * two buttons _XLICEN_WIDGET ("holders", "remove", "confirm", "cancel")
 * so that a test can click them without a window manager.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <X11/Intrinsic.h>
#include <X11/StringDefs.h>
#include <X11/Shell.h>
#include <X11/Xatom.h>
#include <X11/Xaw/Command.h>
#include <X11/Xaw/Dialog.h>
#include <X11/Xaw/Form.h>
#include <X11/Xaw/Label.h>
#include <X11/Xaw/List.h>
#include <X11/Xaw/Viewport.h>

#include "xlicen.h"

#define APP_CLASS	"XlicenXmon"
/* A refresh waits at most this long for the server. */
#define REFRESH_TIMEOUT_MS	2000
#define MAX_PRODUCTS	32
#define HISTORY		50	/* samples kept per product */
#define ROW_H		28
#define BARS_W		640
#define NAME_W		150
#define BAR_X		(NAME_W + 6)
#define BAR_W		230
#define COUNT_X		(BAR_X + BAR_W + 10)
#define HIST_X		(COUNT_X + 80)
#define HIST_W		(BARS_W - HIST_X - 10)
#define NCOLOURS	7

struct options {
	String server;
	int interval;
	String product;
};

static XtResource resources[] = {
	{ "server", "Server", XtRString, sizeof(String),
	    XtOffsetOf(struct options, server), XtRString, NULL },
	{ "interval", "Interval", XtRInt, sizeof(int),
	    XtOffsetOf(struct options, interval), XtRImmediate, (XtPointer)5 },
	{ "product", "Product", XtRString, sizeof(String),
	    XtOffsetOf(struct options, product), XtRString, NULL },
};

static XrmOptionDescRec option_table[] = {
	{ "-server", "*server", XrmoptionSepArg, NULL },
	{ "-interval", "*interval", XrmoptionSepArg, NULL },
	{ "-product", "*product", XrmoptionSepArg, NULL },
};

/* The app-defaults file client/x11/app-defaults/XlicenXmon, made into strings
 * by fallback.cmake: Xt uses them only where it finds no such file. */
static String fallback_resources[] = {
#include "XlicenXmon.fallback.h"
	NULL,
};

/* One product's bar: the sum over its pools. */
struct product {
	char name[XLICEN_STRING_MAX + 1];
	unsigned in_use, total;
	int active;			/* some pool is within its dates */
	int expired, not_yet;		/* none is; some pool ended / to start */
	int64_t ended;			/* latest exclusive end of the expired */
	unsigned char hist[HISTORY];	/* percent in use, oldest first */
	int nhist;
	int seen;			/* in the latest answer */
};

struct app {
	XtAppContext ctx;
	Widget top, form, heading, bars, list, view, status, listlabel;
	Widget remove;
	Widget confirm, dialog;		/* "Remove the lease of ...?" */
	int rows;			/* rows the bars widget has room for */
	int admin;			/* -1 unknown, 0 no (pools listed), 1 yes */
	struct xlicen_holder *holders;	/* what the list shows, if admin */
	size_t nholders;
	char selected[XLICEN_STRING_MAX + 1];	/* id of the selected holder */
	xlicen_session *s;
	struct options opt;
	struct product prod[MAX_PRODUCTS];
	int nprod;
	String *items;			/* the list's lines (the list keeps them) */
	int nitems;
	GC gc;
	XFontStruct *font;
	unsigned long colour[NCOLOURS];
	Atom prop_atom, wm_delete;
	XtIntervalId timer;
};

static struct app A;

static void tag_widget(Widget w, const char *name);

enum { C_OK, C_BUSY, C_FULL, C_TRACK, C_EDGE, C_TEXT, C_GRID };

static void
set_label(Widget w, const char *text)
{
	XtVaSetValues(w, XtNlabel, text, NULL);
}

static struct product *
product_get(const char *name)
{
	int i;

	for (i = 0; i < A.nprod; i++)
		if (strcmp(A.prod[i].name, name) == 0)
			return &A.prod[i];
	if (A.nprod == MAX_PRODUCTS)
		return NULL;
	memset(&A.prod[A.nprod], 0, sizeof(A.prod[A.nprod]));
	snprintf(A.prod[A.nprod].name, sizeof(A.prod[A.nprod].name), "%s", name);
	return &A.prod[A.nprod++];
}

static unsigned long
fill_colour(unsigned in_use, unsigned total)
{
	if (total > 0 && in_use >= total)
		return A.colour[C_FULL];
	if (total > 0 && in_use * 5 >= total * 4)
		return A.colour[C_BUSY];
	return A.colour[C_OK];
}

/* What a product's count says: "IN_USE<sep>TOTAL" in force, else why
 * not: "expired<sp>YYYY-MM-DD" (its last valid day), "not<sp>yet valid",
 * "withdrawn" (sp joins the words: " " for the window, "-"/":" for the
 * test property, see publish). */
static void
product_count(const struct product *p, char *out, size_t outlen,
    const char *sep, const char *sp)
{
	time_t last = (time_t)(p->ended - 1);
	struct tm tm;
	char day[16];

	if (p->active)
		snprintf(out, outlen, "%u%s%u", p->in_use, sep, p->total);
	else if (p->expired) {
		if (gmtime_r(&last, &tm) == NULL ||
		    strftime(day, sizeof(day), "%Y-%m-%d", &tm) == 0)
			snprintf(day, sizeof(day), "?");
		snprintf(out, outlen, "expired%s%s", strcmp(sp, " ") == 0 ?
		    " " : ":", day);
	} else if (p->not_yet)
		snprintf(out, outlen, "not%syet%s", sp, strcmp(sp, " ") == 0 ?
		    " valid" : "");
	else
		snprintf(out, outlen, "withdrawn");
}

static void
draw_text(Display *dpy, Window win, int x, int y, const char *s)
{
	XSetForeground(dpy, A.gc, A.colour[C_TEXT]);
	XDrawString(dpy, win, A.gc, x, y, s, (int)strlen(s));
}

static void
draw_bars(void)
{
	Display *dpy = XtDisplay(A.bars);
	Window win = XtWindow(A.bars);
	const struct product *p;
	char text[64];
	int i, k, y, w, h, base;

	if (win == None)
		return;
	XClearWindow(dpy, win);
	if (A.nprod == 0) {
		draw_text(dpy, win, 10, ROW_H / 2 + 4, "No license pools.");
		return;
	}
	for (i = 0; i < A.nprod; i++) {
		p = &A.prod[i];
		y = i * ROW_H;
		base = y + ROW_H / 2 + 4;
		snprintf(text, sizeof(text), "%.22s", p->name);
		draw_text(dpy, win, 10, base, text);
		/* The bar: seats in use out of the total. */
		XSetForeground(dpy, A.gc, A.colour[C_TRACK]);
		XFillRectangle(dpy, win, A.gc, BAR_X, y + 6, BAR_W, ROW_H - 12);
		if (p->total > 0 && p->in_use > 0) {
			w = (int)((unsigned long)BAR_W *
			    (p->in_use < p->total ? p->in_use : p->total) / p->total);
			XSetForeground(dpy, A.gc, fill_colour(p->in_use, p->total));
			XFillRectangle(dpy, win, A.gc, BAR_X, y + 6, (unsigned)w,
			    ROW_H - 12);
		}
		XSetForeground(dpy, A.gc, A.colour[C_EDGE]);
		XDrawRectangle(dpy, win, A.gc, BAR_X, y + 6, BAR_W - 1, ROW_H - 13);
		product_count(p, text, sizeof(text), " / ", " ");
		draw_text(dpy, win, COUNT_X, base, text);
		/* A product not in force has no history worth a strip. */
		if (!p->active)
			continue;
		/* The strip: recent history, one column per refresh. */
		XSetForeground(dpy, A.gc, A.colour[C_GRID]);
		XDrawLine(dpy, win, A.gc, HIST_X, y + ROW_H - 5, HIST_X + HIST_W,
		    y + ROW_H - 5);
		for (k = 0; k < p->nhist; k++) {
			h = p->hist[k] * (ROW_H - 10) / 100;
			if (h == 0)
				continue;
			XSetForeground(dpy, A.gc, p->hist[k] >= 100 ?
			    A.colour[C_FULL] : A.colour[C_OK]);
			XFillRectangle(dpy, win, A.gc,
			    HIST_X + HIST_W - (p->nhist - k) * HIST_W / HISTORY,
			    y + ROW_H - 5 - h, (unsigned)(HIST_W / HISTORY), (unsigned)h);
		}
		if (i > 0) {
			XSetForeground(dpy, A.gc, A.colour[C_GRID]);
			XDrawLine(dpy, win, A.gc, 4, y, BARS_W - 4, y);
		}
	}
}

static void
bars_expose(Widget w, XtPointer cd, XEvent *ev, Boolean *cont)
{
	(void)w;
	(void)cd;
	(void)cont;
	if (ev->type == Expose && ev->xexpose.count == 0)
		draw_bars();
}

/* The test hook and the icon name: what the bars say, as text. */
static void
publish(const char *error)
{
	char v[1200], icon[64], count[40];
	unsigned in_use = 0, total = 0;
	size_t used = 0;
	int i;

	v[0] = '\0';
	if (error != NULL)
		snprintf(v, sizeof(v), "error=%s", error);
	for (i = 0; error == NULL && i < A.nprod; i++) {
		product_count(&A.prod[i], count, sizeof(count), "/", "-");
		used += (size_t)snprintf(v + used, sizeof(v) - used, "%s%s=%s",
		    i > 0 ? " " : "", A.prod[i].name, count);
		if (used >= sizeof(v))
			break;
		in_use += A.prod[i].in_use;
		total += A.prod[i].total;
	}
	if (error == NULL && used < sizeof(v))
		snprintf(v + used, sizeof(v) - used, "%sadmin=%s holders=%zu",
		    used > 0 ? " " : "", A.admin == 1 ? "yes" : "no",
		    A.admin == 1 ? A.nholders : (size_t)0);
	XChangeProperty(XtDisplay(A.top), XtWindow(A.top), A.prop_atom, XA_STRING,
	    8, PropModeReplace, (unsigned char *)v, (int)strlen(v));
	if (error != NULL)
		snprintf(icon, sizeof(icon), "xmon: %s", error);
	else
		snprintf(icon, sizeof(icon), "xmon %u/%u", in_use, total);
	XtVaSetValues(A.top, XtNiconName, icon, NULL);
}

static const char *
pool_state(int state)
{
	switch (state) {
	case XLICEN_POOL_ACTIVE:
		return "active";
	case XLICEN_POOL_EXPIRED:
		return "expired";
	case XLICEN_POOL_NOT_YET:
		return "not yet";
	case XLICEN_POOL_WITHDRAWN:
		return "withdrawn";
	default:
		return "?";
	}
}

static void
fmt_date(int64_t t, char *out, size_t outlen)
{
	time_t tt = (time_t)(t - 1);	/* the last valid second's day */
	struct tm tm;

	if (t == 0) {
		snprintf(out, outlen, "permanent");
		return;
	}
	if (gmtime_r(&tt, &tm) == NULL || strftime(out, outlen,
	    "until %Y-%m-%d", &tm) == 0)
		snprintf(out, outlen, "until %lld", (long long)t);
}

/* Replace the list's lines (the List widget keeps the pointers). */
static void
set_items(String *items, int n)
{
	String *old = A.items;
	int i, oldn = A.nitems;

	A.items = items;
	A.nitems = n;
	XawListChange(A.list, (const char **)items, n, 0, True);
	for (i = 0; i < oldn; i++)
		XtFree(old[i]);
	XtFree((char *)old);
}

static void
show_pools(const struct xlicen_pool *v, size_t n)
{
	String *items;
	char line[400], until[40];
	size_t i;

	items = (String *)XtMalloc((Cardinal)((n > 0 ? n : 1) * sizeof(String)));
	for (i = 0; i < n; i++) {
		fmt_date(v[i].expires, until, sizeof(until));
		snprintf(line, sizeof(line), "%-12.12s %-13.13s %4u/%-4u %-7s "
		    "%-16s %.20s %.24s", v[i].product, v[i].versions,
		    v[i].in_use, v[i].total, pool_state(v[i].state), until,
		    v[i].vendor, v[i].serial);
		items[i] = XtNewString(line);
	}
	if (n == 0)
		items[0] = XtNewString("(no pools)");
	set_items(items, n > 0 ? (int)n : 1);
}

/*
 * The Form passes a child's new height up to the shell but does not
 * always ask for the whole of its own new height: once its layout has
 * settled, make it reach down to the last widget, plus its margin.
 */
static void
fit_window(XtPointer cd, XtIntervalId *id)
{
	Position y = 0;
	Dimension h = 0, bw = 0, fh = 0;
	int dist = 0, want;

	(void)cd;
	(void)id;
	XtVaGetValues(A.status, XtNy, &y, XtNheight, &h, XtNborderWidth, &bw,
	    NULL);
	XtVaGetValues(A.form, XtNdefaultDistance, &dist, XtNheight, &fh, NULL);
	want = y + h + 2 * bw + dist;
	if (want != fh)
		XtVaSetValues(A.form, XtNheight, (Dimension)want, NULL);
}

/* One bar per product: grow or shrink the bars, and the window with them. */
static void
set_rows(int rows)
{
	A.rows = rows;
	XtVaSetValues(A.bars, XtNheight, (Dimension)(rows * ROW_H), NULL);
	XtAppAddTimeOut(A.ctx, 0, fit_window, NULL);
}

static const char *
hm(int64_t t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outlen, "%H:%M", &tm) == 0)
		snprintf(out, outlen, "-");
	return out;
}

/* The holders, one line each; the selection follows its lease id. */
static void
show_holders(void)
{
	const struct xlicen_holder *h;
	String *items;
	char line[600], since[16], what[48], where[XLICEN_STRING_MAX + 1];
	size_t i, n = A.nholders;
	int sel = -1;

	items = (String *)XtMalloc((Cardinal)((n > 0 ? n : 1) * sizeof(String)));
	for (i = 0; i < n; i++) {
		h = &A.holders[i];
		if (h->state == XLICEN_HOLDER_QUEUED)
			snprintf(what, sizeof(what), "queue #%u", h->position);
		else if (h->state == XLICEN_HOLDER_LINGER)
			snprintf(what, sizeof(what), "linger");
		else if (h->state == XLICEN_HOLDER_BORROWED)
			snprintf(what, sizeof(what), "borrowed");
		else if (h->state == XLICEN_HOLDER_CANCELLED)
			snprintf(what, sizeof(what), "cancelled");
		else
			snprintf(what, sizeof(what), "%u seat%s", h->count,
			    h->count == 1 ? "" : "s");
		snprintf(where, sizeof(where), "%s", h->display[0] ? h->display :
		    h->host);
		snprintf(line, sizeof(line), "%-20.20s %-8.8s %-13.13s %-8s "
		    "%5s  %-7s %.8s", h->principal, h->product, where, what,
		    hm(h->since, since, sizeof(since)),
		    h->connected ? "online" : "offline", h->id);
		items[i] = XtNewString(line);
		if (A.selected[0] != '\0' && strcmp(h->id, A.selected) == 0)
			sel = (int)i;
	}
	if (n == 0)
		items[0] = XtNewString("(nobody holds a seat)");
	set_items(items, n > 0 ? (int)n : 1);
	if (sel >= 0)
		XawListHighlight(A.list, sel);
	else
		A.selected[0] = '\0';
	XtSetSensitive(A.remove, sel >= 0 &&
	    A.holders[sel].state == XLICEN_HOLDER_LEASE);
}

/* Holders by principal, product, then age: a stable order across
 * refreshes, so that a selection does not jump about. */
static int
holder_cmp(const void *a, const void *b)
{
	const struct xlicen_holder *x = a, *y = b;
	int c;

	if ((c = strcmp(x->principal, y->principal)) != 0)
		return c;
	if ((c = strcmp(x->product, y->product)) != 0)
		return c;
	return x->since < y->since ? -1 : x->since > y->since;
}

/*
 * The holders, if we may see them.  NOT_AUTHORIZED settles it: the list
 * shows the pools, and Remove goes away.  Returns 0 or the error.
 */
static int
fetch_holders(void)
{
	struct xlicen_holder *h = NULL;
	size_t n = 0;
	int rc;

	if (A.admin == 0)
		return 0;
	rc = xlicen_holders(A.s, A.opt.product, &h, &n, NULL);
	if (rc == XLICEN_E_NOT_AUTHORIZED) {
		A.admin = 0;
		XtUnmanageChild(A.remove);
		set_label(A.listlabel, "License pools (seat holders are shown "
		    "to administrators only):");
		XtAppAddTimeOut(A.ctx, 0, fit_window, NULL);
		return 0;
	}
	if (rc != 0)
		return rc;
	if (A.admin != 1) {
		A.admin = 1;
		set_label(A.listlabel, "Seat holders (select one to remove its "
		    "lease):");
	}
	if (n > 1)
		qsort(h, n, sizeof(*h), holder_cmp);
	xlicen_holders_free(A.holders);
	A.holders = h;
	A.nholders = n;
	return 0;
}

static void
refresh(void)
{
	struct xlicen_pool *v = NULL;
	struct product *p;
	char line[600], when[32];
	time_t now = time(NULL);
	struct tm tm;
	size_t n = 0, i;
	int rc, k, rows;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(when, sizeof(when), "%H:%M:%S UTC", &tm) == 0)
		when[0] = '\0';
	rc = xlicen_status(A.s, A.opt.product, &v, &n);
	if (rc == 0)
		rc = fetch_holders();
	if (rc != 0) {
		snprintf(line, sizeof(line), "%s: %s (retrying every %d s)", when,
		    xlicen_errmsg(A.s), A.opt.interval);
		set_label(A.status, line);
		publish(xlicen_errname(rc));
		return;
	}
	for (k = 0; k < A.nprod; k++) {
		A.prod[k].seen = 0;
		A.prod[k].in_use = A.prod[k].total = 0;
		A.prod[k].active = A.prod[k].expired = A.prod[k].not_yet = 0;
		A.prod[k].ended = 0;
	}
	for (i = 0; i < n; i++) {
		if ((p = product_get(v[i].product)) == NULL)
			continue;
		p->seen = 1;
		if (v[i].state == XLICEN_POOL_ACTIVE) {
			p->in_use += v[i].in_use;
			p->total += v[i].total;
			p->active = 1;
		} else if (v[i].state == XLICEN_POOL_EXPIRED) {
			p->expired = 1;
			if (v[i].expires > p->ended)
				p->ended = v[i].expires;
		} else if (v[i].state == XLICEN_POOL_NOT_YET) {
			p->not_yet = 1;
		}
	}
	/* Products gone from the server go from the window. */
	for (k = 0; k < A.nprod; k++) {
		if (!A.prod[k].seen) {
			memmove(&A.prod[k], &A.prod[k + 1],
			    (size_t)(A.nprod - k - 1) * sizeof(A.prod[0]));
			A.nprod--;
			k--;
			continue;
		}
		p = &A.prod[k];
		if (p->nhist == HISTORY) {
			memmove(p->hist, p->hist + 1, HISTORY - 1);
			p->nhist--;
		}
		p->hist[p->nhist++] = (unsigned char)(p->total > 0 ?
		    (p->in_use >= p->total ? 100 : p->in_use * 100 / p->total) : 0);
	}
	rows = A.nprod > 0 ? A.nprod : 1;
	if (rows != A.rows)
		set_rows(rows);
	if (A.admin == 1)
		show_holders();
	else
		show_pools(v, n);
	xlicen_pools_free(v);
	snprintf(line, sizeof(line), "Updated %s; every %d s.", when,
	    A.opt.interval);
	set_label(A.status, line);
	publish(NULL);
	draw_bars();
}

static void
tick(XtPointer cd, XtIntervalId *id)
{
	(void)cd;
	(void)id;
	refresh();
	A.timer = XtAppAddTimeOut(A.ctx, (unsigned long)A.opt.interval * 1000,
	    tick, NULL);
}

static void
refresh_cb(Widget w, XtPointer cd, XtPointer call)
{
	(void)w;
	(void)cd;
	(void)call;
	refresh();
}

static void
select_cb(Widget w, XtPointer cd, XtPointer call)
{
	XawListReturnStruct *r = call;

	(void)w;
	(void)cd;
	if (A.admin != 1 || r == NULL || r->list_index < 0 ||
	    (size_t)r->list_index >= A.nholders)
		return;
	snprintf(A.selected, sizeof(A.selected), "%s",
	    A.holders[r->list_index].id);
	XtSetSensitive(A.remove,
	    A.holders[r->list_index].state == XLICEN_HOLDER_LEASE);
}

/* The selected holder's principal and product into who and what. */
static void
selected_holder(char *who, size_t wholen, char *what, size_t whatlen)
{
	size_t i;

	who[0] = what[0] = '\0';
	for (i = 0; i < A.nholders; i++)
		if (strcmp(A.holders[i].id, A.selected) == 0) {
			snprintf(who, wholen, "%s", A.holders[i].principal);
			snprintf(what, whatlen, "%s", A.holders[i].product);
		}
}

static void
confirm_close(void)
{
	XtPopdown(A.confirm);
	XtSetSensitive(A.remove, A.selected[0] != '\0');
}

static void
cancel_cb(Widget w, XtPointer cd, XtPointer call)
{
	(void)w;
	(void)cd;
	(void)call;
	confirm_close();
	set_label(A.status, "Nothing removed.");
}

/*
 * Remove asks first: a lease taken away ends someone's work, and the
 * list may have moved under the pointer since the selection.  The
 * dialog is made once and asked again with each selection.
 */
static void
remove_cb(Widget w, XtPointer cd, XtPointer call)
{
	char question[XLICEN_STRING_MAX * 2 + 80];
	char who[XLICEN_STRING_MAX + 1], what[XLICEN_STRING_MAX + 1];

	(void)w;
	(void)cd;
	(void)call;
	if (A.selected[0] == '\0')
		return;
	selected_holder(who, sizeof(who), what, sizeof(what));
	snprintf(question, sizeof(question), "Remove the lease of %s (%s)?\n"
	    "Their program loses its seat at once.", who, what);
	XtVaSetValues(A.dialog, XtNlabel, question, NULL);
	XtSetSensitive(A.remove, False);
	XtPopup(A.confirm, XtGrabExclusive);
	tag_widget(XtNameToWidget(A.dialog, "confirm"), "confirm");
	tag_widget(XtNameToWidget(A.dialog, "cancel"), "cancel");
}

static void
confirm_cb(Widget w, XtPointer cd, XtPointer call)
{
	char line[700], who[XLICEN_STRING_MAX + 1], what[XLICEN_STRING_MAX + 1];
	int rc;

	(void)w;
	(void)cd;
	(void)call;
	confirm_close();
	if (A.selected[0] == '\0')
		return;
	selected_holder(who, sizeof(who), what, sizeof(what));
	rc = xlicen_remove(A.s, A.selected);
	if (rc == XLICEN_E_NOT_AUTHORIZED) {
		A.admin = 0;
		XtUnmanageChild(A.remove);
		XtAppAddTimeOut(A.ctx, 0, fit_window, NULL);
	}
	A.selected[0] = '\0';
	refresh();
	if (rc == 0)
		snprintf(line, sizeof(line), "Removed the lease of %s.", who);
	else
		snprintf(line, sizeof(line), "Remove: %s", xlicen_errmsg(A.s));
	set_label(A.status, line);
}

/* The Form stretches its children when it is resized (edges default to
 * "rubber"): pin them to the top left, so that fit_window's resize only
 * adds room below. */
static void
pin_children(Widget form)
{
	WidgetList kids = NULL;
	Cardinal n = 0, i;

	XtVaGetValues(form, XtNchildren, &kids, XtNnumChildren, &n, NULL);
	for (i = 0; i < n; i++)
		XtVaSetValues(kids[i], XtNtop, XawChainTop, XtNbottom, XawChainTop,
		    XtNleft, XawChainLeft, XtNright, XawChainLeft, NULL);
}

/* Name a widget's window for the tests' clicks (no window manager). */
static void
tag_widget(Widget w, const char *name)
{
	Atom a = XInternAtom(XtDisplay(w), "_XLICEN_WIDGET", False);

	XChangeProperty(XtDisplay(w), XtWindow(w), a, XA_STRING, 8,
	    PropModeReplace, (const unsigned char *)name, (int)strlen(name));
}

static void
quit_cb(Widget w, XtPointer cd, XtPointer call)
{
	(void)w;
	(void)cd;
	(void)call;
	XtAppSetExitFlag(A.ctx);
}

static void
quit_action(Widget w, XEvent *ev, String *params, Cardinal *n)
{
	(void)w;
	(void)params;
	(void)n;
	if (ev->type == ClientMessage &&
	    (Atom)ev->xclient.data.l[0] != A.wm_delete)
		return;
	XtAppSetExitFlag(A.ctx);
}

static XtActionsRec actions[] = {
	{ "xmon-quit", quit_action },
};

static void
alloc_colours(Display *dpy)
{
	static const char *const names[NCOLOURS] = { "#27ae60", "#e67e22",
	    "#c0392b", "#e4e4e4", "#606060", "#202020", "#c8c8c8" };
	Colormap cmap = DefaultColormap(dpy, DefaultScreen(dpy));
	XColor c, exact;
	int i;

	for (i = 0; i < NCOLOURS; i++) {
		A.colour[i] = BlackPixel(dpy, DefaultScreen(dpy));
		if (XAllocNamedColor(dpy, cmap, names[i], &c, &exact))
			A.colour[i] = c.pixel;
	}
}

static Widget
make_button(const char *name, Widget parent, Widget above, Widget left,
    XtCallbackProc cb)
{
	Widget b = XtVaCreateManagedWidget(name, commandWidgetClass, parent,
	    XtNfromVert, above, XtNfromHoriz, left, NULL);

	XtAddCallback(b, XtNcallback, cb, NULL);
	return b;
}

int
main(int argc, char **argv)
{
	Widget form, refreshb, quitb;
	Display *dpy;
	char text[400];
	int rc;

	A.top = XtOpenApplication(&A.ctx, APP_CLASS, option_table,
	    XtNumber(option_table), &argc, argv, fallback_resources,
	    applicationShellWidgetClass, NULL, 0);
	if (argc > 1) {
		fprintf(stderr, "xlicen-xmon: unknown option %s\nusage: xlicen-xmon "
		    "[Xt options] [-server LIST] [-interval SECONDS] "
		    "[-product P]\n", argv[1]);
		return 1;
	}
	XtGetApplicationResources(A.top, &A.opt, resources, XtNumber(resources),
	    NULL, 0);
	if (A.opt.interval < 1)
		A.opt.interval = 1;
	dpy = XtDisplay(A.top);
	if ((rc = xlicen_session_new(&A.s, A.opt.server)) != 0) {
		fprintf(stderr, "xlicen-xmon: server list \"%s\": %s\n",
		    A.opt.server != NULL ? A.opt.server : "", xlicen_strerror(rc));
		return 1;
	}
	xlicen_set_timeout_ms(A.s, REFRESH_TIMEOUT_MS);

	XtVaSetValues(A.top, XtNtitle, "xlicen-xmon", XtNiconName, "xmon",
	    XtNallowShellResize, True, NULL);
	XtAppAddActions(A.ctx, actions, XtNumber(actions));
	XtOverrideTranslations(A.top,
	    XtParseTranslationTable("<Message>WM_PROTOCOLS: xmon-quit()"));
	form = A.form = XtVaCreateManagedWidget("form", formWidgetClass, A.top,
	    NULL);
	snprintf(text, sizeof(text), "License seats%s%s on %s",
	    A.opt.product != NULL ? " of " : "",
	    A.opt.product != NULL ? A.opt.product : "",
	    A.opt.server != NULL ? A.opt.server : "the default servers");
	A.heading = XtVaCreateManagedWidget("heading", labelWidgetClass, form,
	    XtNlabel, text, XtNwidth, BARS_W, XtNresize, False, NULL);
	A.bars = XtVaCreateManagedWidget("bars", coreWidgetClass, form,
	    XtNfromVert, A.heading, XtNwidth, BARS_W, XtNheight, ROW_H,
	    XtNresizable, True, NULL);
	XtAddEventHandler(A.bars, ExposureMask, False, bars_expose, NULL);
	A.rows = 1;
	A.listlabel = XtVaCreateManagedWidget("poolsLabel", labelWidgetClass,
	    form, XtNfromVert, A.bars, XtNlabel, "Seat holders:", XtNwidth,
	    BARS_W, XtNresize, False, NULL);
	A.view = XtVaCreateManagedWidget("view", viewportWidgetClass, form,
	    XtNfromVert, A.listlabel, XtNwidth, BARS_W, XtNheight, 72,
	    XtNallowVert, True, XtNforceBars, False, NULL);
	A.list = XtVaCreateManagedWidget("list", listWidgetClass, A.view,
	    XtNwidth, BARS_W - 4, NULL);
	XtAddCallback(A.list, XtNcallback, select_cb, NULL);
	quitb = make_button("Quit", form, A.view, NULL, quit_cb);
	refreshb = make_button("Refresh", form, A.view, quitb, refresh_cb);
	A.remove = make_button("Remove", form, A.view, refreshb, remove_cb);
	XtSetSensitive(A.remove, False);
	A.confirm = XtVaCreatePopupShell("confirmShell",
	    transientShellWidgetClass, A.top, XtNtitle, "xlicen-xmon: remove?",
	    NULL);
	A.dialog = XtVaCreateManagedWidget("confirmDialog", dialogWidgetClass,
	    A.confirm, XtNlabel, "Remove the lease?", NULL);
	XawDialogAddButton(A.dialog, "confirm", confirm_cb, NULL);
	XawDialogAddButton(A.dialog, "cancel", cancel_cb, NULL);
	A.status = XtVaCreateManagedWidget("status", labelWidgetClass, form,
	    XtNfromVert, refreshb, XtNlabel, "Connecting...", XtNwidth, BARS_W,
	    XtNresize, False, NULL);

	pin_children(form);
	XtRealizeWidget(A.top);
	A.gc = XCreateGC(dpy, XtWindow(A.bars), 0, NULL);
	XtVaGetValues(A.status, XtNfont, &A.font, NULL);
	if (A.font != NULL)
		XSetFont(dpy, A.gc, A.font->fid);
	alloc_colours(dpy);
	A.prop_atom = XInternAtom(dpy, "_XLICEN_XMON", False);
	A.admin = -1;
	tag_widget(A.list, "holders");
	tag_widget(A.remove, "remove");
	A.wm_delete = XInternAtom(dpy, "WM_DELETE_WINDOW", False);
	XSetWMProtocols(dpy, XtWindow(A.top), &A.wm_delete, 1);

	/* First refresh once the window is up, then every interval. */
	A.timer = XtAppAddTimeOut(A.ctx, 0, tick, NULL);
	while (!XtAppGetExitFlag(A.ctx))
		XtAppProcessEvent(A.ctx, XtIMAll);
	xlicen_session_free(A.s);
	xlicen_holders_free(A.holders);
	XFreeGC(dpy, A.gc);
	XtDestroyApplicationContext(A.ctx);
	return 0;
}
