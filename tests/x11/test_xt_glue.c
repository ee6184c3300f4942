/*
 * Unit test of libxlicen-xt without a display: an Xt application context
 * runs timers and inputs without one.  A session without Kerberos tickets
 * (hermetic: empty krb5.conf, missing cache) is attached; the Xt loop
 * alone must carry it to AUTH_NEEDED (the glue armed a timeout), keep a
 * timeout armed for the next look at the cache, survive the session being
 * freed from its own state callback inside the loop, and detach cleanly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "xlicen-xt.h"

struct seen {
	int calls;
	int state;
	int free_in_cb;
};

static void
on_state(xlicen_session *s, int state, int code, const char *text, void *ud)
{
	struct seen *w = ud;

	(void)code;
	(void)text;
	w->calls++;
	w->state = state;
	if (w->free_in_cb)
		xlicen_session_free(s);
}

/* Run the Xt loop until *calls > before, at most ms milliseconds. */
static void
run_until_called(XtAppContext app, const int *calls, int before, int ms)
{
	struct timespec t0, t;
	long el;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (*calls > before)
			return;
		clock_gettime(CLOCK_MONOTONIC, &t);
		el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		assert_true(el < ms);
		/* Blocks until a timer or an input is due: the glue must have
		 * armed one, or this test hangs (and CTest times it out). */
		XtAppProcessEvent(app, XtIMTimer | XtIMAlternateInput);
	}
}

static int
setup(void **state)
{
	(void)state;
	setenv("KRB5_CONFIG", "/dev/null", 1);
	setenv("KRB5CCNAME", "FILE:/nonexistent/xlicen-test/ccache", 1);
	XtToolkitInitialize();
	return 0;
}

static void
test_loop_drives_session(void **state)
{
	XtAppContext app = XtCreateApplicationContext();
	xlicen_session *s = NULL;
	struct seen w;

	(void)state;
	memset(&w, 0, sizeof(w));
	assert_int_equal(xlicen_xt_attach(NULL, NULL), XLICEN_E_INVALID);
	assert_int_equal(xlicen_session_new(&s, "127.0.0.1:9"), 0);
	assert_int_equal(xlicen_set_state_cb(s, on_state, &w), 0);
	assert_int_equal(xlicen_xt_attach(app, s), 0);
	/* Started after attaching: the watch callback arms the timer. */
	assert_int_equal(xlicen_checkout_start(s, "xdemo", "1.0", 1, 0), 0);
	run_until_called(app, &w.calls, 0, 3000);
	assert_int_equal(w.state, XLICEN_STATE_AUTH_NEEDED);
	/* The next look at the cache is armed: the loop comes back by
	 * itself (xlicen_retry_now brings it forward; nothing changes, so no
	 * callback, but the loop must not block for good). */
	assert_true(xlicen_timeout_ms(s) > 0);
	xlicen_retry_now(s);
	XtAppProcessEvent(app, XtIMTimer | XtIMAlternateInput);
	assert_int_equal(w.calls, 1);
	/* Detach, then free: nothing of the glue left in the context. */
	xlicen_xt_detach(s);
	xlicen_xt_detach(s);
	xlicen_session_free(s);
	XtDestroyApplicationContext(app);
}

static void
test_free_inside_loop(void **state)
{
	XtAppContext app = XtCreateApplicationContext();
	xlicen_session *s = NULL;
	struct seen w;

	(void)state;
	memset(&w, 0, sizeof(w));
	w.free_in_cb = 1;
	assert_int_equal(xlicen_session_new(&s, "127.0.0.1:9"), 0);
	assert_int_equal(xlicen_set_state_cb(s, on_state, &w), 0);
	assert_int_equal(xlicen_checkout_start(s, "xdemo", "1.0", 1, 0), 0);
	/* Attached after the start: arms at once. */
	assert_int_equal(xlicen_xt_attach(app, s), 0);
	run_until_called(app, &w.calls, 0, 3000);
	/* The session is gone, and with it the glue's timer: the context
	 * has nothing pending (the sanitizer build checks the memory). */
	assert_int_equal(XtAppPending(app) & XtIMTimer, 0);
	XtDestroyApplicationContext(app);
}

static void
test_reattach(void **state)
{
	XtAppContext a1 = XtCreateApplicationContext();
	XtAppContext a2 = XtCreateApplicationContext();
	xlicen_session *s = NULL;
	struct seen w;

	(void)state;
	memset(&w, 0, sizeof(w));
	assert_int_equal(xlicen_session_new(&s, "127.0.0.1:9"), 0);
	assert_int_equal(xlicen_set_state_cb(s, on_state, &w), 0);
	assert_int_equal(xlicen_checkout_start(s, "xdemo", "1.0", 1, 0), 0);
	assert_int_equal(xlicen_xt_attach(a1, s), 0);
	/* Moving to another context detaches from the first. */
	assert_int_equal(xlicen_xt_attach(a2, s), 0);
	run_until_called(a2, &w.calls, 0, 3000);
	assert_int_equal(w.state, XLICEN_STATE_AUTH_NEEDED);
	xlicen_session_free(s);
	XtDestroyApplicationContext(a1);
	XtDestroyApplicationContext(a2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loop_drives_session),
		cmocka_unit_test(test_free_inside_loop),
		cmocka_unit_test(test_reattach),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
