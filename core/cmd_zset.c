/* cmd_zset.c - being written (issue 5): the zset commands. */
#include "core/cmd.h"

const struct ap_cmd ap_cmds_zset[] = {{.name = NULL}};
const struct ap_type_ops *const ap_zset_type_ops = NULL;
