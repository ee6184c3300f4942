/*
 * Unit tests of the non-blocking API of client/lease.c and client/session.c that need no
 * server and no KDC: argument checks, the IDLE session (no descriptor, no
 * deadline), AUTH_NEEDED reported without dialing when there are no
 * tickets, when callbacks run (only in xlicen_process, once per change),
 * the watch callback (changes, removal, free), freeing the session from
 * its own callback, xlicen_checkout_stop without a lease, a lease handed
 * over with xlicen_checkout_adopt, and the display
 * canonicalisation.  Runs against a hermetic Kerberos setup: an empty
 * krb5.conf and a credentials cache that does not exist.  The protocol
 * paths (grants, heartbeats, GRACE, reconnects) are tested against a real
 * server in tests/integration/test_async*.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "xlicen.h"

/* A server list that is never dialed in these tests (no tickets). */
#define NOWHERE "127.0.0.1:9"

struct seen {
	int calls;
	int state, code;
	char text[512];
	int free_in_cb;		/* free the session from the callback */
	int stop_in_cb;		/* xlicen_checkout_stop from the callback */
	int watch_calls, watch_removed;
};

static void
on_state(xlicen_session *s, int state, int code, const char *text, void *ud)
{
	struct seen *w = ud;

	w->calls++;
	w->state = state;
	w->code = code;
	snprintf(w->text, sizeof(w->text), "%s", text);
	if (w->stop_in_cb)
		xlicen_checkout_stop(s);
	if (w->free_in_cb)
		xlicen_session_free(s);
}

static void
on_watch(xlicen_session *s, int removed, void *ud)
{
	struct seen *w = ud;

	(void)s;
	if (removed)
		w->watch_removed++;
	else
		w->watch_calls++;
}

static int
setup(void **state)
{
	(void)state;
	/* Nothing of the machine's Kerberos setup may leak in. */
	setenv("KRB5_CONFIG", "/dev/null", 1);
	setenv("KRB5CCNAME", "FILE:/nonexistent/xlicen-test/ccache", 1);
	unsetenv("XLICEN_SERVER");
	unsetenv("XLICEN_SERVICE");
	unsetenv("DISPLAY");
	return 0;
}

static void
test_idle_session(void **state)
{
	xlicen_session *s = NULL;
	struct xlicen_grant g;
	int ww = 7;

	(void)state;
	assert_int_equal(xlicen_session_new(&s, NOWHERE), 0);
	assert_int_equal(xlicen_fd(s, &ww), -1);
	assert_int_equal(ww, 0);
	assert_int_equal(xlicen_timeout_ms(s), -1);
	assert_int_equal(xlicen_process(s), 0);
	memset(&g, 0xaa, sizeof(g));
	assert_int_equal(xlicen_state(s, &g), XLICEN_STATE_IDLE);
	assert_string_equal(g.lease, "");
	assert_int_equal(g.expires, 0);
	assert_string_equal(xlicen_principal(s), "");
	assert_int_equal(xlicen_checkout_stop(s), 0);
	assert_int_equal(xlicen_retry_now(s), 0);
	xlicen_session_free(s);

	/* NULL everywhere. */
	assert_int_equal(xlicen_fd(NULL, &ww), -1);
	assert_int_equal(xlicen_timeout_ms(NULL), -1);
	assert_int_equal(xlicen_process(NULL), XLICEN_E_INVALID);
	assert_int_equal(xlicen_state(NULL, &g), XLICEN_E_INVALID);
	assert_int_equal(xlicen_checkout_stop(NULL), XLICEN_E_INVALID);
	assert_int_equal(xlicen_retry_now(NULL), XLICEN_E_INVALID);
	assert_int_equal(xlicen_set_state_cb(NULL, on_state, NULL),
	    XLICEN_E_INVALID);
	assert_int_equal(xlicen_set_watch_cb(NULL, on_watch, NULL),
	    XLICEN_E_INVALID);
	assert_int_equal(xlicen_checkout_start(NULL, "p", "1", 1, 0),
	    XLICEN_E_INVALID);
	assert_string_equal(xlicen_principal(NULL), "");
}

static void
test_state_names(void **state)
{
	(void)state;
	assert_string_equal(xlicen_state_name(XLICEN_STATE_IDLE), "IDLE");
	assert_string_equal(xlicen_state_name(XLICEN_STATE_CONNECTING),
	    "CONNECTING");
	assert_string_equal(xlicen_state_name(XLICEN_STATE_QUEUED), "QUEUED");
	assert_string_equal(xlicen_state_name(XLICEN_STATE_HELD), "HELD");
	assert_string_equal(xlicen_state_name(XLICEN_STATE_GRACE), "GRACE");
	assert_string_equal(xlicen_state_name(XLICEN_STATE_LOST), "LOST");
	assert_string_equal(xlicen_state_name(XLICEN_STATE_AUTH_NEEDED),
	    "AUTH_NEEDED");
	assert_string_equal(xlicen_state_name(XLICEN_STATE_CREDS_EXPIRING),
	    "CREDS_EXPIRING");
	assert_string_equal(xlicen_state_name(99), "UNKNOWN");
}

/* xlicen_checkout_adopt: a lease from a blocking call becomes the
 * machine's, HELD, with the grant as given; one checkout at a time. */
static void
test_adopt(void **state)
{
	xlicen_session *s = NULL;
	struct xlicen_grant g, out;

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_int_equal(xlicen_checkout_adopt(NULL, "p", "1.0", 1, &g),
	    XLICEN_E_INVALID);
	assert_int_equal(xlicen_session_new(&s, NOWHERE), 0);
	assert_int_equal(xlicen_checkout_adopt(s, "p", "1.0", 1, NULL),
	    XLICEN_E_INVALID);
	assert_int_equal(xlicen_checkout_adopt(s, "p", "1.0", 1, &g),
	    XLICEN_E_INVALID);		/* no lease id */
	snprintf(g.lease, sizeof(g.lease), "0123456789abcdef");
	g.expires = (int64_t)time(NULL) + 60;
	g.heartbeat_s = 20;
	g.in_use = 1;
	g.total = 2;
	assert_int_equal(xlicen_checkout_adopt(s, "p", "1.0", 0, &g),
	    XLICEN_E_INVALID);		/* count 0 */
	assert_int_equal(xlicen_checkout_adopt(s, "p", "1.0", 1, &g), 0);
	assert_int_equal(xlicen_state(s, &out), XLICEN_STATE_HELD);
	assert_string_equal(out.lease, g.lease);
	assert_int_equal(out.expires, g.expires);
	assert_int_equal(out.total, 2);
	/* The first heartbeat is due within the lease, not now. */
	assert_true(xlicen_timeout_ms(s) > 0);
	assert_int_equal(xlicen_checkout_adopt(s, "p", "1.0", 1, &g),
	    XLICEN_E_INVALID);
	assert_int_equal(xlicen_checkout_start(s, "p", "1.0", 1, 0),
	    XLICEN_E_INVALID);
	xlicen_session_free(s);
}

static void
test_start_arguments(void **state)
{
	xlicen_session *s = NULL;
	char longname[300];

	(void)state;
	assert_int_equal(xlicen_session_new(&s, NOWHERE), 0);
	assert_int_equal(xlicen_checkout_start(s, NULL, "1.0", 1, 0),
	    XLICEN_E_INVALID);
	assert_int_equal(xlicen_checkout_start(s, "", "1.0", 1, 0),
	    XLICEN_E_INVALID);
	assert_int_equal(xlicen_checkout_start(s, "p", NULL, 1, 0),
	    XLICEN_E_INVALID);
	assert_int_equal(xlicen_checkout_start(s, "p", "1.0", 0, 0),
	    XLICEN_E_INVALID);
	assert_int_equal(xlicen_checkout_start(s, "p", "1.0", 1000001, 0),
	    XLICEN_E_COUNT);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(xlicen_checkout_start(s, longname, "1.0", 1, 0),
	    XLICEN_E_STRING);
	assert_int_equal(xlicen_checkout_start(s, "p", "\xff", 1, 0),
	    XLICEN_E_STRING);
	/* None of that started anything. */
	assert_int_equal(xlicen_state(s, NULL), XLICEN_STATE_IDLE);
	assert_int_equal(xlicen_timeout_ms(s), -1);

	assert_int_equal(xlicen_checkout_start(s, "p", "1.0", 1, 0), 0);
	assert_int_equal(xlicen_state(s, NULL), XLICEN_STATE_CONNECTING);
	assert_int_equal(xlicen_checkout_start(s, "p", "1.0", 1, 0),
	    XLICEN_E_INVALID);
	assert_non_null(strstr(xlicen_errmsg(s), "already running"));
	xlicen_session_free(s);
}

static void
test_auth_needed_without_dialing(void **state)
{
	xlicen_session *s = NULL;
	struct seen w;
	int t;

	(void)state;
	memset(&w, 0, sizeof(w));
	assert_int_equal(xlicen_session_new(&s, NOWHERE), 0);
	assert_int_equal(xlicen_set_state_cb(s, on_state, &w), 0);
	assert_int_equal(xlicen_checkout_start(s, "xdemo", "1.0", 1, 0), 0);
	/* Starting does nothing yet but asks to be processed at once; no
	 * callback runs outside xlicen_process. */
	assert_int_equal(xlicen_timeout_ms(s), 0);
	assert_int_equal(xlicen_fd(s, NULL), -1);
	assert_int_equal(w.calls, 0);

	assert_int_equal(xlicen_process(s), 0);
	assert_int_equal(w.calls, 1);
	assert_int_equal(w.state, XLICEN_STATE_AUTH_NEEDED);
	assert_int_equal(w.code, XLICEN_E_NO_CREDS);
	assert_true(w.text[0] != '\0');
	/* No tickets, no connection: the server is not bothered. */
	assert_int_equal(xlicen_fd(s, NULL), -1);
	/* The next look at the cache is a while away, and nothing is
	 * reported again until something changes. */
	t = xlicen_timeout_ms(s);
	assert_true(t > 1000 && t <= 2000);
	assert_int_equal(xlicen_process(s), 0);
	assert_int_equal(w.calls, 1);

	/* retry_now: looked at again at once; still no tickets. */
	assert_int_equal(xlicen_retry_now(s), 0);
	assert_int_equal(xlicen_timeout_ms(s), 0);
	assert_int_equal(xlicen_process(s), 0);
	assert_int_equal(w.calls, 1);
	assert_int_equal(xlicen_state(s, NULL), XLICEN_STATE_AUTH_NEEDED);

	/* Stop: IDLE, no callback for it, nothing left to do. */
	assert_int_equal(xlicen_checkout_stop(s), 0);
	assert_int_equal(xlicen_state(s, NULL), XLICEN_STATE_IDLE);
	assert_int_equal(xlicen_timeout_ms(s), -1);
	assert_int_equal(xlicen_process(s), 0);
	assert_int_equal(w.calls, 1);

	/* A new start after a stop is allowed. */
	assert_int_equal(xlicen_checkout_start(s, "xdemo", "1.0", 1, 0), 0);
	assert_int_equal(xlicen_process(s), 0);
	assert_int_equal(w.calls, 2);
	xlicen_session_free(s);
}

static void
test_watch_callback(void **state)
{
	xlicen_session *s = NULL;
	struct seen w, w2;

	(void)state;
	memset(&w, 0, sizeof(w));
	memset(&w2, 0, sizeof(w2));
	assert_int_equal(xlicen_session_new(&s, NOWHERE), 0);
	assert_int_equal(xlicen_set_watch_cb(s, on_watch, &w), 0);
	assert_int_equal(w.watch_calls, 0);
	/* The deadline appears with the checkout: the glue is told. */
	assert_int_equal(xlicen_checkout_start(s, "xdemo", "1.0", 1, 0), 0);
	assert_int_equal(w.watch_calls, 1);
	/* Processing moves it (AUTH_NEEDED polls later). */
	assert_int_equal(xlicen_process(s), 0);
	assert_int_equal(w.watch_calls, 2);
	/* Nothing changed: not told again. */
	assert_int_equal(xlicen_process(s), 0);
	assert_int_equal(w.watch_calls, 2);
	/* Replacing the watcher tells the old one it is gone. */
	assert_int_equal(xlicen_set_watch_cb(s, on_watch, &w2), 0);
	assert_int_equal(w.watch_removed, 1);
	assert_int_equal(w2.watch_removed, 0);
	/* So does freeing the session. */
	xlicen_session_free(s);
	assert_int_equal(w2.watch_removed, 1);
	assert_int_equal(w.watch_removed, 1);
}

static void
test_free_from_callback(void **state)
{
	xlicen_session *s = NULL;
	struct seen w;

	(void)state;
	memset(&w, 0, sizeof(w));
	w.free_in_cb = 1;
	assert_int_equal(xlicen_session_new(&s, NOWHERE), 0);
	assert_int_equal(xlicen_set_state_cb(s, on_state, &w), 0);
	assert_int_equal(xlicen_set_watch_cb(s, on_watch, &w), 0);
	assert_int_equal(xlicen_checkout_start(s, "xdemo", "1.0", 1, 0), 0);
	/* The callback frees s; process finishes its work first, then
	 * frees it (the sanitizer build would catch a use after free). */
	assert_int_equal(xlicen_process(s), 0);
	assert_int_equal(w.calls, 1);
	assert_int_equal(w.watch_removed, 1);
}

static void
test_stop_from_callback(void **state)
{
	xlicen_session *s = NULL;
	struct seen w;

	(void)state;
	memset(&w, 0, sizeof(w));
	w.stop_in_cb = 1;
	assert_int_equal(xlicen_session_new(&s, NOWHERE), 0);
	assert_int_equal(xlicen_set_state_cb(s, on_state, &w), 0);
	assert_int_equal(xlicen_checkout_start(s, "xdemo", "1.0", 1, 0), 0);
	assert_int_equal(xlicen_process(s), 0);
	/* Told once (AUTH_NEEDED); the stop inside is not reported. */
	assert_int_equal(w.calls, 1);
	assert_int_equal(xlicen_state(s, NULL), XLICEN_STATE_IDLE);
	assert_int_equal(xlicen_timeout_ms(s), -1);
	xlicen_session_free(s);
}

static void
test_canon_display(void **state)
{
	char host[256], want[300], out[300];

	(void)state;
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	host[sizeof(host) - 1] = '\0';
	for (char *p = host; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	snprintf(want, sizeof(want), "%s:0", host);
	assert_int_equal(xlicen_canon_display(":0.1", out, sizeof(out)), 0);
	assert_string_equal(out, want);
	assert_int_equal(xlicen_canon_display("unix:0", out, sizeof(out)), 0);
	assert_string_equal(out, want);
	snprintf(want, sizeof(want), "%s:10", host);
	assert_int_equal(xlicen_canon_display("localhost:10.0", out,
	    sizeof(out)), 0);
	assert_string_equal(out, want);
	assert_int_equal(xlicen_canon_display("tcp/WS1.Example.ORG:3.0", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "ws1.example.org:3");
	assert_int_equal(xlicen_canon_display("nodisplay", out, sizeof(out)),
	    XLICEN_E_BAD_VALUE);
	assert_string_equal(out, "");
	assert_int_equal(xlicen_canon_display("ws1:x", out, sizeof(out)),
	    XLICEN_E_BAD_VALUE);
	assert_int_equal(xlicen_canon_display("ws1:0", out, 3),
	    XLICEN_E_INVALID);
	assert_string_equal(out, "");
	assert_int_equal(xlicen_canon_display(NULL, out, sizeof(out)),
	    XLICEN_E_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_session),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_adopt),
		cmocka_unit_test(test_start_arguments),
		cmocka_unit_test(test_auth_needed_without_dialing),
		cmocka_unit_test(test_watch_callback),
		cmocka_unit_test(test_free_from_callback),
		cmocka_unit_test(test_stop_from_callback),
		cmocka_unit_test(test_canon_display),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
