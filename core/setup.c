/*
 * setup.c - registers what core provides: the command tables of every
 * type and the value operations of the collection types. Called once at
 * start, before threads (the tables are read-only afterwards).
 */
#include "core/cmd.h"

void ap_core_setup(void)
{
	static const struct {
		enum ap_type type;
		const struct ap_type_ops *const *ops;
	} types[] = {
		{AP_TYPE_LIST, &ap_list_type_ops},
		{AP_TYPE_HASH, &ap_hash_type_ops},
		{AP_TYPE_SET, &ap_set_type_ops},
		{AP_TYPE_ZSET, &ap_zset_type_ops},
	};

	for (size_t i = 0; i < AP_ARRAY_LEN(types); i++)
		if (*types[i].ops != NULL)
			ap_type_register(types[i].type, *types[i].ops);
	ap_cmd_table_add(ap_cmds_string);
	ap_cmd_table_add(ap_cmds_keys);
	ap_cmd_table_add(ap_cmds_list);
	ap_cmd_table_add(ap_cmds_hash);
	ap_cmd_table_add(ap_cmds_set);
	ap_cmd_table_add(ap_cmds_zset);
	ap_cmd_table_add(ap_cmds_sort);
	ap_cmd_table_add(ap_cmds_dump);
}
