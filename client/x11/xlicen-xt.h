/*
 * libxlicen-xt: runs a libxlicen session inside an Xt application's event
 * loop.  One call, xlicen_xt_attach(), after which the application never
 * calls xlicen_process() itself: the session's descriptor is an Xt input
 * (read, and write while the library has output pending) and its next
 * deadline an Xt timeout, both re-armed after every xlicen_process().
 * State callbacks (xlicen_set_state_cb) then run from XtAppMainLoop, on
 * the application's thread, like any other Xt callback.
 */
#ifndef XLICEN_XT_H
#define XLICEN_XT_H

#include <X11/Intrinsic.h>

#include "xlicen.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Attach s to app.  The glue owns nothing of the session: it takes the
 * session's watch callback (xlicen_set_watch_cb; one per session) and
 * detaches by itself when s is freed, also from inside a state callback.
 * Attaching a session attached to another context moves it.  Returns 0,
 * XLICEN_E_INVALID (NULL arguments) or XLICEN_E_NOMEM.
 */
int xlicen_xt_attach(XtAppContext app, xlicen_session *s);

/*
 * Remove s's inputs and timeout from its Xt context (xlicen_session_free
 * does this too).  Accepts a session that is not attached, and NULL.
 */
void xlicen_xt_detach(xlicen_session *s);

#ifdef __cplusplus
}
#endif

#endif
