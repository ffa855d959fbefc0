/* test_netguard.c - address classes and allow-lists of the probe's network guard. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "../harness.h"
#include "../../targets/netguard.h"
#include "../../common/banned.h"

static void make_addr(const char *s, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(s, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		inet_pton(AF_INET6, s, &a->sin6_addr);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		inet_pton(AF_INET, s, &a->sin_addr);
	}
}

static void test_classes(void)
{
	static const struct {
		const char *addr;
		enum addr_class c;
	} rows[] = {
		{ "203.162.4.191", ADDR_PUBLIC },	/* a public address */
		{ "8.8.8.8", ADDR_PUBLIC },
		{ "127.0.0.1", ADDR_LOOPBACK }, { "127.255.0.9", ADDR_LOOPBACK },
		{ "10.0.0.1", ADDR_PRIVATE }, { "172.16.0.1", ADDR_PRIVATE },
		{ "172.31.255.254", ADDR_PRIVATE }, { "172.32.0.1", ADDR_PUBLIC },
		{ "192.168.1.1", ADDR_PRIVATE }, { "169.254.169.254", ADDR_LINKLOCAL },
		{ "100.64.0.1", ADDR_CGNAT }, { "100.127.255.254", ADDR_CGNAT },
		{ "100.128.0.1", ADDR_PUBLIC }, { "224.0.0.251", ADDR_MULTICAST },
		{ "239.255.255.250", ADDR_MULTICAST }, { "0.0.0.0", ADDR_UNSPECIFIED },
		{ "0.1.2.3", ADDR_UNSPECIFIED }, { "255.255.255.255", ADDR_RESERVED },
		{ "240.0.0.1", ADDR_RESERVED }, { "198.18.0.1", ADDR_RESERVED },
		{ "::1", ADDR_LOOPBACK }, { "::", ADDR_UNSPECIFIED },
		{ "fd12:3456::1", ADDR_PRIVATE }, { "fc00::1", ADDR_PRIVATE },
		{ "fe80::1", ADDR_LINKLOCAL }, { "ff02::1", ADDR_MULTICAST },
		{ "::ffff:192.168.0.1", ADDR_PRIVATE }, { "::ffff:127.0.0.1", ADDR_LOOPBACK },
		{ "::ffff:8.8.8.8", ADDR_PUBLIC }, { "64:ff9b::a00:1", ADDR_PRIVATE },
		{ "2001:4860:4860::8888", ADDR_PUBLIC },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct sockaddr_storage ss;

		harness_case("%s", rows[i].addr);
		make_addr(rows[i].addr, &ss);
		CHECK_STR(addr_class_name(netguard_classify((struct sockaddr *)&ss)),
			  addr_class_name(rows[i].c));
	}
}

static void test_allow(void)
{
	static const struct {
		const char *spec;
		const char *addr;
		int allowed;
	} rows[] = {
		{ "no", "192.168.1.20", 0 },
		{ "no", "8.8.8.8", 1 },
		{ "yes", "192.168.1.20", 1 },
		{ "192.168.1.20", "192.168.1.20", 1 },
		{ "192.168.1.20", "192.168.1.21", 0 },
		{ "192.168.1.0/24", "192.168.1.77", 1 },
		{ "192.168.1.0/24", "192.168.2.1", 0 },
		{ "10.0.0.0/8 127.0.0.2", "127.0.0.2", 1 },
		{ "10.0.0.0/8 127.0.0.2", "127.0.0.1", 0 },
		{ "127.0.0.1", "::ffff:127.0.0.1", 1 },
		{ "fd00::/8", "fd12::1", 1 },
		{ "fd00::/8", "fe80::1", 0 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct netguard g;
		struct sockaddr_storage ss;
		struct err e;

		harness_case("%s / %s", rows[i].spec, rows[i].addr);
		memset(&g, 0, sizeof(g));
		CHECK_INT(netguard_parse_allow(&g, rows[i].spec, &e), 0);
		make_addr(rows[i].addr, &ss);
		CHECK_INT(netguard_allows(&g, (struct sockaddr *)&ss), rows[i].allowed);
	}
	{
		struct netguard g;
		struct err e;

		harness_case("bad spec");
		CHECK_INT(netguard_parse_allow(&g, "192.168.1.0/33", &e), -1);
		CHECK_CONTAINS(e.msg, "'192.168.1.0/33' is not an address or network");
		CHECK_INT(netguard_parse_allow(&g, "router.lan", &e), -1);
	}
}

static const struct test netguard_tests[] = {
	{ "address_classes", test_classes },
	{ "allow_lists", test_allow },
};
SUITE(netguard, netguard_tests);
