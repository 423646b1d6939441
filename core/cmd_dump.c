/* cmd_dump.c - being written (issue 6): DUMP and RESTORE. */
#include "core/cmd.h"

const struct ap_cmd ap_cmds_dump[] = {{.name = NULL}};
