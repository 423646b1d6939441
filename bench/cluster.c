/*
 * cluster.c - apiary-bench's map of a Redis Cluster (--cluster-mode):
 * slots to nodes from CLUSTER SLOTS, corrected by MOVED redirects.
 *
 * CLUSTER SLOTS replies with one entry per slot range:
 *   [start, end, [host, port, id, ...], [replica host, port, ...], ...]
 * Only the first node of each range (the primary) serves the bench. The
 * map is plain data: the load threads each keep a copy and update it
 * without locks.
 */
#include "bench/bench.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

/* Formats an error message into err. */
static int slots_fail(char *err, size_t err_size, const char *fmt, ...)
	AP_PRINTF(3, 4);

static int slots_fail(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Empties the map. */
void ap_bench_slots_init(struct ap_bench_slots *m)
{
	memset(m, 0, sizeof(*m));
	for (unsigned s = 0; s < AP_SLOTS; s++)
		m->owner[s] = AP_BENCH_SLOT_NONE;
}

/* True when a server did not say where the node is ("", "?"). */
static bool host_unknown(const char *host, size_t len)
{
	return len == 0 || (len == 1 && host[0] == '?');
}

/* Finds or adds a node by host (len bytes) and port. */
static int node_find_add(struct ap_bench_slots *m, const char *host, size_t len,
			 int port)
{
	if (len >= sizeof(m->nodes[0].host) || port <= 0 || port > 65535)
		return -EINVAL;
	for (int i = 0; i < m->node_count; i++)
		if (m->nodes[i].port == port &&
		    strlen(m->nodes[i].host) == len &&
		    memcmp(m->nodes[i].host, host, len) == 0)
			return i;
	if (m->node_count == AP_BENCH_NODES_MAX)
		return -ENOSPC;
	struct ap_bench_node *n = &m->nodes[m->node_count];

	memcpy(n->host, host, len);
	n->host[len] = '\0';
	n->port = port;
	return m->node_count++;
}

/* The index of host:port, added if new; see bench.h. */
int ap_bench_slots_node(struct ap_bench_slots *m, const char *host, int port)
{
	return node_find_add(m, host, strlen(host), port);
}

/* The primary of one CLUSTER SLOTS entry: [host, port, ...]. */
static int entry_node(struct ap_bench_slots *m, const struct ap_client_value *n,
		      const char *from_host, char *err, size_t err_size)
{
	const struct ap_client_value *h, *p;

	if (n->type != '*' || n->is_null || n->elem_count < 2)
		return slots_fail(err, err_size,
				  "CLUSTER SLOTS: a node is not [host, port]");
	h = &n->elems[0];
	p = &n->elems[1];
	if (p->type != ':' ||
	    (h->type != '$' && h->type != '+' && h->type != '_'))
		return slots_fail(err, err_size,
				  "CLUSTER SLOTS: a node is not [host, port]");
	const char *host = h->is_null ? "" : h->str;
	size_t len = h->is_null ? 0 : h->str_len;

	if (host_unknown(host, len)) {
		host = from_host;
		len = strlen(from_host);
	}
	int idx = node_find_add(m, host, len,
				p->integer > INT32_MAX ? -1 : (int)p->integer);

	if (idx == -ENOSPC)
		return slots_fail(err, err_size,
				  "CLUSTER SLOTS: more than %d nodes",
				  AP_BENCH_NODES_MAX);
	if (idx < 0)
		return slots_fail(err, err_size,
				  "CLUSTER SLOTS: bad node address %.*s:%lld",
				  (int)AP_MIN(len, 64), host, p->integer);
	return idx;
}

/* Fills the map from a decoded CLUSTER SLOTS reply; see bench.h. */
int ap_bench_slots_load(struct ap_bench_slots *m,
			const struct ap_client_value *v, const char *from_host,
			char *err, size_t err_size)
{
	size_t served = 0;

	ap_bench_slots_init(m);
	if (v->type != '*' || v->is_null)
		return slots_fail(err, err_size,
				  "CLUSTER SLOTS did not reply with an array");
	for (size_t i = 0; i < v->elem_count; i++) {
		const struct ap_client_value *e = &v->elems[i];

		if (e->type != '*' || e->is_null || e->elem_count < 3 ||
		    e->elems[0].type != ':' || e->elems[1].type != ':')
			return slots_fail(err, err_size,
					  "CLUSTER SLOTS: entry %zu is not "
					  "[start, end, node, ...]",
					  i);
		long long lo = e->elems[0].integer, hi = e->elems[1].integer;

		if (lo < 0 || hi < lo || hi >= AP_SLOTS)
			return slots_fail(err, err_size,
					  "CLUSTER SLOTS: bad slot range "
					  "%lld-%lld",
					  lo, hi);
		int node =
			entry_node(m, &e->elems[2], from_host, err, err_size);

		if (node < 0)
			return node;
		for (long long s = lo; s <= hi; s++) {
			served += m->owner[s] == AP_BENCH_SLOT_NONE;
			m->owner[s] = (uint16_t)node;
		}
	}
	if (served == 0)
		return slots_fail(err, err_size,
				  "CLUSTER SLOTS lists no slot: is the "
				  "cluster set up?");
	return 0;
}

/* The node a MOVED or ASK names; see bench.h. */
int ap_bench_slots_redirect(struct ap_bench_slots *m,
			    const struct ap_client_redirect *rd,
			    const char *from_host)
{
	const char *host = rd->host;
	size_t len = strlen(host);

	AP_ASSERT(rd->kind != AP_CLIENT_REDIRECT_NONE && rd->slot < AP_SLOTS);
	if (host_unknown(host, len)) {
		host = from_host;
		len = strlen(from_host);
	}
	int idx = node_find_add(m, host, len, rd->port);

	if (idx >= 0 && rd->kind == AP_CLIENT_REDIRECT_MOVED)
		m->owner[rd->slot] = (uint16_t)idx;
	return idx;
}
