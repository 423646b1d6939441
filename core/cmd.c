/*
 * cmd.c - the command table: registration, case-insensitive lookup, arity
 * and key-position checks, and the shared argument helpers (the SCAN
 * family's among them).
 *
 * The table is built by ap_cmd_table_add() at start, before threads, and
 * read-only afterwards, so lookups take no lock. Lookup is an
 * open-addressing hash table (linear probing, at most half full) keyed by
 * an FNV-1a hash of the ASCII-lower-cased name: no allocation and no
 * copying of the client's bytes.
 */
#include "core/cmd.h"
#include "core/limits.h"

#include <string.h>

/* No Redis command name is longer than this; longer input cannot match. */
#define CMD_NAME_MAX 64
/* Smallest index size (slots, a power of two). */
#define CMD_INDEX_MIN 64

struct cmd_slot {
	const struct ap_cmd *cmd; /* NULL: empty slot */
	uint32_t hash;
	uint32_t len;
};

/* Written only before threads start; read-only afterwards. */
static const struct ap_cmd **cmd_list;
static size_t cmd_list_count;
static size_t cmd_list_cap;
static struct cmd_slot *cmd_index;
static size_t cmd_index_size;

/* FNV-1a over the ASCII-lower-cased bytes of name[0..len). */
static uint32_t name_hash(const char *name, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + 32);
		h = (h ^ c) * 16777619u;
	}
	return h;
}

/* Puts cmd into the index (which has a free slot). */
static void index_insert(const struct ap_cmd *cmd)
{
	size_t len = strlen(cmd->name);
	uint32_t h = name_hash(cmd->name, len);
	size_t mask = cmd_index_size - 1;
	size_t i = h & mask;

	while (cmd_index[i].cmd != NULL)
		i = (i + 1) & mask;
	cmd_index[i].cmd = cmd;
	cmd_index[i].hash = h;
	cmd_index[i].len = (uint32_t)len;
}

/* Rebuilds the index with size slots from cmd_list. */
static void index_rebuild(size_t size)
{
	ap_free(cmd_index);
	cmd_index = ap_calloc(size, sizeof(*cmd_index));
	cmd_index_size = size;
	for (size_t i = 0; i < cmd_list_count; i++)
		index_insert(cmd_list[i]);
}

/* Appends cmd to the list, growing the list and the index as needed. */
static void cmd_register(const struct ap_cmd *cmd)
{
	AP_ASSERT(cmd->name[0] != '\0' && strlen(cmd->name) <= CMD_NAME_MAX);
	AP_ASSERT(ap_cmd_lookup(cmd->name, strlen(cmd->name)) == NULL);
	if (cmd_list_count == cmd_list_cap) {
		cmd_list_cap = cmd_list_cap ? cmd_list_cap * 2 : CMD_INDEX_MIN;
		cmd_list =
			ap_realloc(cmd_list, cmd_list_cap * sizeof(*cmd_list));
	}
	cmd_list[cmd_list_count++] = cmd;
	if (cmd_list_count * 2 > cmd_index_size)
		index_rebuild(cmd_index_size ? cmd_index_size * 2
					     : CMD_INDEX_MIN);
	else
		index_insert(cmd);
}

/*
 * Registers every command of the array cmds (terminated by a NULL name).
 * The array must outlive the server. A duplicate name is a bug (asserts).
 * Call only at start, before threads.
 */
void ap_cmd_table_add(const struct ap_cmd *cmds)
{
	for (const struct ap_cmd *c = cmds; c->name != NULL; c++)
		cmd_register(c);
}

/* Finds a command by name[0..len), ASCII case-insensitive; NULL if none.
 * Allocates nothing; safe from any thread once the table is built. */
const struct ap_cmd *ap_cmd_lookup(const char *name, size_t len)
{
	if (cmd_index == NULL || len == 0 || len > CMD_NAME_MAX)
		return NULL;
	uint32_t h = name_hash(name, len);
	size_t mask = cmd_index_size - 1;

	for (size_t i = h & mask; cmd_index[i].cmd != NULL;
	     i = (i + 1) & mask) {
		const struct cmd_slot *s = &cmd_index[i];
		if (s->hash == h && s->len == len &&
		    ap_strcaseeq(name, len, s->cmd->name))
			return s->cmd;
	}
	return NULL;
}

/* Number of registered commands. */
size_t ap_cmd_count(void)
{
	return cmd_list_count;
}

/* The idx-th registered command, in registration order; idx < count. */
const struct ap_cmd *ap_cmd_at(size_t idx)
{
	AP_ASSERT(idx < cmd_list_count);
	return cmd_list[idx];
}

/*
 * True if sub's name equals name[0..len) case-insensitively; a name of
 * the form "container|sub" is compared by its part after the '|'.
 */
static bool sub_name_eq(const struct ap_cmd *sub, const char *name, size_t len)
{
	const char *n = strchr(sub->name, '|');

	return ap_strcaseeq(name, len, n != NULL ? n + 1 : sub->name);
}

/* Finds a subcommand of cmd by name (case-insensitive); NULL if cmd has
 * none or none matches. */
const struct ap_cmd *ap_cmd_sub_lookup(const struct ap_cmd *cmd,
				       const char *name, size_t len)
{
	if (cmd->subcmds == NULL)
		return NULL;
	for (const struct ap_cmd *s = cmd->subcmds; s->name != NULL; s++) {
		if (sub_name_eq(s, name, len))
			return s;
	}
	return NULL;
}

/* True if argc (command name included) satisfies cmd's arity: exactly
 * arity when positive, at least -arity when negative. */
bool ap_cmd_arity_ok(const struct ap_cmd *cmd, int argc)
{
	if (cmd->arity >= 0)
		return argc == cmd->arity;
	return argc >= -cmd->arity;
}

/*
 * Writes the argv indexes of the keys of this invocation into idx (at most
 * max) and returns how many were written. Keys run from first_key to
 * last_key (negative: counted from the end, -1 being the last argument)
 * every key_step arguments. No keys when first_key is 0 or when argc is
 * too small to hold the range; the command then reports its own error.
 */
size_t ap_cmd_keys(const struct ap_cmd *cmd, int argc,
		   const struct ap_arg *argv, int *idx, size_t max)
{
	int first = cmd->first_key;
	int last = cmd->last_key < 0 ? argc + cmd->last_key : cmd->last_key;
	int step = cmd->key_step > 0 ? cmd->key_step : 1;
	size_t n = 0;

	if (cmd->getkeys != NULL)
		return cmd->getkeys(argc, argv, idx, max);
	if (first <= 0 || first >= argc || last >= argc || last < first)
		return 0;
	for (int j = first; j <= last && n < max; j += step)
		idx[n++] = j;
	return n;
}

/* Timeouts: seconds as a float, as Redis's getTimeoutFromObjectOrReply
 * (ms precision; a positive timeout under 1 ms still waits 1 ms). */
bool ap_arg_timeout(struct ap_cmd_ctx *c, const struct ap_arg *a, int64_t *ms)
{
	long double t;

	if (!ap_str_to_ld(a->p, a->len, &t) || t != t) {
		ap_reply_error(c->r,
			       "ERR timeout is not a float or out of range");
		return false;
	}
	if (t < 0) {
		ap_reply_error(c->r, "ERR timeout is negative");
		return false;
	}
	long double m = t * 1000.0L;
	if (m > (long double)AP_BLOCK_TIMEOUT_MS_MAX) {
		ap_reply_error(c->r, "ERR timeout is out of range");
		return false;
	}
	*ms = (int64_t)m;
	if (*ms == 0 && t > 0)
		*ms = 1;
	return true;
}

bool ap_cmd_block(struct ap_cmd_ctx *c, int64_t timeout_ms)
{
	if (c->no_block)
		return false;
	c->block = true;
	c->block_timeout_ms = timeout_ms;
	return true;
}

void ap_cmd_propagate(struct ap_cmd_ctx *c, int argc, const struct ap_arg *argv)
{
	c->propagated = true;
	if (c->prop)
		c->prop->cmd(c->prop_arg, c->db_idx, argc, argv);
}

bool ap_cmd_expire_passed(struct ap_cmd_ctx *c, const struct ap_arg *k,
			  struct ap_entry *e, int64_t when)
{
	if (!ap_keyspace_loading(c->ks)) {
		/* Without its TTL first: deleting a key past its time would
		 * count (and log) an expiry. */
		ap_db_set_expire(c->db, &e, AP_NO_EXPIRE);
		ap_db_delete(c->db, k->p, k->len);
		return true;
	}
	/* A time of -1 would read as "no TTL". */
	ap_db_set_expire(c->db, &e, when == AP_NO_EXPIRE ? when - 1 : when);
	return false;
}

/* Key positions in k (see cmd.h): at most argc of them. */
void ap_keyidx_init(struct ap_keyidx *k, const struct ap_cmd *cmd, int argc,
		    const struct ap_arg *argv)
{
	k->idx = argc <= AP_KEYIDX_SMALL
			 ? k->small
			 : ap_malloc((size_t)argc * sizeof(*k->idx));
	k->n = argc > 0 ? ap_cmd_keys(cmd, argc, argv, k->idx, (size_t)argc)
			: 0;
}

void ap_keyidx_deinit(struct ap_keyidx *k)
{
	if (k->idx != k->small)
		ap_free(k->idx);
	k->idx = NULL;
	k->n = 0;
}

/* Keys of the "[dest] numkeys key [key ...]" shape; see cmd.h. */
size_t ap_cmd_keys_numkeys(int argc, const struct ap_arg *argv, int *idx,
			   size_t max, int dest_at, int numkeys_at)
{
	long long nk;
	size_t n = 0;

	AP_ASSERT(numkeys_at > 0 && dest_at < numkeys_at);
	if (dest_at > 0 && dest_at < argc && n < max)
		idx[n++] = dest_at;
	if (numkeys_at >= argc ||
	    !ap_str_to_ll(argv[numkeys_at].p, argv[numkeys_at].len, &nk) ||
	    nk <= 0 || nk > argc - numkeys_at - 1)
		return n;
	for (int j = numkeys_at + 1; j <= numkeys_at + nk && n < max; j++)
		idx[n++] = j;
	return n;
}

/* Parses a as a 64-bit integer; on failure replies AP_ERR_NOT_INT and
 * returns false. */
bool ap_arg_ll(struct ap_cmd_ctx *c, const struct ap_arg *a, long long *out)
{
	if (ap_str_to_ll(a->p, a->len, out))
		return true;
	ap_reply_error(c->r, AP_ERR_NOT_INT);
	return false;
}

/* Parses a as a long double; on failure replies AP_ERR_NOT_FLOAT and
 * returns false. */
bool ap_arg_ld(struct ap_cmd_ctx *c, const struct ap_arg *a, long double *out)
{
	if (ap_str_to_ld(a->p, a->len, out))
		return true;
	ap_reply_error(c->r, AP_ERR_NOT_FLOAT);
	return false;
}

/* True if a equals the NUL-terminated lit, ASCII case-insensitive. */
bool ap_arg_eq(const struct ap_arg *a, const char *lit)
{
	return ap_strcaseeq(a->p, a->len, lit);
}

/* Parses a as an integer within [min, max]; replies AP_ERR_NOT_INT or,
 * outside the range, Redis's range error naming both ends, and returns
 * false. */
bool ap_arg_ll_range(struct ap_cmd_ctx *c, const struct ap_arg *a,
		     long long min, long long max, long long *out)
{
	AP_ASSERT(min <= max);
	if (!ap_arg_ll(c, a, out))
		return false;
	if (*out >= min && *out <= max)
		return true;
	ap_reply_errorf(c->r,
			"ERR value is out of range, value must between %lld "
			"and %lld",
			min, max);
	return false;
}

/* --- the SCAN family ------------------------------------------------ */

/* A scan's COUNT when the command gives none (Redis's). */
#define SCAN_COUNT_DEFAULT 10

/*
 * Reads a cursor as strtoul(text, &end, 10) with Redis's checks: the text
 * ends at its first NUL byte (Redis reads a C string); no leading space;
 * an optional sign, then at least one digit, then nothing; the magnitude
 * within 64 bits (a negative one wraps, as strtoul's does). An empty text
 * converts nothing and leaves nothing behind: cursor 0.
 */
static bool cursor_text_parse(const char *p, size_t len, uint64_t *out)
{
	const char *nul = len > 0 ? memchr(p, '\0', len) : NULL;
	const char *end = nul != NULL ? nul : p + len;
	bool neg = false;
	uint64_t v = 0;

	if (p == end) {
		*out = 0;
		return true;
	}
	if (*p == '-' || *p == '+') {
		neg = *p == '-';
		if (++p == end)
			return false;
	}
	for (; p < end; p++) {
		unsigned d = (unsigned)(unsigned char)*p - '0';

		if (d > 9 || __builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, d, &v))
			return false;
	}
	*out = neg ? (uint64_t)0 - v : v;
	return true;
}

/* The cursor argument of a scan; see cmd.h. */
bool ap_scan_cursor_parse(struct ap_cmd_ctx *c, const struct ap_arg *a,
			  uint64_t *cursor)
{
	if (cursor_text_parse(a->p, a->len, cursor))
		return true;
	ap_reply_error(c->r, "ERR invalid cursor");
	return false;
}

/* The options of a scan from argv[first]; see cmd.h. Each option takes
 * one value: a name without one, or an unknown name, is a syntax error. */
bool ap_scan_args_parse(struct ap_cmd_ctx *c, int first, bool with_type,
			struct ap_scan_args *out)
{
	AP_ASSERT(first >= 1);
	out->count = SCAN_COUNT_DEFAULT;
	out->match = NULL;
	out->type = NULL;
	for (int i = first; i < c->argc; i += 2) {
		const struct ap_arg *name = &c->argv[i], *v;
		long long n;

		if (i + 1 >= c->argc) {
			ap_reply_error(c->r, AP_ERR_SYNTAX);
			return false;
		}
		v = &c->argv[i + 1];
		if (ap_arg_eq(name, "count")) {
			if (!ap_arg_ll(c, v, &n))
				return false;
			if (n < 1) {
				ap_reply_error(c->r, AP_ERR_SYNTAX);
				return false;
			}
			out->count = (size_t)n;
		} else if (ap_arg_eq(name, "match")) {
			out->match = v->len == 1 && v->p[0] == '*' ? NULL : v;
		} else if (with_type && ap_arg_eq(name, "type")) {
			out->type = v;
		} else {
			ap_reply_error(c->r, AP_ERR_SYNTAX);
			return false;
		}
	}
	return true;
}

/* A scan's reply; see cmd.h. */
void ap_scan_reply_write(struct ap_reply *r, uint64_t cursor, size_t n,
			 struct ap_obuf *items)
{
	char buf[AP_INT_STR_SIZE];
	size_t len = ap_ull_to_str(buf, cursor);

	AP_ASSERT(n == 0 || items != NULL);
	ap_reply_array(r, 2);
	ap_reply_bulk(r, buf, len);
	ap_reply_array(r, n);
	if (items != NULL)
		ap_obuf_splice(r->out, items);
}
