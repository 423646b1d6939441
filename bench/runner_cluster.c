/*
 * runner_cluster.c - apiary-bench's cluster mode (--cluster-mode) in the
 * load threads: route each request to the node serving its key's slot,
 * follow MOVED (remap the slot, send again) and ASK (send ASKING, then the
 * request, to the named node; the map stays), and open connections to
 * nodes first heard of in a redirect.
 *
 * Every client has one connection to every node and a window of
 * --pipeline requests over all of them. A redirected request keeps its
 * start time (its latency includes the detour) and its command, key and
 * value size; it waits in the client's redirect FIFO until the target
 * connection has room, ahead of any new request. A request redirected
 * AP_BENCH_REDIRECTS_MAX times counts as an error instead.
 *
 * MOVED and ASK are counted per command as they are followed; only a
 * redirect that is not followed counts as an error.
 */
#include "bench/runner_int.h"

#include <errno.h>
#include <string.h>

/* "ASKING" as a RESP command. */
static const char asking_cmd[] = "*1\r\n$6\r\nASKING\r\n";
#define ASKING_LEN (sizeof(asking_cmd) - 1)

/* The connection of client cl to node. */
static struct bconn *node_conn(struct bthread *th, const struct bclient *cl,
			       int node)
{
	return &th->conns[th->node_conn[node * th->nclients + cl->idx]];
}

/* Copies the start map and sizes the node-to-connection table. */
void ap_bench_cluster_init(struct bthread *th)
{
	th->slots = ap_malloc(sizeof(*th->slots));
	memcpy(th->slots, th->run->slots, sizeof(*th->slots));
	th->node_conn = ap_calloc((size_t)AP_BENCH_NODES_MAX * th->nclients,
				  sizeof(int));
	th->nodes_open = th->slots->node_count;
	AP_ASSERT(th->nodes_open > 0);
}

/* Sizes every client's redirect FIFO for the phase. */
void ap_bench_cluster_phase(struct bthread *th)
{
	for (int i = 0; i < th->nclients; i++) {
		struct bclient *cl = &th->clients[i];

		if (cl->r_mask + 1 < th->rcap_want || cl->retry == NULL) {
			ap_free(cl->retry);
			cl->retry =
				ap_calloc(th->rcap_want, sizeof(*cl->retry));
			cl->r_mask = th->rcap_want - 1;
		}
		cl->r_head = cl->r_tail = 0;
	}
}

/* Opens every client's connection to nodes learnt from redirects. */
int ap_bench_cluster_open_pending(struct bthread *th)
{
	while (th->nodes_open < th->slots->node_count) {
		int node = th->nodes_open;

		for (int i = 0; i < th->nclients; i++) {
			int ci = ap_bench_conn_open(th, i, node);

			if (ci < 0 ||
			    ap_bench_io_conn_add(th, &th->conns[ci]) < 0)
				return -EIO;
		}
		th->nodes_open++;
	}
	return 0;
}

/* Queues a request for (re)sending to a node. */
static void retry_push(struct bclient *cl, const struct req *r, int node,
		       bool ask)
{
	AP_ASSERT(cl->r_tail - cl->r_head <= cl->r_mask);
	struct retry *e = &cl->retry[cl->r_tail++ & cl->r_mask];

	e->r = *r;
	e->node = (uint16_t)node;
	e->ask = ask;
}

/* Encodes a request (a drawn one, or one to send again) into c. */
static void conn_put(struct bthread *th, struct bconn *c, struct req *r)
{
	const struct ap_bench_wl *wl = th->ph->wl;
	struct bclient *cl = &th->clients[r->client];
	struct ap_bench_draw d = {
		.cmd = r->cmd,
		.key = r->key,
		.dsize = r->dsize,
	};

	r->len = (uint32_t)ap_bench_wl_encode(wl, &cl->wc, &d,
					      c->sbuf + c->s_fill);
	c->s_fill += r->len;
	ap_bench_conn_push(c, r);
}

/* Sends queued redirects while their connections have room; false when
 * one must wait. */
static bool retries_send(struct bthread *th, struct bclient *cl)
{
	const struct ap_bench_wl *wl = th->ph->wl;

	while (cl->r_head != cl->r_tail) {
		struct retry *e = &cl->retry[cl->r_head & cl->r_mask];

		if (e->node >= th->nodes_open)
			return false;
		struct bconn *c = node_conn(th, cl, e->node);

		if (c->scap - c->s_fill < wl->req_max + ASKING_LEN)
			return false;
		if (e->ask) {
			struct req a = {
				.len = ASKING_LEN,
				.client = (uint32_t)cl->idx,
				.flags = REQ_ASKING,
			};

			memcpy(c->sbuf + c->s_fill, asking_cmd, ASKING_LEN);
			c->s_fill += ASKING_LEN;
			ap_bench_conn_push(c, &a);
		}
		conn_put(th, c, &e->r);
		cl->r_head++;
	}
	return true;
}

/* The node for a drawn request: its slot's owner; keyless commands and
 * unmapped slots go round the open nodes. */
static int route(struct bthread *th, const struct bclient *cl,
		 const struct ap_bench_draw *d)
{
	const struct ap_bench_wl *wl = th->ph->wl;
	unsigned owner = AP_BENCH_SLOT_NONE;

	if (wl->cmds[d->cmd].has_key)
		owner = th->slots->owner[ap_bench_wl_key_slot(wl, d->key)];
	if (owner == AP_BENCH_SLOT_NONE || (int)owner >= th->nodes_open)
		return (int)(cl->next_j % (uint64_t)th->nodes_open);
	return (int)owner;
}

/* Fills a client's connections; see runner_int.h. */
void ap_bench_cluster_fill(struct bthread *th, struct bclient *cl,
			   uint32_t window)
{
	const struct ap_bench_wl *wl = th->ph->wl;

	for (int n = 0; n < th->nodes_open; n++)
		ap_bench_conn_compact(node_conn(th, cl, n));
	bool free_to_draw = retries_send(th, cl);

	while (free_to_draw && cl->inflight < window) {
		uint64_t t0 = ap_bench_client_next_start(th, cl);
		struct ap_bench_draw d;

		if (t0 == 0)
			break;
		ap_bench_wl_draw(wl, &cl->wc, &d);
		int node = route(th, cl, &d);
		struct bconn *c = node_conn(th, cl, node);
		struct req r = {
			.t0 = t0,
			.key = d.key,
			.dsize = (uint32_t)d.dsize,
			.client = (uint32_t)cl->idx,
			.cmd = (uint8_t)d.cmd,
		};

		ap_bench_client_issue(th, cl, t0);
		if (c->scap - c->s_fill < wl->req_max) {
			/* No room on that node: the request waits its turn
			 * (drawn already, so the workload stays the same). */
			retry_push(cl, &r, node, false);
			break;
		}
		conn_put(th, c, &r);
	}
	for (int n = 0; n < th->nodes_open; n++)
		ap_bench_conn_flush(th, node_conn(th, cl, n));
}

/* Follows a MOVED or ASK; see runner_int.h. */
bool ap_bench_cluster_redirect(struct bthread *th, struct bconn *c,
			       const struct req *r,
			       const struct ap_client_reply *rep)
{
	struct ap_client_redirect rd;
	struct bclient *cl = &th->clients[r->client];

	if (ap_client_redirect_parse(rep->text, rep->text_len, &rd) ==
		    AP_CLIENT_REDIRECT_NONE ||
	    r->redirects >= AP_BENCH_REDIRECTS_MAX)
		return false;
	int node = ap_bench_slots_redirect(th->slots, &rd,
					   th->slots->nodes[c->node].host);

	if (node < 0)
		return false; /* too many nodes: counted as an error */
	if (r->t0 >= th->ph->t_measure) {
		struct ap_bench_cmd_stats *s = &th->stats[r->cmd];

		if (rd.kind == AP_CLIENT_REDIRECT_MOVED)
			s->moved++;
		else
			s->ask++;
	}
	struct req again = *r;

	again.redirects++;
	retry_push(cl, &again, node, rd.kind == AP_CLIENT_REDIRECT_ASK);
	ap_bench_client_dirty(th, cl);
	return true;
}
