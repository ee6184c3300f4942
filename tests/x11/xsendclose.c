/*
 * xsendclose: what a window manager's "close" does, for the X tests
 * (there is no window manager on the test's Xvfb): send WM_DELETE_WINDOW
 * to the window given by id (as xwininfo prints it, e.g. 0x200009).
 *
 *   xsendclose WINDOW-ID
 *
 * Exit 0 when the event was sent, 1 on a bad argument or no display.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <X11/Xlib.h>

int
main(int argc, char **argv)
{
	Display *dpy;
	XEvent ev;
	Window w;
	char *end;

	if (argc != 2) {
		fprintf(stderr, "usage: xsendclose WINDOW-ID\n");
		return 1;
	}
	w = (Window)strtoul(argv[1], &end, 0);
	if (*end != '\0' || w == None) {
		fprintf(stderr, "xsendclose: bad window id %s\n", argv[1]);
		return 1;
	}
	if ((dpy = XOpenDisplay(NULL)) == NULL) {
		fprintf(stderr, "xsendclose: cannot open display\n");
		return 1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.xclient.type = ClientMessage;
	ev.xclient.window = w;
	ev.xclient.message_type = XInternAtom(dpy, "WM_PROTOCOLS", False);
	ev.xclient.format = 32;
	ev.xclient.data.l[0] = (long)XInternAtom(dpy, "WM_DELETE_WINDOW", False);
	ev.xclient.data.l[1] = CurrentTime;
	XSendEvent(dpy, w, False, NoEventMask, &ev);
	XSync(dpy, False);
	XCloseDisplay(dpy);
	return 0;
}
