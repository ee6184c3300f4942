/*
 * xt-seat: a licensed Xt/Athena program in a few lines (docs/CLIENT.md).
 * libxlicen-xt puts the session into the Xt main loop: the state callback
 * runs from XtAppMainLoop like any other Xt callback.
 *
 *   cc xt-seat.c $(pkg-config --cflags --libs xlicen xaw7) -lxlicen-xt -o xt-seat
 */
#include <stdio.h>

#include <X11/Intrinsic.h>
#include <X11/Shell.h>
#include <X11/StringDefs.h>
#include <X11/Xaw/Label.h>

#include <xlicen.h>
#include <xlicen-xt.h>

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

int
main(int argc, char **argv)
{
	XtAppContext app;
	Widget top, label;
	xlicen_session *s;

	top = XtOpenApplication(&app, "XtSeat", NULL, 0, &argc, argv, NULL,
	    applicationShellWidgetClass, NULL, 0);
	label = XtVaCreateManagedWidget("label", labelWidgetClass, top,
	    XtNlabel, "Waiting for a license seat...", XtNwidth, 400, NULL);
	XtRealizeWidget(top);

	if (xlicen_session_new(&s, NULL) != 0)
		return 1;
	xlicen_set_display(s, DisplayString(XtDisplay(top)));
	xlicen_set_state_cb(s, on_state, label);
	if (xlicen_checkout_start(s, "xdemo", "1.0", 1, 0) != 0 ||
	    xlicen_xt_attach(app, s) != 0) {
		fprintf(stderr, "xt-seat: %s\n", xlicen_errmsg(s));
		return 1;
	}
	XtAppMainLoop(app);	/* (a real program releases on quit:
				 * xlicen_checkout_stop, as xlicen-xdemo does) */
	return 0;
}
