/*
 * introspect_int.h - what the introspection command files share (shards/
 * only): INFO (cmd_info.c), CLIENT (cmd_client.c), CONFIG (cmd_config.c)
 * and COMMAND (cmd_command.c).
 *
 * The helpers declared here are defined once, in cmd_introspect.c, which
 * also assembles the four families into the one table ap_cmds_introspect
 * (INFO, CLIENT, CONFIG, COMMAND: the order COMMAND lists them in). Each
 * family file exports only what that table needs: its subcommand table
 * and, for a container that runs on its own, its command function.
 *
 * Threading: every function here runs on the calling client's shard.
 */
#ifndef AP_INTROSPECT_INT_H
#define AP_INTROSPECT_INT_H

#include "shards/shards_int.h"

/* Longest "container|subcommand" name (cmd.c bounds names at 64). */
#define AP_INTROSPECT_FULLNAME_MAX 160

/* Flags of COMMAND and of its subcommands. */
#define AP_INTROSPECT_COMMAND_FLAGS \
	(AP_CMD_SERVER | AP_CMD_LOADING | AP_CMD_STALE)

/* --- cmd_introspect.c: shared helpers ---------------------------------- */

/* Replies an error formatted from fmt (a full Redis error text, code
 * first; at most 511 bytes are kept) through r. */
void ap_introspect_reply_errf(struct ap_reply *r, const char *fmt, ...)
	AP_PRINTF(2, 3);

/* Writes a printable, bounded copy of client argument a into buf (size
 * bytes, at most 128 characters; bytes outside ASCII 32..126 become '?')
 * for an error message, and returns buf. */
const char *ap_introspect_arg_show(const struct ap_arg *a, char *buf,
				   size_t size);

/* Writes "parent|cmd" into buf (or cmd's own name when parent is NULL or
 * the name already carries its container) and returns buf. */
const char *ap_introspect_full_name(const struct ap_cmd *cmd,
				    const struct ap_cmd *parent, char *buf,
				    size_t size);

/* Replies a HELP text: an array of one status line per entry of the
 * NULL-terminated lines. */
void ap_introspect_reply_help(struct ap_reply *r, const char *const *lines);

/* --- the families' parts of ap_cmds_introspect ------------------------- */

/* cmd_info.c: INFO [section ...]. */
void ap_introspect_cmd_info(struct ap_cmd_ctx *c);
/* cmd_client.c: CLIENT's subcommands (NULL-name terminated). */
extern const struct ap_cmd ap_introspect_client_subcmds[];
/* cmd_config.c: CONFIG's subcommands. */
extern const struct ap_cmd ap_introspect_config_subcmds[];
/* cmd_command.c: a bare COMMAND, and COMMAND's subcommands. */
void ap_introspect_cmd_command(struct ap_cmd_ctx *c);
extern const struct ap_cmd ap_introspect_command_subcmds[];

#endif
