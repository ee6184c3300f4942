/*
 * xlicen-xdemo: a licensed X application, written with Xt and the Athena
 * widgets, to show libxlicen in an event loop.  It asks for a seat at
 * start (libxlicen-xt runs the session inside the Xt main loop) and stays
 * unusable until it has one: "Waiting for a license seat...", controls
 * insensitive.  Then it shows who holds the seat (the Kerberos principal
 * the library authenticated as, on which display) and the lease, whose
 * expiry moves with every heartbeat.  A denial or a lost seat gets a
 * dialog with the server's reason; GRACE and missing tickets are shown in
 * the status line.  Quit, or the window manager's close, releases the
 * seat first.  So do SIGTERM, SIGINT and SIGHUP (handled from the Xt
 * loop, then the program ends by that signal; a second one while the
 * seat is being released ends it at once) and the loss of the X server
 * (exit status 1 after the release).
 *
 *   xlicen-xdemo [Xt options] [-product P] [-version V] [-server LIST]
 *                [-queue]
 *
 * The options are also X resources (product, version, server, queue; the
 * class is XlicenXdemo).  For tests, the main window carries the property
 * _XLICEN_STATE: "STATE code=NAME lease=ID expires=N in_use=N total=N".
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <X11/Intrinsic.h>
#include <X11/StringDefs.h>
#include <X11/Shell.h>
#include <X11/Xatom.h>
#include <X11/Xaw/Command.h>
#include <X11/Xaw/Dialog.h>
#include <X11/Xaw/Form.h>
#include <X11/Xaw/Label.h>

#include "xlicen.h"
#include "xlicen-xt.h"

#define APP_CLASS	"XlicenXdemo"
/* Longest a close waits for the release (the seat's TTL ends it anyway). */
#define QUIT_TIMEOUT_MS	5000
#define CANVAS_W	420
#define CANVAS_H	150
#define NCOLOURS	6
/* Exit status after the X server went away (Xlib's own is 1 too). */
#define XGONE_STATUS	1

/* The signals that mean "quit": each releases the seat first. */
static const struct {
	int sig;
	const char *name;
} quit_signals[] = {
	{ SIGTERM, "SIGTERM" },
	{ SIGINT, "SIGINT" },
	{ SIGHUP, "SIGHUP" },
};
#define NQUIT_SIGNALS	(sizeof(quit_signals) / sizeof(quit_signals[0]))

struct options {
	String product;
	String version;
	String server;
	Boolean queue;
};

static XtResource resources[] = {
	{ "product", "Product", XtRString, sizeof(String),
	    XtOffsetOf(struct options, product), XtRString, "xdemo" },
	{ "version", "Version", XtRString, sizeof(String),
	    XtOffsetOf(struct options, version), XtRString, "1.0" },
	{ "server", "Server", XtRString, sizeof(String),
	    XtOffsetOf(struct options, server), XtRString, NULL },
	{ "queue", "Queue", XtRBoolean, sizeof(Boolean),
	    XtOffsetOf(struct options, queue), XtRImmediate, (XtPointer)False },
};

static XrmOptionDescRec option_table[] = {
	{ "-product", "*product", XrmoptionSepArg, NULL },
	{ "-version", "*version", XrmoptionSepArg, NULL },
	{ "-server", "*server", XrmoptionSepArg, NULL },
	{ "-queue", "*queue", XrmoptionNoArg, "True" },
};

/* The app-defaults file client/x11/app-defaults/XlicenXdemo, made into strings
 * by fallback.cmake: Xt uses them only where it finds no such file. */
static String fallback_resources[] = {
#include "XlicenXdemo.fallback.h"
	NULL,
};

struct app {
	XtAppContext ctx;
	Widget top, heading, status, holder, lease, server, canvas;
	Widget draw, clear, retry, quit;
	Widget popup;
	xlicen_session *s;
	struct options opt;
	char display[256];	/* canonical display name */
	int licensed;		/* the controls work (HELD, GRACE) */
	int ever_held;
	int pattern;		/* what Draw draws; 0 = nothing */
	GC gc;
	unsigned long colour[NCOLOURS];
	Atom state_atom, wm_delete;
	int quitting;
	XtSignalId sig_id[NQUIT_SIGNALS];
	int wake[2];			/* self-pipe: a signal wakes the loop */
	volatile sig_atomic_t signo;	/* the quit signal caught, 0 none */
	int exit_signal;		/* end by this signal after the loop */
};

static struct app A;

static void
set_label(Widget w, const char *text)
{
	XtVaSetValues(w, XtNlabel, text, NULL);
}

/* "HH:MM:SS UTC" */
static void
fmt_utc(int64_t t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outlen, "%H:%M:%S UTC", &tm) == 0)
		snprintf(out, outlen, "%lld", (long long)t);
}

/* The server's reason without the "host:port (address): " the library
 * puts in front: the dialog names the server on a line of its own. */
static const char *
strip_server(xlicen_session *s, const char *text)
{
	const char *srv = xlicen_server(s);
	size_t n = strlen(srv);

	if (n > 0 && strncmp(text, srv, n) == 0 && strncmp(text + n, ": ", 2) == 0)
		return text + n + 2;
	return text;
}

/* text with line breaks at blanks, lines of at most width bytes (a long
 * word stays whole): Athena labels do not wrap. */
static void
wrap(const char *text, size_t width, char *out, size_t outlen)
{
	size_t col = 0, o = 0, wl;
	const char *p = text, *sp;

	while (*p != '\0' && o + 2 < outlen) {
		sp = strchr(p, ' ');
		wl = sp != NULL ? (size_t)(sp - p) : strlen(p);
		if (col > 0 && col + 1 + wl > width) {
			out[o++] = '\n';
			col = 0;
		} else if (col > 0) {
			out[o++] = ' ';
			col++;
		}
		if (wl > outlen - o - 1)
			wl = outlen - o - 1;
		memcpy(out + o, p, wl);
		o += wl;
		col += wl;
		p += wl;
		while (*p == ' ')
			p++;
	}
	out[o] = '\0';
}

static void
draw_canvas(void)
{
	Display *dpy = XtDisplay(A.canvas);
	Window win = XtWindow(A.canvas);
	Dimension w = 0, h = 0;
	const char *msg;
	int i, k, cx, cy, x, y;
	double a, r;

	if (win == None)
		return;
	XtVaGetValues(A.canvas, XtNwidth, &w, XtNheight, &h, NULL);
	XClearWindow(dpy, win);
	if (!A.licensed || A.pattern == 0) {
		msg = A.licensed ? "Licensed. Press Draw." :
		    "This program needs a license seat.";
		XSetForeground(dpy, A.gc, A.colour[5]);
		XDrawString(dpy, win, A.gc, 14, (int)h / 2 + 4, msg, (int)strlen(msg));
		return;
	}
	/* Rings of coloured dots: what only a licensed copy can do. */
	cx = (int)w / 2;
	cy = (int)h / 2;
	for (k = 0; k < 3 + A.pattern % 3; k++) {
		r = 14.0 + k * 15.0;
		for (i = 0; i < 16; i++) {
			a = i * M_PI / 8 + k * 0.2 * A.pattern;
			x = cx + (int)(r * 2.4 * cos(a));
			y = cy + (int)(r * sin(a));
			XSetForeground(dpy, A.gc, A.colour[(i + k) % 5]);
			XFillArc(dpy, win, A.gc, x - 6, y - 6, 12, 12, 0, 360 * 64);
		}
	}
}

static void
canvas_expose(Widget w, XtPointer cd, XEvent *ev, Boolean *cont)
{
	(void)w;
	(void)cd;
	(void)cont;
	if (ev->type == Expose && ev->xexpose.count == 0)
		draw_canvas();
}

static void
set_licensed(int on)
{
	A.licensed = on;
	XtSetSensitive(A.draw, on);
	XtSetSensitive(A.clear, on);
	draw_canvas();
}

/* The state for tests: a property on the main window. */
static void
publish_state(int state, int code, const struct xlicen_grant *g)
{
	char v[256];

	if (!XtIsRealized(A.top))
		return;
	snprintf(v, sizeof(v), "%s code=%s lease=%s expires=%lld in_use=%u "
	    "total=%u", xlicen_state_name(state), code == 0 ? "OK" :
	    xlicen_errname(code), g->lease[0] != '\0' ? g->lease : "-",
	    (long long)g->expires, g->in_use, g->total);
	XChangeProperty(XtDisplay(A.top), XtWindow(A.top), A.state_atom,
	    XA_STRING, 8, PropModeReplace, (unsigned char *)v, (int)strlen(v));
	XFlush(XtDisplay(A.top));
}

static void quit_app(void);

static void
popup_quit(Widget w, XtPointer cd, XtPointer call)
{
	(void)w;
	(void)cd;
	(void)call;
	quit_app();
}

static void
popup_close(Widget w, XtPointer cd, XtPointer call)
{
	(void)w;
	(void)cd;
	(void)call;
	if (A.popup != NULL)
		XtPopdown(A.popup);
}

/* A dialog over the main window: title, a text, Quit (and Close). */
static void
show_dialog(const char *title, const char *text, int closable)
{
	Widget dialog;
	Position x = 0, y = 0;

	if (A.popup != NULL) {
		XtDestroyWidget(A.popup);
		A.popup = NULL;
	}
	XtTranslateCoords(A.top, 30, 60, &x, &y);
	A.popup = XtVaCreatePopupShell("popup", transientShellWidgetClass, A.top,
	    XtNtitle, title, XtNx, x, XtNy, y, NULL);
	dialog = XtVaCreateManagedWidget("dialog", dialogWidgetClass, A.popup,
	    XtNlabel, text, NULL);
	XawDialogAddButton(dialog, "Quit", popup_quit, NULL);
	if (closable)
		XawDialogAddButton(dialog, "Close", popup_close, NULL);
	XtPopup(A.popup, XtGrabNone);
	XSetWMProtocols(XtDisplay(A.popup), XtWindow(A.popup), &A.wm_delete, 1);
}

static void
on_state(xlicen_session *s, int state, int code, const char *text, void *ud)
{
	struct xlicen_grant g;
	char line[512], when[32], msg[1600], seats[80], why[1400];
	const char *reason = strip_server(s, text);

	(void)ud;
	xlicen_state(s, &g);
	fmt_utc(g.expires, when, sizeof(when));
	publish_state(state, code, &g);
	if (xlicen_server(s)[0] != '\0') {
		snprintf(line, sizeof(line), "Server:  %s", xlicen_server(s));
		set_label(A.server, line);
	}
	XtSetSensitive(A.retry, state == XLICEN_STATE_AUTH_NEEDED ||
	    (state == XLICEN_STATE_CONNECTING && code != 0));
	switch (state) {
	case XLICEN_STATE_CONNECTING:
		if (code == 0) {
			set_label(A.status, "Waiting for a license seat...");
			break;
		}
		set_label(A.status, "Waiting for a license seat... (retrying)");
		snprintf(line, sizeof(line), "Server:  %s", text);
		set_label(A.server, line);
		break;
	case XLICEN_STATE_QUEUED:
		snprintf(line, sizeof(line), "Waiting for a license seat: %s",
		    reason);
		set_label(A.status, line);
		break;
	case XLICEN_STATE_HELD:
		set_label(A.status, "Licensed: this copy holds a seat.");
		snprintf(line, sizeof(line), "Holder:  %s on %s",
		    xlicen_principal(s), A.display[0] ? A.display : "(no display)");
		set_label(A.holder, line);
		snprintf(line, sizeof(line), "Lease:   %.16s%s until %s (%u of %u "
		    "seats in use)", g.lease, strlen(g.lease) > 16 ? "..." : "",
		    when, g.in_use, g.total);
		set_label(A.lease, line);
		if (!A.ever_held)
			A.pattern = 1;
		A.ever_held = 1;
		if (!A.licensed)
			set_licensed(1);
		if (A.popup != NULL)
			XtPopdown(A.popup);
		break;
	case XLICEN_STATE_GRACE:
		snprintf(line, sizeof(line), "License server unreachable; the "
		    "seat is kept until %s", when);
		set_label(A.status, line);
		break;
	case XLICEN_STATE_BORROWED:
		snprintf(line, sizeof(line), "Licensed offline: a borrowed seat, "
		    "until %s.", when);
		set_label(A.status, line);
		snprintf(line, sizeof(line), "Lease:   %.16s%s (borrowed)",
		    g.lease, strlen(g.lease) > 16 ? "..." : "");
		set_label(A.lease, line);
		A.ever_held = 1;
		if (!A.licensed)
			set_licensed(1);
		break;
	case XLICEN_STATE_AUTH_NEEDED:
		set_label(A.status, "No valid Kerberos tickets: run kinit, "
		    "then Retry.");
		break;
	case XLICEN_STATE_CREDS_EXPIRING:
		set_label(A.status, "Licensed, but the Kerberos tickets end "
		    "soon: run kinit.");
		break;
	case XLICEN_STATE_LOST:
		set_licensed(0);
		seats[0] = '\0';
		if (g.total > 0)
			snprintf(seats, sizeof(seats), "\n\nSeats in use: %u of %u.",
			    g.in_use, g.total);
		snprintf(line, sizeof(line), "%s (%s)", reason,
		    xlicen_errname(code));
		wrap(line, 60, why, sizeof(why));
		if (!A.ever_held) {
			set_label(A.status, "No license seat: denied by the server.");
			snprintf(msg, sizeof(msg), "No license seat for %s %s.\n\n"
			    "The license server %s said:\n%s%s", A.opt.product,
			    A.opt.version, xlicen_server(s), why, seats);
			show_dialog("xlicen-xdemo: license denied", msg, 0);
		} else {
			set_label(A.status, "The license seat was lost.");
			snprintf(msg, sizeof(msg), "The license seat of %s was lost.\n\n"
			    "The license server %s said:\n%s\n\nSave your work and "
			    "quit.", A.opt.product, xlicen_server(s), why);
			show_dialog("xlicen-xdemo: license lost", msg, 1);
		}
		break;
	default:
		break;
	}
}

/* Release the seat (bounded), then leave. */
static void
quit_app(void)
{
	if (A.quitting)
		return;
	A.quitting = 1;
	set_label(A.status, "Releasing the license seat...");
	XFlush(XtDisplay(A.top));
	xlicen_set_timeout_ms(A.s, QUIT_TIMEOUT_MS);
	xlicen_checkout_stop(A.s);
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
	quit_app();
}

static void
quit_cb(Widget w, XtPointer cd, XtPointer call)
{
	(void)w;
	(void)cd;
	(void)call;
	quit_app();
}

/*
 * The signal handler only notes the signal: Xt runs on_quit_signal from
 * its loop (XtNoticeSignal is the one Xt call safe here).  Xt sees the
 * note when the signal interrupts its wait, or at its next event: one
 * arriving just before the wait would be seen only at the next timer or
 * X event, so the handler also writes to a pipe the loop watches.  A
 * second quit signal, while the release of the first still runs (or if
 * the loop is stuck), ends the program at once by that signal: the TTL
 * frees the seat.
 */
static void
signal_handler(int sig)
{
	int saved = errno;
	ssize_t n = 0;
	size_t i;

	if (A.signo != 0) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	for (i = 0; i < NQUIT_SIGNALS; i++) {
		if (quit_signals[i].sig == sig) {
			A.signo = sig;
			XtNoticeSignal(A.sig_id[i]);
		}
	}
	/* A full pipe already holds a wake-up: the result does not matter. */
	if (A.wake[1] >= 0)
		n = write(A.wake[1], "", 1);
	(void)n;
	errno = saved;
}

/* The self-pipe's input: empty it; Xt then calls the noticed signal's
 * procedure on its way round. */
static void
on_wake(XtPointer cd, int *fd, XtInputId *id)
{
	char buf[64];

	(void)cd;
	(void)id;
	while (read(*fd, buf, sizeof(buf)) > 0)
		;
}

static void
on_quit_signal(XtPointer cd, XtSignalId *id)
{
	size_t i = (size_t)cd;

	(void)id;
	fprintf(stderr, "xlicen-xdemo: %s: releasing the license seat\n",
	    quit_signals[i].name);
	A.exit_signal = quit_signals[i].sig;
	quit_app();
}

/*
 * Catch the quit signals, except one the program was started with set to
 * be ignored (nohup, a background job's SIGINT): that choice stands.
 */
static void
catch_quit_signals(void)
{
	struct sigaction sa, old;
	size_t i;

	A.wake[0] = A.wake[1] = -1;
	if (pipe2(A.wake, O_NONBLOCK | O_CLOEXEC) == 0)
		XtAppAddInput(A.ctx, A.wake[0], (XtPointer)XtInputReadMask,
		    on_wake, NULL);
	else
		A.wake[0] = A.wake[1] = -1;	/* Xt alone: EINTR wakes it */
	for (i = 0; i < NQUIT_SIGNALS; i++) {
		if (sigaction(quit_signals[i].sig, NULL, &old) != 0 ||
		    old.sa_handler == SIG_IGN)
			continue;
		A.sig_id[i] = XtAppAddSignal(A.ctx, on_quit_signal,
		    (XtPointer)i);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = signal_handler;
		sigemptyset(&sa.sa_mask);
		(void)sigaction(quit_signals[i].sig, &sa, NULL);
	}
}

/*
 * The X server went away (killed, or the session ended).  Xlib calls this
 * from whatever X call noticed; it must not return (Xlib would exit
 * without us).  Nothing can be shown any more: release the seat, bounded
 * by QUIT_TIMEOUT_MS, and exit.  A state callback in progress is no
 * obstacle: xlicen_checkout_stop may be called from one.
 */
static int
xio_lost(Display *dpy)
{
	fprintf(stderr, "xlicen-xdemo: lost the X server %s: releasing the "
	    "license seat\n", DisplayString(dpy));
	if (A.s != NULL) {
		xlicen_set_state_cb(A.s, NULL, NULL);
		xlicen_set_timeout_ms(A.s, QUIT_TIMEOUT_MS);
		xlicen_checkout_stop(A.s);
	}
	exit(XGONE_STATUS);
}

static void
draw_cb(Widget w, XtPointer cd, XtPointer call)
{
	(void)w;
	(void)call;
	A.pattern = cd != NULL ? A.pattern + 1 : 0;
	draw_canvas();
}

static void
retry_cb(Widget w, XtPointer cd, XtPointer call)
{
	(void)w;
	(void)cd;
	(void)call;
	xlicen_retry_now(A.s);
}

static XtActionsRec actions[] = {
	{ "xdemo-quit", quit_action },
};

static Widget
make_label(const char *name, Widget parent, Widget above, const char *text)
{
	return XtVaCreateManagedWidget(name, labelWidgetClass, parent,
	    XtNlabel, text, XtNfromVert, above, XtNwidth, CANVAS_W,
	    XtNresize, False, XtNleft, XawChainLeft, XtNright, XawChainRight,
	    NULL);
}

static Widget
make_button(const char *name, Widget parent, Widget above, Widget left,
    XtCallbackProc cb, XtPointer cd)
{
	Widget b = XtVaCreateManagedWidget(name, commandWidgetClass, parent,
	    XtNfromVert, above, XtNfromHoriz, left, NULL);

	XtAddCallback(b, XtNcallback, cb, cd);
	return b;
}

static void
alloc_colours(Display *dpy)
{
	static const char *const names[NCOLOURS] = { "#c0392b", "#2e86c1",
	    "#27ae60", "#d68910", "#8e44ad", "#707070" };
	Colormap cmap = DefaultColormap(dpy, DefaultScreen(dpy));
	XColor c, exact;
	int i;

	for (i = 0; i < NCOLOURS; i++) {
		A.colour[i] = BlackPixel(dpy, DefaultScreen(dpy));
		if (XAllocNamedColor(dpy, cmap, names[i], &c, &exact))
			A.colour[i] = c.pixel;
	}
}

int
main(int argc, char **argv)
{
	Widget form;
	Display *dpy;
	XFontStruct *font = NULL;
	char title[300], text[300];
	int rc;

	A.top = XtOpenApplication(&A.ctx, APP_CLASS, option_table,
	    XtNumber(option_table), &argc, argv, fallback_resources,
	    applicationShellWidgetClass, NULL, 0);
	if (argc > 1) {
		fprintf(stderr, "xlicen-xdemo: unknown option %s\nusage: "
		    "xlicen-xdemo [Xt options] [-product P] [-version V] "
		    "[-server LIST] [-queue]\n", argv[1]);
		return 1;
	}
	XtGetApplicationResources(A.top, &A.opt, resources, XtNumber(resources),
	    NULL, 0);
	dpy = XtDisplay(A.top);
	if (xlicen_canon_display(DisplayString(dpy), A.display,
	    sizeof(A.display)) != 0)
		A.display[0] = '\0';

	snprintf(title, sizeof(title), "xlicen-xdemo: %s", A.opt.product);
	XtVaSetValues(A.top, XtNtitle, title, XtNiconName, A.opt.product, NULL);
	XtAppAddActions(A.ctx, actions, XtNumber(actions));
	XtOverrideTranslations(A.top,
	    XtParseTranslationTable("<Message>WM_PROTOCOLS: xdemo-quit()"));

	form = XtVaCreateManagedWidget("form", formWidgetClass, A.top, NULL);
	snprintf(text, sizeof(text), "%s %s - a licensed X application",
	    A.opt.product, A.opt.version);
	A.heading = make_label("heading", form, NULL, text);
	A.status = make_label("status", form, A.heading,
	    "Waiting for a license seat...");
	A.holder = make_label("holder", form, A.status, "Holder:  -");
	A.lease = make_label("lease", form, A.holder, "Lease:   -");
	A.server = make_label("server", form, A.lease, "Server:  -");
	A.canvas = XtVaCreateManagedWidget("canvas", coreWidgetClass, form,
	    XtNfromVert, A.server, XtNwidth, CANVAS_W, XtNheight, CANVAS_H, NULL);
	XtAddEventHandler(A.canvas, ExposureMask, False, canvas_expose, NULL);
	A.draw = make_button("Draw", form, A.canvas, NULL, draw_cb, (XtPointer)1);
	A.clear = make_button("Clear", form, A.canvas, A.draw, draw_cb, NULL);
	A.retry = make_button("Retry", form, A.canvas, A.clear, retry_cb, NULL);
	A.quit = make_button("Quit", form, A.canvas, A.retry, quit_cb, NULL);
	XtSetSensitive(A.draw, False);
	XtSetSensitive(A.clear, False);
	XtSetSensitive(A.retry, False);

	XtRealizeWidget(A.top);
	A.gc = XCreateGC(dpy, XtWindow(A.canvas), 0, NULL);
	XtVaGetValues(A.holder, XtNfont, &font, NULL);
	if (font != NULL)
		XSetFont(dpy, A.gc, font->fid);
	alloc_colours(dpy);
	A.state_atom = XInternAtom(dpy, "_XLICEN_STATE", False);
	A.wm_delete = XInternAtom(dpy, "WM_DELETE_WINDOW", False);
	XSetWMProtocols(dpy, XtWindow(A.top), &A.wm_delete, 1);

	if ((rc = xlicen_session_new(&A.s, A.opt.server)) != 0) {
		fprintf(stderr, "xlicen-xdemo: server list \"%s\": %s\n",
		    A.opt.server != NULL ? A.opt.server : "", xlicen_strerror(rc));
		return 1;
	}
	xlicen_set_display(A.s, DisplayString(dpy));
	xlicen_set_state_cb(A.s, on_state, NULL);
	XSetIOErrorHandler(xio_lost);
	catch_quit_signals();
	if ((rc = xlicen_checkout_start(A.s, A.opt.product, A.opt.version, 1,
	    A.opt.queue ? XLICEN_CHECKOUT_QUEUE : 0)) != 0 ||
	    (rc = xlicen_xt_attach(A.ctx, A.s)) != 0) {
		fprintf(stderr, "xlicen-xdemo: %s: %s\n", A.opt.product,
		    xlicen_errmsg(A.s));
		xlicen_session_free(A.s);
		A.s = NULL;
		return 1;
	}

	while (!XtAppGetExitFlag(A.ctx))
		XtAppProcessEvent(A.ctx, XtIMAll);
	xlicen_session_free(A.s);
	A.s = NULL;
	XFreeGC(dpy, A.gc);
	XtDestroyApplicationContext(A.ctx);
	if (A.exit_signal != 0) {
		/* Tell whoever waits for us that the signal ended us. */
		signal(A.exit_signal, SIG_DFL);
		raise(A.exit_signal);
		return 128 + A.exit_signal;
	}
	return 0;
}
