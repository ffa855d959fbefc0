/* test_netguard.c - address classes and allow-lists of the probe's network guard. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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
		/* documentation and transition ranges: never a citizen's service */
		{ "192.0.2.10", ADDR_RESERVED }, { "198.51.100.7", ADDR_RESERVED },
		{ "203.0.113.9", ADDR_RESERVED }, { "192.88.99.1", ADDR_RESERVED },
		{ "203.0.114.1", ADDR_PUBLIC }, { "198.51.101.1", ADDR_PUBLIC },
		{ "2002:c0a8:0101::1", ADDR_PRIVATE },	/* 6to4 of 192.168.1.1 */
		{ "2002:7f00:0001::", ADDR_LOOPBACK },	/* 6to4 of 127.0.0.1 */
		{ "2002:0808:0808::1", ADDR_RESERVED },	/* 6to4 of a public one */
		{ "64:ff9b:1::a00:1", ADDR_PRIVATE },	/* NAT64 local use */
		{ "64:ff9b:1:ffff::1", ADDR_PRIVATE },
		{ "64:ff9b:2::1", ADDR_PUBLIC },
		{ "2001:0:4136:e378:8000:63bf:3fff:fdd2", ADDR_RESERVED },	/* Teredo */
		{ "2001:2::1", ADDR_RESERVED }, { "2001:1ff::1", ADDR_RESERVED },
		{ "2001:200::1", ADDR_PUBLIC },
		{ "2001:db8::1", ADDR_RESERVED }, { "2001:db9::1", ADDR_PUBLIC },
		{ "100::1", ADDR_RESERVED },
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

/*
 * A keep-alive HTTP server in a child process on 127.0.0.1: it answers
 * every request on the connection it accepts and, when stopped, exits with
 * the number of requests it saw.
 */
static volatile sig_atomic_t tiny_requests;

static void tiny_stop(int sig)
{
	(void)sig;
	_exit(tiny_requests);
}

static pid_t tiny_server(int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	pid_t pid;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	*port = ntohs(sa.sin_port);
	pid = fork();
	if (pid == 0) {
		static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

		signal(SIGTERM, tiny_stop);
		for (;;) {
			int c = accept(fd, NULL, NULL);
			char buf[4096];
			size_t have = 0;
			ssize_t n;

			if (c < 0)
				_exit(tiny_requests);
			while ((n = read(c, buf + have, sizeof(buf) - 1 - have)) > 0) {
				have += (size_t)n;
				buf[have] = '\0';
				while (strstr(buf, "\r\n\r\n")) {
					char *end = strstr(buf, "\r\n\r\n") + 4;

					tiny_requests++;
					if (write(c, ok, sizeof(ok) - 1) < 0)
						break;
					have -= (size_t)(end - buf);
					memmove(buf, end, have + 1);
				}
			}
			close(c);
		}
	}
	close(fd);
	return pid;
}

static int requests_seen(pid_t pid)
{
	int st = 0;

	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Run one GET on a multi handle to its end; the transfer's result. */
static CURLcode run_on(CURLM *m, CURL *h)
{
	CURLcode code = CURLE_FAILED_INIT;
	int still = 1;

	curl_multi_add_handle(m, h);
	while (still) {
		CURLMsg *msg;
		int left;

		curl_multi_perform(m, &still);
		while ((msg = curl_multi_info_read(m, &left)) != NULL)
			if (msg->msg == CURLMSG_DONE)
				code = msg->data.result;
		if (still)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	curl_multi_remove_handle(m, h);
	return code;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

/*
 * A connection opened under one guard's allowances and left in the multi
 * handle's cache is refused to a handle whose guard does not allow its
 * address, before its request goes out: the opensocket check never sees a
 * reused connection, the prerequest check does.
 */
static void test_reused_connection(void)
{
	struct netguard open_g, closed_g;
	char url[64];
	CURLM *m = curl_multi_init();
	CURL *h1 = curl_easy_init(), *h2 = curl_easy_init();
	long reused = -1;
	int port = 0;
	pid_t srv = tiny_server(&port);
	struct err e;

	CHECK(srv > 0 && m && h1 && h2);
	if (srv <= 0 || !m || !h1 || !h2)
		goto out;
	memset(&open_g, 0, sizeof(open_g));
	memset(&closed_g, 0, sizeof(closed_g));
	CHECK_INT(netguard_parse_allow(&open_g, "127.0.0.1", &e), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	for (int i = 0; i < 2; i++) {
		CURL *h = i ? h2 : h1;

		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		netguard_attach(h, i ? &closed_g : &open_g);
	}
	CHECK_INT(run_on(m, h1), CURLE_OK);
	CHECK_INT(open_g.refused, 0);
	CHECK_INT(run_on(m, h2), CURLE_ABORTED_BY_CALLBACK);
	CHECK_INT(closed_g.refused, 1);
	CHECK_STR(closed_g.refused_addr, "127.0.0.1");
	CHECK_INT(closed_g.refused_class, ADDR_LOOPBACK);
	/* it was offered the open connection, not a new one */
	curl_easy_getinfo(h2, CURLINFO_NUM_CONNECTS, &reused);
	CHECK_INT(reused, 0);
out:
	if (h1)
		curl_easy_cleanup(h1);
	if (h2)
		curl_easy_cleanup(h2);
	if (m)
		curl_multi_cleanup(m);
	if (srv > 0)
		CHECK_INT(requests_seen(srv), 1);	/* h2's never arrived */
}

static const struct test netguard_tests[] = {
	{ "address_classes", test_classes },
	{ "allow_lists", test_allow },
	{ "reused_connection_refused", test_reused_connection },
};
SUITE(netguard, netguard_tests);
