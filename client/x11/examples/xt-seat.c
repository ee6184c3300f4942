/*
 * xt-seat: a licensed Xt/Athena program in a few lines (docs/CLIENT.md).
 * libxlicen-xt puts the session into the Xt main loop: the state callback
 * runs from XtAppMainLoop like any other Xt callback.  The window
 * manager's close, SIGTERM, SIGINT and SIGHUP, and the loss of the X
 * server, give the seat back before exiting.
 *
 *   cc xt-seat.c $(pkg-config --cflags --libs xlicen-xt xaw7) -o xt-seat
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <X11/Intrinsic.h>
#include <X11/Shell.h>
#include <X11/StringDefs.h>
#include <X11/Xaw/Label.h>

#include <xlicen.h>
#include <xlicen-xt.h>

static XtAppContext app;
static xlicen_session *seat;
static XtSignalId quit_id;

static void
on_state(xlicen_session *s, int state, int code, const char *text, void *ud)
{
	Widget label = ud;
	char line[300];

	(void)s;
	snprintf(line, sizeof(line), "%s%s%s", state == XLICEN_STATE_HELD ?
	    "Licensed" : xlicen_state_name(state), code != 0 ? ": " : "",
	    code != 0 ? text : "");
	XtVaSetValues(label, XtNlabel, line, NULL);
	XtSetSensitive(label, state == XLICEN_STATE_HELD ||
	    state == XLICEN_STATE_GRACE ||
	    state == XLICEN_STATE_CREDS_EXPIRING);
}

/* In the handler only note the signal; Xt calls on_quit from its loop. */
static void
on_signal(int sig)
{
	(void)sig;
	XtNoticeSignal(quit_id);
}

static void
on_quit(XtPointer cd, XtSignalId *id)
{
	(void)cd;
	(void)id;
	xlicen_checkout_stop(seat);	/* gives the seat back (blocks briefly) */
	XtAppSetExitFlag(app);
}

/* The window manager's close (WM_DELETE_WINDOW): quit as on a signal. */
static void
on_close(Widget w, XEvent *ev, String *params, Cardinal *nparams)
{
	(void)w;
	(void)ev;
	(void)params;
	(void)nparams;
	on_quit(NULL, NULL);
}

static XtActionsRec actions[] = { { "quit", on_close } };

/* The X server is gone: Xlib exits if this returns, so release first. */
static int
on_x_lost(Display *dpy)
{
	(void)dpy;
	xlicen_set_state_cb(seat, NULL, NULL);	/* nothing left to show it on */
	xlicen_checkout_stop(seat);
	exit(1);
}

int
main(int argc, char **argv)
{
	Widget top, label;
	struct sigaction sa;
	Atom wm_delete;

	top = XtOpenApplication(&app, "XtSeat", NULL, 0, &argc, argv, NULL,
	    applicationShellWidgetClass, NULL, 0);
	label = XtVaCreateManagedWidget("label", labelWidgetClass, top,
	    XtNlabel, "Waiting for a license seat...", XtNwidth, 400, NULL);
	XtAppAddActions(app, actions, XtNumber(actions));
	XtOverrideTranslations(top,
	    XtParseTranslationTable("<Message>WM_PROTOCOLS: quit()"));
	XtRealizeWidget(top);
	wm_delete = XInternAtom(XtDisplay(top), "WM_DELETE_WINDOW", False);
	XSetWMProtocols(XtDisplay(top), XtWindow(top), &wm_delete, 1);

	if (xlicen_session_new(&seat, NULL) != 0)
		return 1;
	xlicen_set_display(seat, DisplayString(XtDisplay(top)));
	xlicen_set_state_cb(seat, on_state, label);
	if (xlicen_checkout_start(seat, "xdemo", "1.0", 1, 0) != 0 ||
	    xlicen_xt_attach(app, seat) != 0) {
		fprintf(stderr, "xt-seat: %s\n", xlicen_errmsg(seat));
		return 1;
	}
	XSetIOErrorHandler(on_x_lost);
	quit_id = XtAppAddSignal(app, on_quit, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	while (!XtAppGetExitFlag(app))
		XtAppProcessEvent(app, XtIMAll);
	xlicen_session_free(seat);
	return 0;
}
