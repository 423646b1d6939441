/*
 * cmd_zset_int.h - private to the sorted-set commands (core/cmd_zset.c
 * and core/cmd_zset_algebra.c): the helpers both use and the commands
 * the table in cmd_zset.c names from the other file.
 *
 * Nobody outside these two files includes this header.
 */
#ifndef AP_CORE_CMD_ZSET_INT_H
#define AP_CORE_CMD_ZSET_INT_H

#include "core/cmd.h"
#include "core/zset.h"

/* argv[idx] looked up as a key of the command's database. */
struct ap_entry *ap_zcmd_lookup(struct ap_cmd_ctx *c, int idx, unsigned flags);
/* zset-max-listpack-entries / -value of this shard's configuration. */
size_t ap_zcmd_lp_max(const struct ap_cmd_ctx *c);
size_t ap_zcmd_lp_value(const struct ap_cmd_ctx *c);
/* The handle of a sorted-set entry. */
void ap_zcmd_zset_of(const struct ap_cmd_ctx *c, const struct ap_entry *e,
		     struct ap_zset *z);
/* Opens argv[idx] for reading: false after replying WRONGTYPE, else true
 * with *found telling whether the set exists (and *z its handle). */
bool ap_zcmd_zset_read(struct ap_cmd_ctx *c, int idx, struct ap_zset *z,
		       bool *found);
/* Stores z (the caller's until now) at argv[idx], replacing any value, or
 * deletes the key if z is empty; counts one change if anything changed
 * and replies the number of members stored. */
void ap_zcmd_store(struct ap_cmd_ctx *c, int idx, struct ap_zset *z);
/* Header of a list of n members, with scores or not (RESP2 flattens
 * member, score; RESP3 nests [member, score] pairs). */
void ap_zcmd_reply_header(struct ap_reply *r, size_t n, bool scores);

/* A reply writer as an ap_zset_visit_fn: one member of such a list. */
struct ap_zcmd_emit {
	struct ap_reply *r;
	bool scores;
};
void ap_zcmd_emit_visit(void *arg, const char *m, size_t len, double score);

/* The commands of cmd_zset_algebra.c. */
void ap_zcmd_zunion(struct ap_cmd_ctx *c);
void ap_zcmd_zinter(struct ap_cmd_ctx *c);
void ap_zcmd_zdiff(struct ap_cmd_ctx *c);
void ap_zcmd_zunionstore(struct ap_cmd_ctx *c);
void ap_zcmd_zinterstore(struct ap_cmd_ctx *c);
void ap_zcmd_zdiffstore(struct ap_cmd_ctx *c);
void ap_zcmd_zintercard(struct ap_cmd_ctx *c);
void ap_zcmd_zscan(struct ap_cmd_ctx *c);

#endif
