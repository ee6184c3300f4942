/*
 * libxlicen-xt (see xlicen-xt.h): a libxlicen session as Xt event
 * sources.  The session tells us through its watch callback whenever its
 * descriptor or deadline may have changed (also during blocking calls and
 * when it is freed); after each xlicen_process() we re-arm ourselves.
 *
 * Xt inputs are registered per descriptor number, so they must follow
 * the session from connection to connection: a stale input on a closed
 * (or reused) descriptor would make Xt's select() spin or fail.  Hence
 * xt_arm() compares the descriptor with the one registered every time.
 */
#include <stdlib.h>

#include "xlicen-xt.h"

struct xt_glue {
	XtAppContext app;
	xlicen_session *s;
	int fd;			/* descriptor the inputs watch, -1 none */
	XtInputId in_read, in_write;
	int have_read, have_write;
	XtIntervalId timer;
	int have_timer;
	int busy;		/* inside xlicen_process from our handler */
	int dead;		/* detached while busy: free when it returns */
};

static void xt_on_input(XtPointer cd, int *source, XtInputId *id);
static void xt_on_timer(XtPointer cd, XtIntervalId *id);

static void
xt_remove_inputs(struct xt_glue *g)
{
	if (g->have_read)
		XtRemoveInput(g->in_read);
	if (g->have_write)
		XtRemoveInput(g->in_write);
	g->have_read = g->have_write = 0;
	g->fd = -1;
}

static void
xt_remove_all(struct xt_glue *g)
{
	xt_remove_inputs(g);
	if (g->have_timer)
		XtRemoveTimeOut(g->timer);
	g->have_timer = 0;
}

/* Make the Xt sources match what the session waits for now. */
static void
xt_arm(struct xt_glue *g)
{
	int ww = 0, fd, ms;

	fd = xlicen_fd(g->s, &ww);
	if (fd != g->fd)
		xt_remove_inputs(g);
	if (fd >= 0 && !g->have_read) {
		g->in_read = XtAppAddInput(g->app, fd,
		    (XtPointer)XtInputReadMask, xt_on_input, g);
		g->have_read = 1;
	}
	if (fd >= 0 && ww && !g->have_write) {
		g->in_write = XtAppAddInput(g->app, fd,
		    (XtPointer)XtInputWriteMask, xt_on_input, g);
		g->have_write = 1;
	} else if (!ww && g->have_write) {
		XtRemoveInput(g->in_write);
		g->have_write = 0;
	}
	g->fd = fd;
	if (g->have_timer)
		XtRemoveTimeOut(g->timer);
	g->have_timer = 0;
	if ((ms = xlicen_timeout_ms(g->s)) >= 0) {
		g->timer = XtAppAddTimeOut(g->app, (unsigned long)ms,
		    xt_on_timer, g);
		g->have_timer = 1;
	}
}

static void
xt_process(struct xt_glue *g)
{
	g->busy++;
	xlicen_process(g->s);
	g->busy--;
	if (g->dead) {
		if (g->busy == 0)
			free(g);
		return;
	}
	xt_arm(g);
}

static void
xt_on_input(XtPointer cd, int *source, XtInputId *id)
{
	(void)source;
	(void)id;
	xt_process(cd);
}

static void
xt_on_timer(XtPointer cd, XtIntervalId *id)
{
	struct xt_glue *g = cd;

	(void)id;
	g->have_timer = 0;	/* Xt removed it by firing it */
	xt_process(g);
}

static void
xt_on_watch(xlicen_session *s, int removed, void *ud)
{
	struct xt_glue *g = ud;

	(void)s;
	if (removed) {
		xt_remove_all(g);
		if (g->busy > 0)
			g->dead = 1;
		else
			free(g);
		return;
	}
	/* Inside xlicen_process the handler re-arms when it returns. */
	if (g->busy == 0)
		xt_arm(g);
}

int
xlicen_xt_attach(XtAppContext app, xlicen_session *s)
{
	struct xt_glue *g;
	int rc;

	if (app == NULL || s == NULL)
		return XLICEN_E_INVALID;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return XLICEN_E_NOMEM;
	g->app = app;
	g->s = s;
	g->fd = -1;
	/* Replaces (and so detaches) an earlier glue of this session. */
	if ((rc = xlicen_set_watch_cb(s, xt_on_watch, g)) != 0) {
		free(g);
		return rc;
	}
	xt_arm(g);
	return 0;
}

void
xlicen_xt_detach(xlicen_session *s)
{
	if (s != NULL)
		xlicen_set_watch_cb(s, NULL, NULL);
}
