/* cmd_set.c - being written (issue 5): the set commands. */
#include "core/cmd.h"

const struct ap_cmd ap_cmds_set[] = {{.name = NULL}};
const struct ap_type_ops *const ap_set_type_ops = NULL;
