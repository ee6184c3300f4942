/*
 * xlib-seat: the smallest complete licensed Xlib program (docs/CLIENT.md).
 * One window that says whether we hold a seat; one poll() loop for both
 * the X connection and the license session; q, the window manager's
 * close, SIGTERM, SIGINT and SIGHUP release the seat and quit, and so
 * does the loss of the X server.
 *
 *   cc xlib-seat.c $(pkg-config --cflags --libs xlicen x11) -o xlib-seat
 *   XLICEN_SERVER=licsrv.example.org ./xlib-seat
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* ppoll */
#endif
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/keysym.h>

#include <xlicen.h>

static char shown[256] = "Waiting for a license seat...";
static xlicen_session *seat;
static volatile sig_atomic_t signalled;

/* Runs inside xlicen_process(), on our thread: just note what to show. */
static void
on_state(xlicen_session *s, int state, int code, const char *text, void *ud)
{
	struct xlicen_grant g;

	(void)ud;
	xlicen_state(s, &g);
	if (state == XLICEN_STATE_HELD)
		snprintf(shown, sizeof(shown), "Licensed: lease %.8s, %u of %u "
		    "seats in use", g.lease, g.in_use, g.total);
	else if (state == XLICEN_STATE_LOST)
		snprintf(shown, sizeof(shown), "No seat: %s (%s)", text,
		    xlicen_errname(code));
	else
		snprintf(shown, sizeof(shown), "%s %s", xlicen_state_name(state),
		    text);
}

static void
on_signal(int sig)
{
	signalled = sig;
}

/* The X server is gone: Xlib exits if this returns, so release first. */
static int
on_x_lost(Display *dpy)
{
	(void)dpy;
	xlicen_checkout_stop(seat);
	exit(1);
}

int
main(void)
{
	Display *dpy;
	Window win;
	Atom wm_delete;
	XEvent ev;
	struct pollfd pfd[2];
	struct sigaction sa;
	struct timespec ts, *tsp;
	sigset_t quitsigs, unblocked;
	int ww, n, ms, quit = 0;

	if ((dpy = XOpenDisplay(NULL)) == NULL) {
		fprintf(stderr, "xlib-seat: cannot open the display\n");
		return 1;
	}
	win = XCreateSimpleWindow(dpy, DefaultRootWindow(dpy), 0, 0, 480, 60, 0,
	    BlackPixel(dpy, 0), WhitePixel(dpy, 0));
	XStoreName(dpy, win, "xlib-seat");
	wm_delete = XInternAtom(dpy, "WM_DELETE_WINDOW", False);
	XSetWMProtocols(dpy, win, &wm_delete, 1);
	XSelectInput(dpy, win, ExposureMask | KeyPressMask);
	XMapWindow(dpy, win);

	/* NULL: the servers of $XLICEN_SERVER, else DNS SRV, else localhost. */
	if (xlicen_session_new(&seat, NULL) != 0)
		return 1;
	xlicen_set_display(seat, DisplayString(dpy));	/* the seat's display */
	xlicen_set_state_cb(seat, on_state, NULL);
	if (xlicen_checkout_start(seat, "xdemo", "1.0", 1, 0) != 0) {
		fprintf(stderr, "xlib-seat: %s\n", xlicen_errmsg(seat));
		return 1;
	}
	XSetIOErrorHandler(on_x_lost);
	/* The signals stay blocked but inside ppoll: none is missed. */
	sigemptyset(&quitsigs);
	sigaddset(&quitsigs, SIGTERM);
	sigaddset(&quitsigs, SIGINT);
	sigaddset(&quitsigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &quitsigs, &unblocked);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	while (!quit && !signalled) {
		XFlush(dpy);
		pfd[0].fd = ConnectionNumber(dpy);
		pfd[0].events = POLLIN;
		pfd[1].fd = xlicen_fd(seat, &ww);		/* -1: poll ignores it */
		pfd[1].events = (short)(POLLIN | (ww ? POLLOUT : 0));
		ms = xlicen_timeout_ms(seat);
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * 1000000L;
		tsp = ms >= 0 ? &ts : NULL;
		if (XPending(dpy) == 0)
			ppoll(pfd, 2, tsp, &unblocked);
		xlicen_process(seat);	/* connects, heartbeats, calls on_state */
		while (XPending(dpy) > 0) {
			XNextEvent(dpy, &ev);
			if (ev.type == KeyPress &&
			    XLookupKeysym(&ev.xkey, 0) == XK_q)
				quit = 1;
			if (ev.type == ClientMessage &&
			    (Atom)ev.xclient.data.l[0] == wm_delete)
				quit = 1;
		}
		n = (int)strlen(shown);
		XClearWindow(dpy, win);
		XDrawString(dpy, win, DefaultGC(dpy, 0), 10, 35, shown, n);
	}
	xlicen_checkout_stop(seat);	/* gives the seat back (blocks briefly) */
	xlicen_session_free(seat);
	XCloseDisplay(dpy);
	return 0;
}
