/*
 * cmd_introspect.c - the commands that describe and tune the running
 * server, INFO, CLIENT, CONFIG and COMMAND (Redis 7 semantics): their
 * shared helpers and their command table.
 *
 * The commands themselves live one family per file: cmd_info.c,
 * cmd_client.c, cmd_config.c and cmd_command.c. This file is the one
 * shared .c they use (declared in introspect_int.h): formatted errors,
 * printable argument copies, "container|sub" names and HELP replies. It
 * also assembles the families into ap_cmds_introspect, registered as one
 * table so that COMMAND lists INFO, CLIENT, CONFIG and COMMAND in that
 * order.
 *
 * Every command here runs on the calling client's own shard
 * (AP_CMD_SERVER); state of other shards is reached only by fan-out.
 */
#include "shards/introspect_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SRV AP_CMD_SERVER

/* --- shared helpers ------------------------------------------------------ */

/* Replies an error formatted from fmt (at most 511 bytes kept): a
 * helper so that formatted errors stay one line. */
void ap_introspect_reply_errf(struct ap_reply *r, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ap_reply_error(r, buf);
}

/* Printable, bounded copy of a client argument for an error message:
 * at most 128 characters, non-printable bytes as '?'. Returns buf. */
const char *ap_introspect_arg_show(const struct ap_arg *a, char *buf,
				   size_t size)
{
	size_t n = 0;
	for (size_t i = 0; i < a->len && n + 1 < size && i < 128; i++) {
		char ch = a->p[i];
		buf[n++] = (ch >= 32 && ch < 127) ? ch : '?';
	}
	buf[n] = '\0';
	return buf;
}

/* Writes "parent|cmd" (or cmd's own name when parent is NULL or the name
 * already carries its container) into buf and returns buf. */
const char *ap_introspect_full_name(const struct ap_cmd *cmd,
				    const struct ap_cmd *parent, char *buf,
				    size_t size)
{
	if (!parent || strchr(cmd->name, '|'))
		snprintf(buf, size, "%s", cmd->name);
	else
		snprintf(buf, size, "%s|%s", parent->name, cmd->name);
	return buf;
}

/* Replies a HELP text: one status line per entry of the NULL-terminated
 * lines. */
void ap_introspect_reply_help(struct ap_reply *r, const char *const *lines)
{
	size_t n = 0;
	while (lines[n])
		n++;
	ap_reply_array(r, n);
	for (size_t i = 0; i < n; i++)
		ap_reply_status(r, lines[i]);
}

/* --- the table ----------------------------------------------------------- */

/* clang-format off */
const struct ap_cmd ap_cmds_introspect[] = {
	{.name = "info", .arity = -1,
	 .flags = SRV | AP_CMD_LOADING | AP_CMD_STALE,
	 .fn = ap_introspect_cmd_info,
	 .group = "server",
	 .summary = "Returns information and statistics about the server.",
	 .since = "1.0.0", .complexity = "O(1)",
	 .acl_categories = "@slow @dangerous"},
	{.name = "client", .arity = -2, .flags = SRV, .group = "connection",
	 .summary = "A container for client connection commands.",
	 .since = "2.4.0", .complexity = "Depends on subcommand.",
	 .acl_categories = "@slow", .subcmds = ap_introspect_client_subcmds},
	{.name = "config", .arity = -2, .flags = SRV, .group = "server",
	 .summary = "A container for server configuration commands.",
	 .since = "2.0.0", .complexity = "Depends on subcommand.",
	 .acl_categories = "@slow", .subcmds = ap_introspect_config_subcmds},
	/* A bare COMMAND runs the container's fn; a word after it names a
	 * subcommand. */
	{.name = "command", .arity = -1,
	 .flags = AP_INTROSPECT_COMMAND_FLAGS,
	 .fn = ap_introspect_cmd_command, .group = "server",
	 .summary = "Returns detailed information about all commands.",
	 .since = "2.8.13",
	 .complexity = "O(N) where N is the total number of Redis commands",
	 .acl_categories = "@slow @connection",
	 .subcmds = ap_introspect_command_subcmds},
	{.name = NULL},
};
/* clang-format on */
