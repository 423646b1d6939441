/*
 * test_cluster.c - apiary-bench's cluster slot map (bench/cluster.c):
 * loading CLUSTER SLOTS replies (as Redis writes them, RESP2 and RESP3,
 * hosts left unknown), refusing malformed ones with the slot, port and
 * node-count bounds at MAX and MAX + 1, MOVED and ASK redirects (decoded
 * by net/client.c, then applied), and a randomized run of redirects
 * against a model map of "host:port" strings.
 */
#include "bench/bench.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decodes RESP text and loads it; returns what ap_bench_slots_load did. */
static int load(struct ap_bench_slots *m, const char *resp, char *err,
		size_t err_size)
{
	struct ap_client_value v;
	const char *derr = NULL;
	long long n = ap_client_value_decode(resp, strlen(resp), &v, &derr);

	ck_assert_msg(n == (long long)strlen(resp), "bad test RESP: %s",
		      derr ? derr : "trailing bytes");
	int rc = ap_bench_slots_load(m, &v, "10.0.0.9", err, err_size);

	ap_client_value_free(&v);
	return rc;
}

/* Loads and expects success. */
static void load_ok(struct ap_bench_slots *m, const char *resp)
{
	char err[256] = "";

	ck_assert_msg(load(m, resp, err, sizeof(err)) == 0, "%s", err);
}

/* Loads and expects -EINVAL with a message. */
static void load_bad(const char *resp)
{
	struct ap_bench_slots *m = malloc(sizeof(*m));
	char err[256] = "";

	ck_assert_int_eq(load(m, resp, err, sizeof(err)), -EINVAL);
	ck_assert_msg(err[0] != '\0', "no message for %s", resp);
	free(m);
}

/* A CLUSTER SLOTS reply as Redis 7 writes it: three primaries with a
 * replica each, ids and a metadata map on the nodes. */
static const char three_nodes[] =
	"*3\r\n"
	"*4\r\n:0\r\n:5460\r\n"
	"*4\r\n$9\r\n127.0.0.1\r\n:30001\r\n$3\r\nid1\r\n*0\r\n"
	"*4\r\n$9\r\n127.0.0.1\r\n:30004\r\n$3\r\nid4\r\n*0\r\n"
	"*4\r\n:5461\r\n:10922\r\n"
	"*3\r\n$9\r\n127.0.0.1\r\n:30002\r\n$3\r\nid2\r\n"
	"*3\r\n$9\r\n127.0.0.1\r\n:30005\r\n$3\r\nid5\r\n"
	"*4\r\n:10923\r\n:16383\r\n"
	"*3\r\n$9\r\n127.0.0.1\r\n:30003\r\n$3\r\nid3\r\n"
	"*3\r\n$9\r\n127.0.0.1\r\n:30006\r\n$3\r\nid6\r\n";

START_TEST(test_load)
{
	struct ap_bench_slots *m = malloc(sizeof(*m));

	ap_bench_slots_init(m);
	ck_assert_int_eq(m->node_count, 0);
	ck_assert_uint_eq(m->owner[0], AP_BENCH_SLOT_NONE);
	ck_assert_uint_eq(m->owner[AP_SLOTS - 1], AP_BENCH_SLOT_NONE);
	load_ok(m, three_nodes);
	/* replicas are not nodes the bench uses */
	ck_assert_int_eq(m->node_count, 3);
	ck_assert_str_eq(m->nodes[0].host, "127.0.0.1");
	ck_assert_int_eq(m->nodes[0].port, 30001);
	ck_assert_int_eq(m->nodes[2].port, 30003);
	ck_assert_uint_eq(m->owner[0], 0);
	ck_assert_uint_eq(m->owner[5460], 0);
	ck_assert_uint_eq(m->owner[5461], 1);
	ck_assert_uint_eq(m->owner[10922], 1);
	ck_assert_uint_eq(m->owner[10923], 2);
	ck_assert_uint_eq(m->owner[16383], 2);
	/* Unknown hosts ("", "?", null, RESP3 null) are the seed's; a range
	 * list with holes leaves them unserved; one node twice is one
	 * node; the last range wins. */
	load_ok(m, "*5\r\n"
		   "*3\r\n:0\r\n:9\r\n*2\r\n$0\r\n\r\n:7000\r\n"
		   "*3\r\n:10\r\n:19\r\n*2\r\n$1\r\n?\r\n:7001\r\n"
		   "*3\r\n:20\r\n:29\r\n*2\r\n$-1\r\n:7002\r\n"
		   "*3\r\n:100\r\n:100\r\n*2\r\n_\r\n:7000\r\n"
		   "*3\r\n:5\r\n:5\r\n*2\r\n+h\r\n:1\r\n");
	ck_assert_int_eq(m->node_count, 4);
	ck_assert_str_eq(m->nodes[0].host, "10.0.0.9");
	ck_assert_str_eq(m->nodes[1].host, "10.0.0.9");
	ck_assert_str_eq(m->nodes[2].host, "10.0.0.9");
	ck_assert_str_eq(m->nodes[3].host, "h");
	ck_assert_uint_eq(m->owner[4], 0);
	ck_assert_uint_eq(m->owner[5], 3);
	ck_assert_uint_eq(m->owner[19], 1);
	ck_assert_uint_eq(m->owner[29], 2);
	ck_assert_uint_eq(m->owner[30], AP_BENCH_SLOT_NONE);
	ck_assert_uint_eq(m->owner[100], 0);
	/* loading again starts from an empty map */
	load_ok(m, "*1\r\n*3\r\n:16383\r\n:16383\r\n*2\r\n$1\r\nz\r\n:"
		   "65535\r\n");
	ck_assert_int_eq(m->node_count, 1);
	ck_assert_uint_eq(m->owner[0], AP_BENCH_SLOT_NONE);
	ck_assert_uint_eq(m->owner[16383], 0);
	free(m);
}
END_TEST

/* Malformed replies, and the bounds of slots, ports, hosts and nodes. */
START_TEST(test_load_bad)
{
	load_bad("-ERR This instance has cluster support disabled\r\n");
	load_bad("*0\r\n"); /* no slot served */
	load_bad("*-1\r\n");
	load_bad(":1\r\n");
	load_bad("*1\r\n:1\r\n");
	load_bad("*1\r\n*2\r\n:0\r\n:1\r\n"); /* no node */
	load_bad(
		"*1\r\n*3\r\n$1\r\n0\r\n:1\r\n*2\r\n$1\r\nh\r\n:1\r\n"); /* start
									  */
	load_bad(
		"*1\r\n*3\r\n:5\r\n:4\r\n*2\r\n$1\r\nh\r\n:1\r\n"); /* end<start
								     */
	load_bad("*1\r\n*3\r\n:-1\r\n:4\r\n*2\r\n$1\r\nh\r\n:1\r\n");
	load_bad(
		"*1\r\n*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\nh\r\n:1\r\n"); /* MAX+1
									 */
	load_bad("*1\r\n*3\r\n:0\r\n:1\r\n*1\r\n$1\r\nh\r\n");	/* no port */
	load_bad("*1\r\n*3\r\n:0\r\n:1\r\n$1\r\nh\r\n");	/* not array */
	load_bad("*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n:1\r\n:1\r\n"); /* host int */
	load_bad("*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\nh\r\n$1\r\n1\r\n");
	load_bad("*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\nh\r\n:0\r\n");
	load_bad("*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\nh\r\n:65536\r\n");
	load_bad("*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\nh\r\n:4294967297\r\n");

	/* Host of 63 bytes fits, 64 does not. */
	char buf[256];
	char host[65];
	struct ap_bench_slots *m = malloc(sizeof(*m));

	memset(host, 'a', 64);
	host[63] = '\0';
	snprintf(buf, sizeof(buf),
		 "*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$63\r\n%s\r\n:1\r\n", host);
	load_ok(m, buf);
	host[63] = 'a';
	host[64] = '\0';
	snprintf(buf, sizeof(buf),
		 "*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$64\r\n%s\r\n:1\r\n", host);
	load_bad(buf);

	/* AP_BENCH_NODES_MAX nodes fit, one more does not. */
	for (int extra = 0; extra <= 1; extra++) {
		int n = AP_BENCH_NODES_MAX + extra;
		struct ap_bench_sb sb = {0};

		ap_bench_sb_printf(&sb, "*%d\r\n", n);
		for (int i = 0; i < n; i++)
			ap_bench_sb_printf(
				&sb,
				"*3\r\n:%d\r\n:%d\r\n*2\r\n$1\r\nh\r\n:%d\r\n",
				i, i, 1000 + i);
		ap_bench_sb_append(&sb, "", 1);
		if (extra == 0) {
			load_ok(m, sb.buf);
			ck_assert_int_eq(m->node_count, AP_BENCH_NODES_MAX);
		} else {
			load_bad(sb.buf);
		}
		ap_bench_sb_free(&sb);
	}
	free(m);
}
END_TEST

/* Decodes an error text and applies it. */
static int redirect(struct ap_bench_slots *m, const char *text,
		    const char *from)
{
	struct ap_client_redirect rd;

	ck_assert_int_ne(ap_client_redirect_parse(text, strlen(text), &rd),
			 AP_CLIENT_REDIRECT_NONE);
	return ap_bench_slots_redirect(m, &rd, from);
}

/* MOVED remaps the slot, ASK only names the node; new nodes are added. */
START_TEST(test_redirects)
{
	struct ap_bench_slots *m = malloc(sizeof(*m));

	load_ok(m, three_nodes);
	ck_assert_int_eq(redirect(m, "MOVED 0 127.0.0.1:30002", "x"), 1);
	ck_assert_uint_eq(m->owner[0], 1);
	ck_assert_uint_eq(m->owner[1], 0);
	ck_assert_int_eq(redirect(m, "ASK 1 127.0.0.1:30003", "x"), 2);
	ck_assert_uint_eq(m->owner[1], 0);
	/* a node first heard of in a redirect */
	ck_assert_int_eq(redirect(m, "MOVED 16383 127.0.0.2:30001", "x"), 3);
	ck_assert_int_eq(m->node_count, 4);
	ck_assert_str_eq(m->nodes[3].host, "127.0.0.2");
	ck_assert_uint_eq(m->owner[16383], 3);
	/* an unknown host is the answering node's */
	ck_assert_int_eq(redirect(m, "MOVED 7 :30003", "127.0.0.1"), 2);
	ck_assert_uint_eq(m->owner[7], 2);
	ck_assert_int_eq(redirect(m, "ASK 8 ?:30009", "127.0.0.1"), 4);
	ck_assert_str_eq(m->nodes[4].host, "127.0.0.1");
	ck_assert_uint_eq(m->owner[8], 0);
	/* ap_bench_slots_node bounds */
	ck_assert_int_eq(ap_bench_slots_node(m, "127.0.0.1", 30001), 0);
	ck_assert_int_eq(ap_bench_slots_node(m, "127.0.0.1", 0), -EINVAL);
	ck_assert_int_eq(ap_bench_slots_node(m, "127.0.0.1", 65536), -EINVAL);
	while (m->node_count < AP_BENCH_NODES_MAX)
		ck_assert_int_ge(ap_bench_slots_node(m, "h", 1 + m->node_count),
				 0);
	ck_assert_int_eq(redirect(m, "MOVED 9 n:1", "x"), -ENOSPC);
	ck_assert_uint_eq(m->owner[9], 0); /* unchanged */
	ck_assert_int_eq(redirect(m, "MOVED 9 127.0.0.1:30003", "x"), 2);
	free(m);
}
END_TEST

/* Randomized: redirects against a model holding "host:port" per slot. */
START_TEST(test_random_redirects)
{
	struct ap_bench_slots *m = malloc(sizeof(*m));
	static char model[AP_SLOTS][32];
	struct ap_bench_rng rng = {.s = 99};

	load_ok(m, three_nodes);
	for (unsigned s = 0; s < AP_SLOTS; s++)
		snprintf(model[s], sizeof(model[s]), "127.0.0.1:%d",
			 s <= 5460    ? 30001
			 : s <= 10922 ? 30002
				      : 30003);
	for (int i = 0; i < 20000; i++) {
		unsigned slot = (unsigned)ap_bench_rng_below(&rng, AP_SLOTS);
		int port = 30001 + (int)ap_bench_rng_below(&rng, 20);
		bool moved = ap_bench_rng_below(&rng, 3) != 0;
		bool unknown = ap_bench_rng_below(&rng, 10) == 0;
		char text[96];

		snprintf(text, sizeof(text), "%s %u %s:%d",
			 moved ? "MOVED" : "ASK", slot,
			 unknown ? "" : "127.0.0.1", port);
		int node = redirect(m, text, "127.0.0.1");

		ck_assert_int_ge(node, 0);
		ck_assert_int_eq(m->nodes[node].port, port);
		if (moved)
			snprintf(model[slot], sizeof(model[slot]),
				 "127.0.0.1:%d", port);
		/* check a few slots, and the one touched */
		for (int k = 0; k < 4; k++) {
			unsigned s = k == 0 ? slot
					    : (unsigned)ap_bench_rng_below(
						      &rng, AP_SLOTS);
			char have[96];
			const struct ap_bench_node *n = &m->nodes[m->owner[s]];

			snprintf(have, sizeof(have), "%s:%d", n->host, n->port);
			ck_assert_str_eq(have, model[s]);
		}
	}
	ck_assert_int_le(m->node_count, 20);
	for (unsigned s = 0; s < AP_SLOTS; s++) {
		char have[96];
		const struct ap_bench_node *n = &m->nodes[m->owner[s]];

		snprintf(have, sizeof(have), "%s:%d", n->host, n->port);
		ck_assert_str_eq(have, model[s]);
	}
	free(m);
}
END_TEST

static Suite *cluster_suite(void)
{
	Suite *s = suite_create("bench_cluster");
	TCase *tc = tcase_create("cluster");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_load);
	tcase_add_test(tc, test_load_bad);
	tcase_add_test(tc, test_redirects);
	tcase_add_test(tc, test_random_redirects);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cluster_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
