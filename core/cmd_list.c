/* cmd_list.c - being written (issue 5): the list commands. */
#include "core/cmd.h"

const struct ap_cmd ap_cmds_list[] = {{.name = NULL}};
const struct ap_type_ops *const ap_list_type_ops = NULL;
