/*
 * shutdown.c - SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT], and SIGTERM
 * or SIGINT: a final snapshot when one is due, then the stop.
 *
 * What is saved, as Redis: with `save` rules configured (or SHUTDOWN SAVE)
 * a snapshot is taken before the server stops, unless NOSAVE. With
 * `appendonly yes` the log already holds every acknowledged write (it is
 * written out and fsynced at the stop), so only SAVE asks for more: a log
 * rewrite, which leaves a compact base for the next start.
 *
 * The final snapshot is the forkless one (psnap.c), run by the shard that
 * took the SHUTDOWN (shard 0 for a signal). Redis blocks while it saves;
 * here the shards keep answering reads, but every shard holds write
 * commands from the moment the shutdown begins (a pause, as CLIENT PAUSE
 * WRITE), so that nothing is acknowledged that the snapshot would miss.
 * Then:
 *   - the snapshot worked (or FORCE): the server stops; the SHUTDOWN
 *     client gets no reply, its connection closes, as in Redis;
 *   - it failed: "-ERR Errors trying to SHUTDOWN. Check logs." and the
 *     server goes on (for a signal: a log line), writes flow again;
 *   - SHUTDOWN ABORT came meanwhile: the same, once the snapshot ends.
 * A second signal during the final snapshot stops at once.
 *
 * Threading: the shutdown's state belongs to its home shard (s->shutdown);
 * other shards only run the pause messages it sends. The server's flags
 * are atomic: a signal handler sets one, any shard may ask for an abort.
 */
#include "shards/shards_int.h"

#include <string.h>

#define SD_ERR "ERR Errors trying to SHUTDOWN. Check logs."

/* Holds or releases write commands on one shard. */
struct sd_msg {
	struct ap_msg m;
	bool on;
};

struct ap_shutdown {
	struct ap_client *c; /* the SHUTDOWN client, or NULL for a signal */
	bool force;
	bool aof;     /* the snapshot is a log rewrite */
	bool started; /* the snapshot runs (else: waits for another one) */
	struct sd_msg *msgs; /* [nshards] */
};

static void pause_run(struct ap_shard *s, struct ap_msg *m)
{
	struct sd_msg *sm = (struct sd_msg *)m;
	s->shutdown_pause = sm->on;
	if (!sm->on && s->paused_clients)
		ap_client_pause_check(s); /* writes flow again */
}

/* Holds (on) or releases writes on every shard. */
static void pause_all(struct ap_shard *home, struct ap_shutdown *sd, bool on)
{
	for (int i = 0; i < home->srv->nshards; i++) {
		struct sd_msg *sm = &sd->msgs[i];
		memset(&sm->m, 0, sizeof(sm->m));
		sm->m.home = (uint16_t)home->id;
		sm->m.run = pause_run;
		sm->on = on;
		if (i == home->id)
			pause_run(home, &sm->m);
		else
			ap_shard_send(home, i, &sm->m);
	}
}

/* The shutdown ends without a stop: the client hears why, writes flow. */
static void shutdown_fail(struct ap_shard *home, const char *why)
{
	struct ap_shutdown *sd = home->shutdown;
	struct ap_server *srv = home->srv;
	if (sd->c) {
		struct ap_client *c = sd->c;
		ap_reply_error(&c->reply, SD_ERR);
		c->flags &= ~AP_CF_WAITING;
		ap_client_msg_back(c);
	} else {
		ap_log(AP_LOG_WARNING,
		       "SIGTERM received but errors trying to shut down the "
		       "server, check the logs for more information");
	}
	ap_log(AP_LOG_WARNING, "shutdown not done: %s", why);
	pause_all(home, sd, false);
	/* The pause messages may still be queued: they are freed with the
	 * shard (ap_shutdown_deinit) or reused by the next shutdown. */
	home->shutdown_spent = sd;
	home->shutdown = NULL;
	atomic_store(&srv->shutdown_signals, 0);
	atomic_store(&srv->shutdown_abort, 0);
	atomic_store(&srv->shutdown_busy, 0);
}

/* The server stops; the client's connection closes with it. */
static void shutdown_stop(struct ap_shard *home)
{
	struct ap_shutdown *sd = home->shutdown;
	if (sd && sd->c) { /* no reply: the connection closes */
		struct ap_client *c = sd->c;
		sd->c = NULL;
		c->flags |= AP_CF_CLOSE_ASAP;
		c->flags &= ~AP_CF_WAITING;
		ap_client_msg_back(c);
	}
	ap_log(AP_LOG_NOTICE, "Shutting down: stopping every shard");
	ap_server_request_stop(home->srv);
}

/* Starts a shutdown on home (c: the SHUTDOWN client, or NULL for a
 * signal). Returns false if another one runs. */
static bool shutdown_begin(struct ap_shard *home, struct ap_client *c,
			   bool save, bool nosave, bool force)
{
	struct ap_server *srv = home->srv;
	int expected = 0;
	if (!atomic_compare_exchange_strong(&srv->shutdown_busy, &expected, 1))
		return false;
	bool aof = atomic_load(&srv->aof_enabled); /* the log holds all */
	/* appendonly turned on, its first rewrite not done: finish it. */
	bool aof_first = home->cfg.appendonly && !aof;
	bool snapshot =
		!nosave && (save || aof_first || (!aof && home->cfg.save[0]));
	if (!snapshot) {
		ap_log(AP_LOG_NOTICE,
		       aof ? "Shutting down: the append-only log is written "
			     "out and fsynced"
			   : "Shutting down without saving (no save rules)");
		if (c)
			c->flags |= AP_CF_CLOSE_ASAP;
		shutdown_stop(home);
		return true;
	}
	struct ap_shutdown *sd = home->shutdown_spent;
	home->shutdown_spent = NULL;
	if (!sd) {
		sd = ap_calloc(1, sizeof(*sd));
		sd->msgs = ap_calloc((size_t)srv->nshards, sizeof(*sd->msgs));
	}
	sd->c = c;
	sd->force = force;
	sd->aof = aof || aof_first;
	sd->started = false;
	home->shutdown = sd;
	if (c) {
		c->flags |= AP_CF_WAITING;
		c->inflight++;
	}
	ap_log(AP_LOG_NOTICE, "Saving the final snapshot before exiting.");
	pause_all(home, sd, true);
	ap_shutdown_cron(home); /* starts it now if no snapshot runs */
	return true;
}

void ap_shutdown_cron(struct ap_shard *s)
{
	struct ap_server *srv = s->srv;
	struct ap_shutdown *sd = s->shutdown;
	if (!sd) {
		/* Shard 0 takes the signals. */
		if (s->id == 0 && atomic_load(&srv->shutdown_signals) &&
		    !atomic_load(&srv->shutdown_busy) &&
		    !shutdown_begin(s, NULL, false, false, false))
			atomic_store(&srv->shutdown_signals, 0);
		return;
	}
	if (atomic_load(&srv->snap_busy))
		return; /* the final one, or an earlier one, still runs */
	if (!sd->started) {
		if (atomic_load(&srv->shutdown_abort)) {
			shutdown_fail(s, "SHUTDOWN ABORT");
			return;
		}
		sd->started = ap_psnap_start(s, NULL, sd->aof, false);
		return;
	}
	int status = atomic_load(&srv->snap_status);
	if (atomic_load(&srv->shutdown_abort)) {
		shutdown_fail(s, "SHUTDOWN ABORT");
	} else if (status && !sd->force) {
		shutdown_fail(s, strerror(status));
	} else {
		if (status)
			ap_log(AP_LOG_WARNING,
			       "the final snapshot failed (%s); stopping "
			       "anyway (FORCE)",
			       strerror(status));
		else
			ap_log(AP_LOG_NOTICE, "DB saved on disk");
		shutdown_stop(s);
	}
}

void ap_shutdown_signal(struct ap_server *srv)
{
	/* Async-signal-safe: atomics and the loops' wake-up writes. */
	if (atomic_fetch_add(&srv->shutdown_signals, 1) > 0 ||
	    !atomic_load(&srv->persist_go)) {
		ap_server_request_stop(srv); /* again, or still loading */
		return;
	}
	if (atomic_load(&srv->shards[0].ready) == 1 && srv->shards[0].loop)
		ap_net_loop_wake(srv->shards[0].loop);
}

void ap_shutdown_deinit(struct ap_shard *s)
{
	struct ap_shutdown *sds[2] = {s->shutdown, s->shutdown_spent};
	for (int i = 0; i < 2; i++) {
		if (!sds[i])
			continue;
		ap_free(sds[i]->msgs);
		ap_free(sds[i]);
	}
	s->shutdown = s->shutdown_spent = NULL;
}

/* SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT] */
static void cmd_shutdown(struct ap_cmd_ctx *c)
{
	bool save = false, nosave = false, force = false, abort_ = false;
	for (int i = 1; i < c->argc; i++) {
		const struct ap_arg *a = &c->argv[i];
		if (ap_arg_eq(a, "nosave")) {
			nosave = true;
		} else if (ap_arg_eq(a, "save")) {
			save = true;
		} else if (ap_arg_eq(a, "now")) {
			/* No replicas to wait for: nothing to skip. */
		} else if (ap_arg_eq(a, "force")) {
			force = true;
		} else if (ap_arg_eq(a, "abort")) {
			abort_ = true;
		} else {
			ap_reply_error(c->r, AP_ERR_SYNTAX);
			return;
		}
	}
	if ((save && nosave) || (abort_ && (save || nosave || force))) {
		ap_reply_error(c->r, AP_ERR_SYNTAX);
		return;
	}
	struct ap_client *cl = c->client;
	struct ap_server *srv = cl->shard->srv;
	if (abort_) {
		if (!atomic_load(&srv->shutdown_busy) ||
		    atomic_load(&srv->stop)) {
			ap_reply_error(c->r, "ERR No shutdown in progress.");
			return;
		}
		atomic_store(&srv->shutdown_abort, 1);
		ap_reply_ok(c->r);
		return;
	}
	ap_log(AP_LOG_WARNING, "User requested shutdown...");
	if (!shutdown_begin(cl->shard, cl, save, nosave, force))
		ap_reply_error(c->r, SD_ERR); /* another one runs */
}

/* clang-format off */
const struct ap_cmd ap_cmds_shutdown[] = {
	{.name = "shutdown", .arity = -1,
	 .flags = AP_CMD_SERVER | AP_CMD_ADMIN | AP_CMD_NO_MULTI |
		  AP_CMD_NOSCRIPT | AP_CMD_LOADING | AP_CMD_STALE,
	 .fn = cmd_shutdown, .group = "server",
	 .summary = "Synchronously saves the database(s) to disk and shuts "
		    "down the Redis server.",
	 .since = "1.0.0", .complexity = "O(N) when saving, where N is the "
	 "total number of keys in all databases when saving data, otherwise "
	 "O(1)",
	 .acl_categories = "@admin @slow @dangerous"},
	{.name = NULL},
};
/* clang-format on */
