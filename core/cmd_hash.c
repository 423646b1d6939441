/* cmd_hash.c - being written (issue 5): the hash commands. */
#include "core/cmd.h"

const struct ap_cmd ap_cmds_hash[] = {{.name = NULL}};
const struct ap_type_ops *const ap_hash_type_ops = NULL;
