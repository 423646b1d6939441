/*
 * cmd_command.c - COMMAND, COMMAND COUNT, DOCS, GETKEYS, INFO, LIST and
 * HELP (Redis 7 reply shapes).
 *
 * These read only the command table, which is written once before the
 * shards start and is read-only afterwards, so they answer on the calling
 * client's shard without a fan-out. Helpers shared with INFO, CLIENT and
 * CONFIG are in cmd_introspect.c (see introspect_int.h).
 */
#include "shards/introspect_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ACL categories of one command. */
#define ACL_CATS_MAX 32

/* Finds a command by "name" or "container|sub" (COMMAND INFO/DOCS). */
static const struct ap_cmd *lookup_full(const struct ap_arg *a,
					const struct ap_cmd **parent)
{
	const char *bar = memchr(a->p, '|', a->len);
	*parent = NULL;
	if (!bar)
		return ap_cmd_lookup(a->p, a->len);
	const struct ap_cmd *base = ap_cmd_lookup(a->p, (size_t)(bar - a->p));
	size_t rlen = a->len - (size_t)(bar - a->p) - 1;
	if (!base || !base->subcmds || memchr(bar + 1, '|', rlen))
		return NULL;
	const struct ap_cmd *sub = ap_cmd_sub_lookup(base, bar + 1, rlen);
	if (sub)
		*parent = base;
	return sub;
}

static const struct {
	uint32_t flag;
	const char *name;
} cmd_flag_names[] = {
	{AP_CMD_WRITE, "write"},
	{AP_CMD_READONLY, "readonly"},
	{AP_CMD_DENYOOM, "denyoom"},
	{AP_CMD_ADMIN, "admin"},
	{AP_CMD_PUBSUB, "pubsub"},
	{AP_CMD_NOSCRIPT, "noscript"},
	{AP_CMD_BLOCKING, "blocking"},
	{AP_CMD_LOADING, "loading"},
	{AP_CMD_STALE, "stale"},
	{AP_CMD_FAST, "fast"},
	{AP_CMD_NO_AUTH, "no_auth"},
	{AP_CMD_MAY_REPLICATE, "may_replicate"},
	{AP_CMD_NO_MULTI, "no_multi"},
	{AP_CMD_MOVABLE_KEYS, "movablekeys"},
	{AP_CMD_ALLOW_BUSY, "allow_busy"},
};

/* Replies cmd's flags as a set of status words (Redis's names). */
static void reply_cmd_flags(struct ap_reply *r, const struct ap_cmd *cmd)
{
	size_t n = 0;
	for (size_t i = 0; i < AP_ARRAY_LEN(cmd_flag_names); i++)
		n += (cmd->flags & cmd_flag_names[i].flag) != 0;
	ap_reply_set(r, n);
	for (size_t i = 0; i < AP_ARRAY_LEN(cmd_flag_names); i++)
		if (cmd->flags & cmd_flag_names[i].flag)
			ap_reply_status(r, cmd_flag_names[i].name);
}

/* A command's ACL categories ("@write", ...): from its table entry, or
 * derived from its flags as Redis does when none are given. Returns the
 * count written to out (at most ACL_CATS_MAX). */
static size_t acl_cats(const struct ap_cmd *cmd, struct ap_arg *out)
{
	size_t n = 0;
	if (cmd->acl_categories) {
		const char *p = cmd->acl_categories;
		while (*p && n < ACL_CATS_MAX) {
			while (*p == ' ')
				p++;
			const char *b = p;
			while (*p && *p != ' ')
				p++;
			if (p > b)
				out[n++] = (struct ap_arg){b, (size_t)(p - b)};
		}
		return n;
	}
	static const struct {
		uint32_t flag;
		const char *cat;
	} derived[] = {
		{AP_CMD_WRITE, "@write"},	{AP_CMD_READONLY, "@read"},
		{AP_CMD_ADMIN, "@admin"},	{AP_CMD_ADMIN, "@dangerous"},
		{AP_CMD_PUBSUB, "@pubsub"},	{AP_CMD_FAST, "@fast"},
		{AP_CMD_BLOCKING, "@blocking"},
	};
	for (size_t i = 0; i < AP_ARRAY_LEN(derived); i++)
		if (cmd->flags & derived[i].flag)
			out[n++] = (struct ap_arg){derived[i].cat,
						   strlen(derived[i].cat)};
	if (!(cmd->flags & AP_CMD_FAST))
		out[n++] = (struct ap_arg){"@slow", 5};
	return n;
}

/* Replies cmd's ACL categories as a set of status words. */
static void reply_acl_cats(struct ap_reply *r, const struct ap_cmd *cmd)
{
	struct ap_arg cats[ACL_CATS_MAX];
	size_t n = acl_cats(cmd, cats);
	char buf[64];
	ap_reply_set(r, n);
	for (size_t i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%.*s", (int)cats[i].len, cats[i].p);
		ap_reply_status(r, buf);
	}
}

/* Key specifications: one index/range spec from the legacy key range;
 * none for commands without keys or with movable keys. */
static void reply_key_specs(struct ap_reply *r, const struct ap_cmd *cmd)
{
	if (cmd->first_key <= 0 || (cmd->flags & AP_CMD_MOVABLE_KEYS)) {
		ap_reply_array(r, 0);
		return;
	}
	int step = cmd->key_step > 0 ? cmd->key_step : 1;
	int last = cmd->last_key < 0 ? cmd->last_key
				     : cmd->last_key - cmd->first_key;
	ap_reply_array(r, 1);
	ap_reply_map(r, 3);
	ap_reply_bulk_cstr(r, "flags");
	ap_reply_set(r, 1);
	ap_reply_status(r, (cmd->flags & AP_CMD_WRITE) ? "RW" : "RO");
	ap_reply_bulk_cstr(r, "begin_search");
	ap_reply_map(r, 2);
	ap_reply_bulk_cstr(r, "type");
	ap_reply_bulk_cstr(r, "index");
	ap_reply_bulk_cstr(r, "spec");
	ap_reply_map(r, 1);
	ap_reply_bulk_cstr(r, "index");
	ap_reply_int(r, cmd->first_key);
	ap_reply_bulk_cstr(r, "find_keys");
	ap_reply_map(r, 2);
	ap_reply_bulk_cstr(r, "type");
	ap_reply_bulk_cstr(r, "range");
	ap_reply_bulk_cstr(r, "spec");
	ap_reply_map(r, 3);
	ap_reply_bulk_cstr(r, "lastkey");
	ap_reply_int(r, last);
	ap_reply_bulk_cstr(r, "keystep");
	ap_reply_int(r, step);
	ap_reply_bulk_cstr(r, "limit");
	ap_reply_int(r, 0);
}

/* Number of cmd's subcommands (0 for a plain command). */
static size_t subcmd_count(const struct ap_cmd *cmd)
{
	size_t n = 0;
	for (const struct ap_cmd *s = cmd->subcmds; s && s->name; s++)
		n++;
	return n;
}

/* One command in COMMAND INFO's shape (10 fields, Redis 7). */
static void reply_cmd_info(struct ap_reply *r, const struct ap_cmd *cmd,
			   const struct ap_cmd *parent)
{
	char name[AP_INTROSPECT_FULLNAME_MAX];
	bool keys = cmd->first_key > 0;
	ap_reply_array(r, 10);
	ap_reply_bulk_cstr(
		r, ap_introspect_full_name(cmd, parent, name, sizeof(name)));
	ap_reply_int(r, cmd->arity);
	reply_cmd_flags(r, cmd);
	ap_reply_int(r, keys ? cmd->first_key : 0);
	ap_reply_int(r, keys ? cmd->last_key : 0);
	ap_reply_int(r, keys ? (cmd->key_step > 0 ? cmd->key_step : 1) : 0);
	reply_acl_cats(r, cmd);
	ap_reply_set(r, 0); /* tips */
	reply_key_specs(r, cmd);
	ap_reply_array(r, subcmd_count(cmd));
	for (const struct ap_cmd *s = cmd->subcmds; s && s->name; s++)
		reply_cmd_info(r, s, cmd);
}

/* Every top-level command's info (COMMAND, COMMAND INFO without names). */
static void reply_all_cmd_info(struct ap_reply *r)
{
	ap_reply_array(r, ap_cmd_count());
	for (size_t i = 0; i < ap_cmd_count(); i++)
		reply_cmd_info(r, ap_cmd_at(i), NULL);
}

/* COMMAND: every top-level command's info. */
void ap_introspect_cmd_command(struct ap_cmd_ctx *c)
{
	reply_all_cmd_info(c->r);
}

/* COMMAND COUNT: the number of top-level commands. */
static void cmd_command_count(struct ap_cmd_ctx *c)
{
	ap_reply_int(c->r, (long long)ap_cmd_count());
}

/* COMMAND INFO [name ...]: the named commands' info (null for an
 * unknown name), or every command's without names. */
static void cmd_command_info(struct ap_cmd_ctx *c)
{
	if (c->argc == 2) {
		reply_all_cmd_info(c->r);
		return;
	}
	ap_reply_array(c->r, (size_t)(c->argc - 2));
	for (int i = 2; i < c->argc; i++) {
		const struct ap_cmd *parent;
		const struct ap_cmd *cmd = lookup_full(&c->argv[i], &parent);
		if (cmd)
			reply_cmd_info(c->r, cmd, parent);
		else
			ap_reply_null(c->r);
	}
}

/* One command's COMMAND DOCS map: the fields it has, and its
 * subcommands' docs. */
static void reply_cmd_docs(struct ap_reply *r, const struct ap_cmd *cmd,
			   const struct ap_cmd *parent)
{
	const char *group =
		cmd->group ? cmd->group : (parent ? parent->group : NULL);
	const char *keys[] = {"summary", "since", "group", "complexity"};
	const char *vals[] = {cmd->summary, cmd->since, group, cmd->complexity};
	size_t nsub = subcmd_count(cmd), n = nsub ? 1 : 0;
	char name[AP_INTROSPECT_FULLNAME_MAX];
	for (size_t i = 0; i < AP_ARRAY_LEN(vals); i++)
		n += vals[i] != NULL;
	ap_reply_map(r, n);
	for (size_t i = 0; i < AP_ARRAY_LEN(vals); i++) {
		if (!vals[i])
			continue;
		ap_reply_bulk_cstr(r, keys[i]);
		ap_reply_bulk_cstr(r, vals[i]);
	}
	if (!nsub)
		return;
	ap_reply_bulk_cstr(r, "subcommands");
	ap_reply_map(r, nsub);
	for (const struct ap_cmd *s = cmd->subcmds; s && s->name; s++) {
		ap_reply_bulk_cstr(
			r, ap_introspect_full_name(s, cmd, name, sizeof(name)));
		reply_cmd_docs(r, s, cmd);
	}
}

/* COMMAND DOCS [name ...]: a map of the named commands (unknown names
 * left out), or of every command without names, to their docs. */
static void cmd_command_docs(struct ap_cmd_ctx *c)
{
	char name[AP_INTROSPECT_FULLNAME_MAX];
	if (c->argc == 2) {
		ap_reply_map(c->r, ap_cmd_count());
		for (size_t i = 0; i < ap_cmd_count(); i++) {
			const struct ap_cmd *cmd = ap_cmd_at(i);
			ap_reply_bulk_cstr(c->r, cmd->name);
			reply_cmd_docs(c->r, cmd, NULL);
		}
		return;
	}
	/* Unknown names are left out. */
	size_t n = 0;
	const struct ap_cmd *parent;
	for (int i = 2; i < c->argc; i++)
		n += lookup_full(&c->argv[i], &parent) != NULL;
	ap_reply_map(c->r, n);
	for (int i = 2; i < c->argc; i++) {
		const struct ap_cmd *cmd = lookup_full(&c->argv[i], &parent);
		if (!cmd)
			continue;
		ap_reply_bulk_cstr(c->r,
				   ap_introspect_full_name(cmd, parent, name,
							   sizeof(name)));
		reply_cmd_docs(c->r, cmd, parent);
	}
}

enum list_filter {
	LF_NONE,
	LF_MODULE,
	LF_ACLCAT,
	LF_PATTERN,
};

/* True if the command (full name `name`) passes a COMMAND LIST filter. */
static bool list_match(const struct ap_cmd *cmd, const char *name,
		       enum list_filter lf, const struct ap_arg *arg)
{
	struct ap_arg cats[ACL_CATS_MAX];
	switch (lf) {
	case LF_NONE:
		return true;
	case LF_MODULE:
		return false; /* no modules */
	case LF_PATTERN:
		return ap_glob_match(arg->p, arg->len, name, strlen(name),
				     true);
	case LF_ACLCAT: {
		const char *want = arg->p;
		size_t wlen = arg->len;
		if (wlen && want[0] == '@') {
			want++;
			wlen--;
		}
		size_t n = acl_cats(cmd, cats);
		for (size_t i = 0; i < n; i++) {
			const struct ap_arg *k = &cats[i];
			if (k->len == wlen + 1 && k->p[0] == '@' &&
			    strncasecmp(k->p + 1, want, wlen) == 0)
				return true;
		}
		return false;
	}
	}
	return false;
}

/* Replies (when r is not NULL) and counts the names passing the filter,
 * subcommands included as "container|sub". */
static size_t command_list_emit(struct ap_reply *r, enum list_filter lf,
				const struct ap_arg *arg)
{
	char name[AP_INTROSPECT_FULLNAME_MAX];
	size_t n = 0;
	for (size_t i = 0; i < ap_cmd_count(); i++) {
		const struct ap_cmd *cmd = ap_cmd_at(i);
		if (list_match(cmd, cmd->name, lf, arg)) {
			if (r)
				ap_reply_bulk_cstr(r, cmd->name);
			n++;
		}
		for (const struct ap_cmd *s = cmd->subcmds; s && s->name; s++) {
			ap_introspect_full_name(s, cmd, name, sizeof(name));
			if (!list_match(s, name, lf, arg))
				continue;
			if (r)
				ap_reply_bulk_cstr(r, name);
			n++;
		}
	}
	return n;
}

/* COMMAND LIST [FILTERBY MODULE m|ACLCAT c|PATTERN p]: the names passing
 * the filter. */
static void cmd_command_list(struct ap_cmd_ctx *c)
{
	enum list_filter lf = LF_NONE;
	const struct ap_arg *arg = NULL;
	if (c->argc == 5 && ap_arg_eq(&c->argv[2], "filterby")) {
		arg = &c->argv[4];
		if (ap_arg_eq(&c->argv[3], "module"))
			lf = LF_MODULE;
		else if (ap_arg_eq(&c->argv[3], "aclcat"))
			lf = LF_ACLCAT;
		else if (ap_arg_eq(&c->argv[3], "pattern"))
			lf = LF_PATTERN;
		else
			arg = NULL;
	}
	if (c->argc != 2 && !arg) {
		ap_reply_error(c->r, AP_ERR_SYNTAX);
		return;
	}
	ap_reply_array(c->r, command_list_emit(NULL, lf, arg));
	command_list_emit(c->r, lf, arg);
}

/* COMMAND GETKEYS cmd [arg ...]: the key arguments of that command line,
 * or an error for an unknown command, a wrong arity or no keys. */
static void cmd_command_getkeys(struct ap_cmd_ctx *c)
{
	int argc = c->argc - 2;
	const struct ap_arg *argv = c->argv + 2;
	const struct ap_cmd *cmd = ap_cmd_lookup(argv[0].p, argv[0].len);
	if (cmd && cmd->subcmds && argc > 1)
		cmd = ap_cmd_sub_lookup(cmd, argv[1].p, argv[1].len);
	if (!cmd) {
		ap_reply_error(c->r, "ERR Invalid command specified");
		return;
	}
	if (!ap_cmd_arity_ok(cmd, argc)) {
		ap_reply_error(c->r, "ERR Invalid number of arguments "
				     "specified for command");
		return;
	}
	int *idx = ap_malloc((size_t)argc * sizeof(*idx));
	size_t n = ap_cmd_keys(cmd, argc, argv, idx, (size_t)argc);
	if (n == 0) {
		ap_reply_error(c->r, "ERR The command has no key arguments");
	} else {
		ap_reply_array(c->r, n);
		for (size_t i = 0; i < n; i++)
			ap_reply_bulk(c->r, argv[idx[i]].p, argv[idx[i]].len);
	}
	ap_free(idx);
}

/* COMMAND HELP. */
static void cmd_command_help(struct ap_cmd_ctx *c)
{
	static const char *const lines[] = {
		"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands "
		"are:",
		"(no subcommand)",
		"    Return details about all commands.",
		"COUNT",
		"    Return the number of commands.",
		"DOCS [<command-name> ...]",
		"    Return documentation about the named commands (all "
		"commands when none is named).",
		"GETKEYS <full-command>",
		"    Return the keys of a full command line.",
		"INFO [<command-name> ...]",
		"    Return details about the named commands (all commands "
		"when none is named).",
		"LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|"
		"PATTERN <pattern>)]",
		"    Return the names of all commands, or of those passing the "
		"filter.",
		"HELP",
		"    Print this help.",
		NULL,
	};
	ap_introspect_reply_help(c->r, lines);
}

/* --- table --------------------------------------------------------------- */

/* clang-format off */
#define COMMAND_SUB AP_INTROSPECT_COMMAND_FLAGS

const struct ap_cmd ap_introspect_command_subcmds[] = {
	{.name = "count", .arity = 2, .flags = COMMAND_SUB,
	 .fn = cmd_command_count, .group = "server",
	 .summary = "Returns a count of commands.", .since = "2.8.13",
	 .complexity = "O(1)", .acl_categories = "@slow @connection"},
	{.name = "docs", .arity = -2, .flags = COMMAND_SUB,
	 .fn = cmd_command_docs, .group = "server",
	 .summary = "Returns documentary information about one, multiple or "
		    "all commands.",
	 .since = "7.0.0",
	 .complexity = "O(N) where N is the number of commands to look up",
	 .acl_categories = "@slow @connection"},
	{.name = "getkeys", .arity = -3, .flags = COMMAND_SUB,
	 .fn = cmd_command_getkeys, .group = "server",
	 .summary = "Extracts the key names from an arbitrary command.",
	 .since = "2.8.13",
	 .complexity = "O(N) where N is the number of arguments to the "
		       "command",
	 .acl_categories = "@slow @connection"},
	{.name = "info", .arity = -2, .flags = COMMAND_SUB,
	 .fn = cmd_command_info, .group = "server",
	 .summary = "Returns information about one, multiple or all "
		    "commands.",
	 .since = "2.8.13",
	 .complexity = "O(N) where N is the number of commands to look up",
	 .acl_categories = "@slow @connection"},
	{.name = "list", .arity = -2, .flags = COMMAND_SUB,
	 .fn = cmd_command_list, .group = "server",
	 .summary = "Returns a list of command names.", .since = "7.0.0",
	 .complexity = "O(N) where N is the total number of Redis commands",
	 .acl_categories = "@slow @connection"},
	{.name = "help", .arity = 2, .flags = COMMAND_SUB,
	 .fn = cmd_command_help, .group = "server",
	 .summary = "Returns helpful text about the different subcommands.",
	 .since = "5.0.0", .complexity = "O(1)",
	 .acl_categories = "@slow @connection"},
	{.name = NULL},
};
/* clang-format on */
