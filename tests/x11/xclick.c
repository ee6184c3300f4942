/*
 * xclick: click a widget of an X program under test, without a window
 * manager or the XTEST extension: find the window whose _XLICEN_WIDGET
 * property is NAME (the programs tag the widgets tests need) and send it
 * a button 1 press and release at X,Y inside it (default: its centre).
 *
 *   xclick NAME [X Y]
 *
 * Exit 0 when sent, 1 on bad arguments or no display, 2 if no window has
 * that name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <X11/Xatom.h>
#include <X11/Xlib.h>

/* Depth-first search below w for the window tagged name. */
static Window
find(Display *dpy, Window w, Atom tag, const char *name)
{
	Window root, parent, *kids = NULL, found = None;
	unsigned int n, i;
	Atom type;
	int format;
	unsigned long count, after;
	unsigned char *v = NULL;

	if (XGetWindowProperty(dpy, w, tag, 0, 64, False, XA_STRING, &type,
	    &format, &count, &after, &v) == Success && v != NULL) {
		if (type == XA_STRING && strcmp((char *)v, name) == 0)
			found = w;
		XFree(v);
		if (found != None)
			return found;
	}
	if (!XQueryTree(dpy, w, &root, &parent, &kids, &n))
		return None;
	for (i = 0; i < n && found == None; i++)
		found = find(dpy, kids[i], tag, name);
	if (kids != NULL)
		XFree(kids);
	return found;
}

static void
send_button(Display *dpy, Window w, int type, int x, int y, int rx, int ry)
{
	XEvent ev;

	memset(&ev, 0, sizeof(ev));
	ev.xbutton.type = type;
	ev.xbutton.display = dpy;
	ev.xbutton.window = w;
	ev.xbutton.root = DefaultRootWindow(dpy);
	ev.xbutton.subwindow = None;
	ev.xbutton.time = CurrentTime;
	ev.xbutton.x = x;
	ev.xbutton.y = y;
	ev.xbutton.x_root = rx;
	ev.xbutton.y_root = ry;
	ev.xbutton.state = type == ButtonRelease ? Button1Mask : 0;
	ev.xbutton.button = Button1;
	ev.xbutton.same_screen = True;
	XSendEvent(dpy, w, True, type == ButtonPress ? ButtonPressMask :
	    ButtonReleaseMask, &ev);
}

int
main(int argc, char **argv)
{
	XWindowAttributes wa;
	Display *dpy;
	Window w, child;
	int x, y, rx, ry;

	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: xclick NAME [X Y]\n");
		return 1;
	}
	if ((dpy = XOpenDisplay(NULL)) == NULL) {
		fprintf(stderr, "xclick: cannot open display\n");
		return 1;
	}
	w = find(dpy, DefaultRootWindow(dpy),
	    XInternAtom(dpy, "_XLICEN_WIDGET", False), argv[1]);
	if (w == None) {
		fprintf(stderr, "xclick: no window named %s\n", argv[1]);
		return 2;
	}
	XGetWindowAttributes(dpy, w, &wa);
	x = argc == 4 ? atoi(argv[2]) : wa.width / 2;
	y = argc == 4 ? atoi(argv[3]) : wa.height / 2;
	XTranslateCoordinates(dpy, w, DefaultRootWindow(dpy), x, y, &rx, &ry,
	    &child);
	send_button(dpy, w, ButtonPress, x, y, rx, ry);
	XSync(dpy, False);
	send_button(dpy, w, ButtonRelease, x, y, rx, ry);
	XSync(dpy, False);
	XCloseDisplay(dpy);
	return 0;
}
