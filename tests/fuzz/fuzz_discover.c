/*
 * libFuzzer target: what the client library takes from outside to find a
 * server: a DNS answer to its SRV query (discover_srv_parse, network
 * input) and a server list ($XLICEN_SERVER, -s, discover_parse).
 *
 * Input: the DNS message, all of it; the same bytes up to the first NUL
 * are also parsed as a server list.  Properties checked, from the
 * contracts in client/discover.h:
 *   - discover_srv_parse returns 0 or XLICEN_E_BAD_VALUE; on error no
 *     record and a message; on success at most max records, each with a
 *     port 1..65535 and a target of host-name characters (or "."), no
 *     trailing dot, NUL-terminated;
 *   - discover_srv_order puts them in non-decreasing priority and is a
 *     permutation; discover_srv_list keeps exactly the targets that are
 *     not "." (XLICEN_E_CONNECT when none is left), with their ports;
 *   - discover_parse returns 0, XLICEN_E_INVALID (with a message) or
 *     XLICEN_E_NOMEM; every entry it returns prints (discover_server_format)
 *     as text that parses back to the same host and port.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "discover.h"
#include "xlicen_errors.h"

#include "fuzz_check.h"

#define SRV_MAX	8

static int
host_chars_ok(const char *t)
{
	for (; *t != '\0'; t++)
		if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
		    (*t >= '0' && *t <= '9') || strchr("-._:%", *t) != NULL))
			return 0;
	return 1;
}

/* A fixed sequence: the order must hold whatever rnd says. */
static uint32_t
rnd_step(void *arg)
{
	uint32_t *x = arg;

	*x = *x * 1103515245u + 12345u;
	return *x;
}

static void
check_srv(const uint8_t *data, size_t size)
{
	struct discover_srv v[SRV_MAX], w[SRV_MAX];
	struct discover_list l = { NULL, 0 };
	char err[256], port[8];
	size_t n = 99, i, j, named = 0;
	uint32_t seed = (uint32_t)size;
	int rc, found;

	rc = discover_srv_parse(data, size, v, SRV_MAX, &n, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == XLICEN_E_BAD_VALUE);
	if (rc != 0) {
		FUZZ_CHECK(n == 0);
		FUZZ_CHECK(err[0] != '\0');
		return;
	}
	FUZZ_CHECK(n <= SRV_MAX);
	for (i = 0; i < n; i++) {
		size_t tl = strnlen(v[i].target, sizeof(v[i].target));

		FUZZ_CHECK(tl > 0 && tl < sizeof(v[i].target));
		FUZZ_CHECK(v[i].port >= 1 && v[i].port <= 65535);
		FUZZ_CHECK(v[i].priority <= 65535 && v[i].weight <= 65535);
		if (strcmp(v[i].target, ".") != 0) {
			FUZZ_CHECK(v[i].target[tl - 1] != '.');
			FUZZ_CHECK(host_chars_ok(v[i].target));
			named++;
		}
	}
	memcpy(w, v, n * sizeof(v[0]));
	discover_srv_order(w, n, rnd_step, &seed);
	for (i = 1; i < n; i++)
		FUZZ_CHECK(w[i - 1].priority <= w[i].priority);
	/* A permutation: each record of v is in w as often as in v. */
	for (i = 0; i < n; i++) {
		size_t cv = 0, cw = 0;

		for (j = 0; j < n; j++) {
			cv += memcmp(&v[j], &v[i], sizeof(v[i])) == 0;
			cw += memcmp(&w[j], &v[i], sizeof(v[i])) == 0;
		}
		FUZZ_CHECK(cv == cw);
	}
	rc = discover_srv_list(w, n, &l, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == XLICEN_E_CONNECT || rc == XLICEN_E_NOMEM);
	if (rc == XLICEN_E_CONNECT)
		FUZZ_CHECK(named == 0);
	if (rc == 0) {
		FUZZ_CHECK(l.n == named);
		for (i = 0; i < l.n; i++) {
			found = 0;
			for (j = 0; j < n && !found; j++) {
				snprintf(port, sizeof(port), "%u", w[j].port);
				found = strcmp(w[j].target, l.v[i].host) == 0 &&
				    strcmp(port, l.v[i].port) == 0;
			}
			FUZZ_CHECK(found);
		}
	}
	discover_list_free(&l);
}

static void
check_list(const uint8_t *data, size_t size)
{
	struct discover_list l = { NULL, 0 }, back = { NULL, 0 };
	char *spec, err[256], shown[300];
	size_t i;
	int rc;

	if ((spec = malloc(size + 1)) == NULL)
		return;
	memcpy(spec, data, size);
	spec[size] = '\0';	/* the text up to the first NUL */
	rc = discover_parse(spec, &l, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == XLICEN_E_INVALID || rc == XLICEN_E_NOMEM);
	if (rc == XLICEN_E_INVALID)
		FUZZ_CHECK(err[0] != '\0' && l.n == 0);
	for (i = 0; rc == 0 && i < l.n; i++) {
		FUZZ_CHECK(l.v[i].host[0] != '\0');
		FUZZ_CHECK(atoi(l.v[i].port) >= 1 && atoi(l.v[i].port) <= 65535);
		discover_server_format(&l.v[i], shown, sizeof(shown));
		FUZZ_CHECK(discover_parse(shown, &back, err, sizeof(err)) == 0);
		FUZZ_CHECK(back.n == 1);
		FUZZ_CHECK(strcmp(back.v[0].host, l.v[i].host) == 0);
		FUZZ_CHECK(strcmp(back.v[0].port, l.v[i].port) == 0);
		discover_list_free(&back);
	}
	discover_list_free(&l);
	free(spec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_srv(data, size);
	check_list(data, size);
	return 0;
}
