/*
 * Unit tests for server/loop.c: the key a client address is counted under
 * for the per-peer caps (an IPv4 address, or an IPv6 /64).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "server.h"

static void
key_of(const char *addr, char *key, size_t keylen)
{
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;

	memset(&s4, 0, sizeof(s4));
	memset(&s6, 0, sizeof(s6));
	if (inet_pton(AF_INET, addr, &s4.sin_addr) == 1) {
		s4.sin_family = AF_INET;
		s4.sin_port = htons(1234);
		loop_peer_key((struct sockaddr *)&s4, key, keylen);
		return;
	}
	assert_int_equal(inet_pton(AF_INET6, addr, &s6.sin6_addr), 1);
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(1234);
	loop_peer_key((struct sockaddr *)&s6, key, keylen);
}

static void
test_peer_key_ipv4(void **state)
{
	char k[48];

	(void)state;
	key_of("127.0.0.2", k, sizeof(k));
	assert_string_equal(k, "127.0.0.2");
	key_of("192.0.2.255", k, sizeof(k));
	assert_string_equal(k, "192.0.2.255");
}

/* Every address of one /64 is one peer; the next /64 is another. */
static void
test_peer_key_ipv6_64(void **state)
{
	char a[48], b[48], c[48];

	(void)state;
	key_of("2001:db8:1:2:3:4:5:6", a, sizeof(a));
	assert_string_equal(a, "2001:db8:1:2::/64");
	key_of("2001:db8:1:2:ffff:ffff:ffff:ffff", b, sizeof(b));
	assert_string_equal(a, b);
	key_of("2001:db8:1:3::1", c, sizeof(c));
	assert_string_equal(c, "2001:db8:1:3::/64");
	key_of("::1", a, sizeof(a));
	assert_string_equal(a, "::/64");
	key_of("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", a, sizeof(a));
	assert_string_equal(a, "ffff:ffff:ffff:ffff::/64");
	assert_true(strlen(a) < sizeof(((struct conn *)0)->peer_addr));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peer_key_ipv4),
		cmocka_unit_test(test_peer_key_ipv6_64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
