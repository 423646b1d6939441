/* cmd_sort.c - being written (issue 5): SORT and SORT_RO. */
#include "core/cmd.h"

const struct ap_cmd ap_cmds_sort[] = {{.name = NULL}};
