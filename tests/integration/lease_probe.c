/*
 * lease_probe: a tiny libxlicen client for the integration tests.  Unlike
 * `xlicen checkout`, it can take a seat and exit WITHOUT heartbeating or
 * releasing it (to test lease expiry and server restarts), and heartbeat
 * a lease id from a fresh connection.
 *
 *   lease_probe [-s SERVERS] checkout PRODUCT [VERSION [COUNT]]
 *       prints the lease id on stdout; exits without releasing
 *   lease_probe [-s SERVERS] heartbeat LEASE
 *       prints the new expiry (UTC seconds) on stdout
 *   lease_probe [-s SERVERS] hold PRODUCT SECONDS
 *       a blocking program's seat: checkout, then xlicen_heartbeat every
 *       second for SECONDS, then release; prints "LEASE id", one line
 *       "HB T OK EXPIRES CREDS_END" per heartbeat (T: seconds since the
 *       checkout, CREDS_END: what xlicen_heartbeat_ex said, 0 none) and
 *       "RELEASED"; at the first failure "HB T NAME: errmsg" and exits
 *       as below
 *   lease_probe [-s SERVERS] repeat
 *       for each line read on stdin, a status from a new session (a new
 *       connection and GSS context, all in this one process: what the
 *       library keeps per process lives on); prints one line "OK" or
 *       "NAME: errmsg" for each on stdout, at once
 *
 * Errors: one line "lease_probe: NAME: errmsg" on stderr (NAME is the
 * symbolic error name, e.g. NO_LEASE, so tests can match it exactly);
 * exit 2 for a refusal by the server, 3 otherwise, 1 for usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xlicen.h"

static int
fail(const xlicen_session *s, int rc)
{
	fprintf(stderr, "lease_probe: %s: %s\n", xlicen_errname(rc),
	    xlicen_errmsg(s));
	return rc <= -60 && rc >= -68 ? 2 : 3;
}

/* The "repeat" mode: one status per line of stdin, each from a new
 * session, answered "OK PRINCIPAL" or "ERRNAME: message".  Exits 0 at
 * the end of the input. */
static int
repeat(const char *servers)
{
	struct xlicen_pool *pools;
	xlicen_session *s;
	char line[256];
	size_t n;
	int rc;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		if ((rc = xlicen_session_new(&s, servers)) != 0) {
			fprintf(stderr, "lease_probe: %s\n", xlicen_strerror(rc));
			return 1;
		}
		rc = xlicen_status(s, NULL, &pools, &n);
		if (rc == 0)
			printf("OK %s\n", xlicen_principal(s));
		else
			printf("%s: %s\n", xlicen_errname(rc), xlicen_errmsg(s));
		fflush(stdout);
		xlicen_pools_free(pools);
		xlicen_session_free(s);
	}
	return 0;
}

/* The "hold" mode: a blocking program keeping its seat for seconds. */
static int
hold(const char *servers, const char *product, int seconds)
{
	struct xlicen_grant g;
	xlicen_session *s;
	int64_t expires, creds_end;
	time_t t0 = time(NULL);
	int rc, ex = 0;

	if ((rc = xlicen_session_new(&s, servers)) != 0) {
		fprintf(stderr, "lease_probe: %s\n", xlicen_strerror(rc));
		return 1;
	}
	if ((rc = xlicen_checkout(s, product, "1.0", 1, &g)) != 0) {
		ex = fail(s, rc);
		goto out;
	}
	printf("LEASE %s\n", g.lease);
	fflush(stdout);
	while (time(NULL) - t0 < seconds) {
		sleep(1);
		rc = xlicen_heartbeat_ex(s, g.lease, &expires, &creds_end);
		if (rc != 0) {
			printf("HB %lld %s: %s\n", (long long)(time(NULL) - t0),
			    xlicen_errname(rc), xlicen_errmsg(s));
			ex = fail(s, rc);
			goto out;
		}
		printf("HB %lld OK %lld %lld\n", (long long)(time(NULL) - t0),
		    (long long)expires, (long long)creds_end);
		fflush(stdout);
	}
	if ((rc = xlicen_release(s, g.lease)) != 0)
		ex = fail(s, rc);
	else
		printf("RELEASED\n");
out:
	xlicen_session_free(s);
	return ex;
}

int
main(int argc, char **argv)
{
	const char *servers = NULL;
	struct xlicen_grant g;
	xlicen_session *s = NULL;
	int64_t expires;
	int i = 1, rc, ex = 0;
	unsigned count = 1;

	if (argc > 2 && strcmp(argv[1], "-s") == 0) {
		servers = argv[2];
		i = 3;
	}
	if (argc - i == 1 && strcmp(argv[i], "repeat") == 0)
		return repeat(servers);
	if (argc - i == 3 && strcmp(argv[i], "hold") == 0)
		return hold(servers, argv[i + 1], atoi(argv[i + 2]));
	if (argc - i < 2) {
		fprintf(stderr, "usage: lease_probe [-s SERVERS] checkout PRODUCT "
		    "[VERSION [COUNT]] | heartbeat LEASE | hold PRODUCT SECONDS "
		    "| repeat\n");
		return 1;
	}
	if ((rc = xlicen_session_new(&s, servers)) != 0) {
		fprintf(stderr, "lease_probe: %s\n", xlicen_strerror(rc));
		return 1;
	}
	if (strcmp(argv[i], "checkout") == 0) {
		if (argc - i > 3)
			count = (unsigned)strtoul(argv[i + 3], NULL, 10);
		rc = xlicen_checkout(s, argv[i + 1], argc - i > 2 ? argv[i + 2] :
		    "1.0", count, &g);
		if (rc != 0)
			ex = fail(s, rc);
		else
			printf("%s\n", g.lease);
	} else if (strcmp(argv[i], "heartbeat") == 0) {
		rc = xlicen_heartbeat(s, argv[i + 1], &expires);
		if (rc != 0)
			ex = fail(s, rc);
		else
			printf("%lld\n", (long long)expires);
	} else {
		fprintf(stderr, "lease_probe: unknown mode %s\n", argv[i]);
		ex = 1;
	}
	/* Deliberately no release: the lease must outlive this process. */
	xlicen_session_free(s);
	return ex;
}
