/*
 * cmd_config.c - CONFIG GET, SET, RESETSTAT, REWRITE and HELP (Redis 7
 * semantics).
 *
 * Every subcommand runs on the calling client's shard (AP_CMD_SERVER).
 * Each shard keeps its own copy of the configuration: GET reads the
 * caller's copy; SET validates every directive on a scratch copy (all or
 * nothing) and then fans the whole new configuration out so that each
 * shard adopts it on its own thread; RESETSTAT zeroes each shard's
 * statistics the same way. Helpers shared with INFO, CLIENT and COMMAND
 * are in cmd_introspect.c (see introspect_int.h).
 */
#include "shards/introspect_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SRV AP_CMD_SERVER

/* The directives CONFIG GET collected, in order found, each once; the
 * values are owned copies (names point into the config table). */
struct config_pairs {
	struct {
		const char *name;
		char *value;
	} * v;
	size_t n, cap;
};

/* ap_config_get callback: keeps each directive once. */
static void config_get_add(void *arg, const char *name, const char *value)
{
	struct config_pairs *ps = arg;
	for (size_t i = 0; i < ps->n; i++)
		if (!strcmp(ps->v[i].name, name))
			return;
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 32;
		ps->v = ap_realloc(ps->v, ps->cap * sizeof(*ps->v));
	}
	ps->v[ps->n].name = name;
	ps->v[ps->n].value = ap_strdup(value);
	ps->n++;
}

/* CONFIG GET pattern [pattern ...]: a map of every directive matching
 * some pattern (each once) to its value, from this shard's copy. */
static void cmd_config_get(struct ap_cmd_ctx *c)
{
	struct config_pairs ps = {0};
	for (int i = 2; i < c->argc; i++)
		ap_config_get(c->cfg, c->argv[i].p, c->argv[i].len,
			      config_get_add, &ps);
	ap_reply_map(c->r, ps.n);
	for (size_t i = 0; i < ps.n; i++) {
		ap_reply_bulk_cstr(c->r, ps.v[i].name);
		ap_reply_bulk_cstr(c->r, ps.v[i].value);
		ap_free(ps.v[i].value);
	}
	ap_free(ps.v);
}

/* Fan-out step of CONFIG SET: argv[0] holds a whole struct ap_config;
 * the shard adopts it and applies what has side effects. */
static void config_apply(struct ap_shard *s, struct ap_fanout *f)
{
	AP_ASSERT(f->argc == 1 && f->argv[0].len == sizeof(s->cfg));
	bool aof_was = s->cfg.appendonly;
	memcpy(&s->cfg, f->argv[0].p, sizeof(s->cfg));
	/* appendonly no: the log stops after what it holds. yes: shard 0's
	 * cron starts the rewrite that opens every shard's log (psnap.c). */
	if (aof_was && !s->cfg.appendonly) {
		atomic_store(&s->srv->aof_enabled, 0);
		ap_plog_stop(s, false);
	}
	ap_keyspace_set_active_expire(s->ks, s->cfg.active_expire);
	if (s->plog.on) {
		s->plog.always = strcmp(s->cfg.appendfsync, "always") == 0;
		s->plog.everysec = strcmp(s->cfg.appendfsync, "everysec") == 0;
	}
	if (s->id == 0)
		ap_log_set_level(s->cfg.loglevel);
}

/* True if the directive name at argv[i] appears earlier in the call. */
static bool config_set_dup(const struct ap_cmd_ctx *c, int i)
{
	for (int j = 2; j < i; j += 2)
		if (c->argv[j].len == c->argv[i].len &&
		    strncasecmp(c->argv[j].p, c->argv[i].p, c->argv[i].len) ==
			    0)
			return true;
	return false;
}

/* CONFIG SET directive value [...]: all or nothing. Every pair is
 * applied to a scratch copy first; the first failure replies its error
 * and changes nothing; else every shard adopts the copy. */
static void cmd_config_set(struct ap_cmd_ctx *c)
{
	char err[512], a[130];
	if (c->argc % 2) {
		ap_reply_error(c->r, "ERR wrong number of arguments for "
				     "'config|set' command");
		return;
	}
	struct ap_config *scratch = ap_malloc(sizeof(*scratch));
	*scratch = *c->cfg;
	for (int i = 2; i < c->argc; i += 2) {
		const struct ap_arg *n = &c->argv[i], *v = &c->argv[i + 1];
		int rc = 0;
		err[0] = '\0';
		if (config_set_dup(c, i)) {
			snprintf(err, sizeof(err), "duplicate parameter");
			rc = -EINVAL;
		} else {
			rc = ap_config_set(scratch, n->p, n->len, v->p, v->len,
					   err, sizeof(err));
		}
		if (rc == -ENOENT) {
			ap_reply_error(c->r, err);
		} else if (rc != 0) {
			ap_introspect_reply_errf(
				c->r,
				"ERR CONFIG SET failed (possibly related to "
				"argument '%s') - %s",
				ap_introspect_arg_show(n, a, sizeof(a)), err);
		}
		if (rc != 0) {
			ap_free(scratch);
			return;
		}
	}
	struct ap_arg blob = {.p = (const char *)scratch,
			      .len = sizeof(*scratch)};
	ap_fanout_start_all(c, config_apply, ap_fanout_done_ok, 1, &blob, NULL);
	ap_free(scratch); /* the fan-out holds its own copy */
}

/* Fan-out step of CONFIG RESETSTAT: zeroes the shard's statistics
 * (commands, errors, connections, network, keyspace hits and misses,
 * expired keys, peak memory). */
static void stats_reset(struct ap_shard *s, struct ap_fanout *f)
{
	struct ap_shard_stats *st = &s->st;
	struct ap_keyspace_stats *ks = ap_keyspace_stats(s->ks);
	memset(s->cmdstats, 0, ap_shard_cmdstat_count() * sizeof(*s->cmdstats));
	memset(s->errstats, 0, sizeof(s->errstats));
	s->errstat_count = 0;
	s->errors_total = 0;
	st->commands = 0;
	st->conns_received = 0;
	st->conns_rejected = 0;
	st->msgs_in = 0;
	st->msgs_out = 0;
	st->wakeups_sent = 0;
	st->batches_out = 0;
	st->net_in = 0;
	st->net_out = 0;
	st->net_out_base = ap_net_loop_bytes_out(s->loop);
	st->ops_sample_prev = 0;
	st->ops_sample_ms = s->now_ms;
	st->ops_per_sec = 0;
	ks->hits = 0;
	ks->misses = 0;
	ks->expired = 0;
	ks->expire_cycles = 0;
	s->mem_peak = 0;
}

/* CONFIG RESETSTAT: zeroes every shard's statistics. */
static void cmd_config_resetstat(struct ap_cmd_ctx *c)
{
	ap_fanout_start_all(c, stats_reset, ap_fanout_done_ok, 0, NULL, NULL);
}

/* CONFIG REWRITE: writes the running configuration to the config file
 * (an error if there is none or it cannot be written). */
static void cmd_config_rewrite(struct ap_cmd_ctx *c)
{
	char err[512];
	if (ap_config_rewrite(c->cfg, err, sizeof(err)) != 0) {
		ap_reply_error(c->r, err);
		return;
	}
	ap_log(AP_LOG_NOTICE, "CONFIG REWRITE executed with success.");
	ap_reply_ok(c->r);
}

/* CONFIG HELP. */
static void cmd_config_help(struct ap_cmd_ctx *c)
{
	static const char *const lines[] = {
		"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands "
		"are:",
		"GET <pattern> [<pattern> ...]",
		"    Return the directives matching the glob-like patterns and "
		"their values.",
		"SET <directive> <value> [<directive> <value> ...]",
		"    Set directives to values, all or none of them.",
		"RESETSTAT",
		"    Reset the statistics reported by INFO.",
		"REWRITE",
		"    Write the running configuration back to the config file.",
		"HELP",
		"    Print this help.",
		NULL,
	};
	ap_introspect_reply_help(c->r, lines);
}

/* --- table --------------------------------------------------------------- */

/* clang-format off */
#define ADMIN_SUB (SRV | AP_CMD_ADMIN | AP_CMD_NOSCRIPT | AP_CMD_LOADING |    \
		   AP_CMD_STALE)

const struct ap_cmd ap_introspect_config_subcmds[] = {
	{.name = "get", .arity = -3, .flags = ADMIN_SUB, .fn = cmd_config_get,
	 .group = "server",
	 .summary = "Returns the effective values of configuration "
		    "parameters.",
	 .since = "2.0.0",
	 .complexity = "O(N) when N is the number of configuration "
		       "parameters provided",
	 .acl_categories = "@admin @slow @dangerous"},
	{.name = "set", .arity = -4, .flags = ADMIN_SUB, .fn = cmd_config_set,
	 .group = "server",
	 .summary = "Sets configuration parameters in-flight.",
	 .since = "2.0.0",
	 .complexity = "O(N) when N is the number of configuration "
		       "parameters provided",
	 .acl_categories = "@admin @slow @dangerous"},
	{.name = "resetstat", .arity = 2, .flags = ADMIN_SUB,
	 .fn = cmd_config_resetstat, .group = "server",
	 .summary = "Resets the server's statistics.", .since = "2.0.0",
	 .complexity = "O(1)", .acl_categories = "@admin @slow @dangerous"},
	{.name = "rewrite", .arity = 2, .flags = ADMIN_SUB,
	 .fn = cmd_config_rewrite, .group = "server",
	 .summary = "Persists the effective configuration to file.",
	 .since = "2.8.0", .complexity = "O(1)",
	 .acl_categories = "@admin @slow @dangerous"},
	{.name = "help", .arity = 2,
	 .flags = SRV | AP_CMD_LOADING | AP_CMD_STALE, .fn = cmd_config_help,
	 .group = "server", .summary = "Returns helpful text about the "
	 "different subcommands.", .since = "5.0.0", .complexity = "O(1)",
	 .acl_categories = "@slow"},
	{.name = NULL},
};
/* clang-format on */
