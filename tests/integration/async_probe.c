/*
 * async_probe: drives libxlicen's non-blocking API from a poll() loop,
 * the way an application's event loop would, for the integration tests.
 *
 *   async_probe [-s SERVERS] [-q] [-t SECONDS] PRODUCT [VERSION]
 *   async_probe [-s SERVERS] -n [-t SECONDS]
 *
 * Starts a checkout with xlicen_checkout_start() (-q: willing to queue;
 * -n: none, only the commands below) and then only ever calls
 * xlicen_fd(), xlicen_timeout_ms() and xlicen_process().  Every state
 * callback prints one line on stdout:
 *
 *   STATE HELD code=OK lease=ID expires=N in_use=N total=N who=PRINCIPAL text=...
 *
 * Commands on stdin, one per line: "quit" (xlicen_checkout_stop, then
 * exit), "drop" (close the connection under the library's feet), "retry"
 * (xlicen_retry_now), and two blocking calls on the same session, amid
 * the non-blocking checkout: "status PRODUCT" (prints "STATUS rc=NAME
 * in_use=N total=N") and "remove LEASE" (admin; prints "REMOVE rc=NAME").
 * End of input is "quit".  -t bounds the run (default 60 s).  At exit it
 * prints "STOPPED rc=NAME loops=N": loops counts wake-ups, so that a test
 * can tell a loop that spins.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xlicen.h"

static void
on_state(xlicen_session *s, int state, int code, const char *text, void *ud)
{
	struct xlicen_grant g;

	(void)ud;
	xlicen_state(s, &g);
	printf("STATE %s code=%s lease=%s expires=%lld in_use=%u total=%u "
	    "who=%s text=%s\n", xlicen_state_name(state),
	    code == 0 ? "OK" : xlicen_errname(code), g.lease[0] ? g.lease : "-",
	    (long long)g.expires, g.in_use, g.total,
	    xlicen_principal(s)[0] ? xlicen_principal(s) : "-", text);
	fflush(stdout);
}

/* A blocking call in the middle of the non-blocking checkout. */
static void
command(xlicen_session *s, const char *line)
{
	struct xlicen_pool *v = NULL;
	unsigned in_use = 0, total = 0;
	size_t n = 0, i;
	int rc;

	if (strncmp(line, "status ", 7) == 0) {
		rc = xlicen_status(s, line + 7, &v, &n);
		for (i = 0; i < n; i++) {
			in_use += v[i].in_use;
			total += v[i].total;
		}
		xlicen_pools_free(v);
		printf("STATUS rc=%s in_use=%u total=%u\n", rc == 0 ? "OK" :
		    xlicen_errname(rc), in_use, total);
	} else if (strncmp(line, "remove ", 7) == 0) {
		rc = xlicen_remove(s, line + 7);
		printf("REMOVE rc=%s\n", rc == 0 ? "OK" : xlicen_errname(rc));
	} else {
		printf("UNKNOWN %s\n", line);
	}
	fflush(stdout);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
main(int argc, char **argv)
{
	const char *servers = NULL, *product, *version = "1.0";
	xlicen_session *s = NULL;
	struct pollfd pfd[2];
	char line[128];
	long long end, left;
	unsigned long loops = 0;
	unsigned flags = 0;
	int c, rc, fd, ww, to, n, in_open = 1, quit = 0, none = 0;
	size_t used = 0;
	ssize_t r;

	end = now_ms() + 60000;
	while ((c = getopt(argc, argv, "s:qnt:")) != -1) {
		switch (c) {
		case 's':
			servers = optarg;
			break;
		case 'q':
			flags |= XLICEN_CHECKOUT_QUEUE;
			break;
		case 'n':
			none = 1;
			break;
		case 't':
			end = now_ms() + 1000LL * atoi(optarg);
			break;
		default:
			return 1;
		}
	}
	if (optind >= argc && !none) {
		fprintf(stderr, "usage: async_probe [-s SERVERS] [-q] [-t SECONDS] "
		    "PRODUCT [VERSION]\n       async_probe [-s SERVERS] -n "
		    "[-t SECONDS]\n");
		return 1;
	}
	product = none ? NULL : argv[optind];
	if (optind + 1 < argc)
		version = argv[optind + 1];
	if ((rc = xlicen_session_new(&s, servers)) != 0) {
		fprintf(stderr, "async_probe: %s\n", xlicen_strerror(rc));
		return 1;
	}
	xlicen_set_state_cb(s, on_state, NULL);
	if (!none &&
	    (rc = xlicen_checkout_start(s, product, version, 1, flags)) != 0) {
		fprintf(stderr, "async_probe: %s: %s\n", xlicen_errname(rc),
		    xlicen_errmsg(s));
		xlicen_session_free(s);
		return 1;
	}
	while (!quit) {
		left = end - now_ms();
		if (left <= 0)
			break;
		fd = xlicen_fd(s, &ww);
		to = xlicen_timeout_ms(s);
		if (to < 0 || to > left)
			to = (int)left;
		n = 0;
		if (in_open) {
			pfd[n].fd = 0;
			pfd[n].events = POLLIN;
			pfd[n++].revents = 0;
		}
		if (fd >= 0) {
			pfd[n].fd = fd;
			pfd[n].events = (short)(POLLIN | (ww ? POLLOUT : 0));
			pfd[n++].revents = 0;
		}
		if (poll(pfd, (nfds_t)n, to) < 0 && errno != EINTR)
			break;
		loops++;
		if (in_open && pfd[0].revents != 0) {
			r = read(0, line + used, sizeof(line) - 1 - used);
			if (r <= 0) {
				in_open = 0;
				quit = 1;
			} else {
				char *nl;

				used += (size_t)r;
				line[used] = '\0';
				while ((nl = strchr(line, '\n')) != NULL) {
					*nl = '\0';
					if (strcmp(line, "quit") == 0)
						quit = 1;
					else if (strcmp(line, "drop") == 0)
						xlicen_disconnect(s);
					else if (strcmp(line, "retry") == 0)
						xlicen_retry_now(s);
					else if (line[0] != '\0')
						command(s, line);
					used -= (size_t)(nl + 1 - line);
					memmove(line, nl + 1, used + 1);
				}
				if (used == sizeof(line) - 1)
					used = 0;
			}
		}
		xlicen_process(s);
	}
	rc = xlicen_checkout_stop(s);
	printf("STOPPED rc=%s loops=%lu\n", rc == 0 ? "OK" : xlicen_errname(rc),
	    loops);
	xlicen_session_free(s);
	return 0;
}
