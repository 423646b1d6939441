/*
 * workload.c - what apiary-bench sends: commands with placeholders and
 * ratios, key patterns (uniform, sequential, gaussian, zipf, parallel
 * parts), value sizes, expiry, and the encoding of each request straight
 * into the connection's send buffer (no allocation per request).
 *
 * Command order is a smooth weighted round robin over the ratios, so a
 * ratio is exact over every cycle of sum(weights) requests and commands
 * of one kind do not come in bursts. Each connection starts at a
 * different point of the cycle.
 */
#include "bench/bench.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

/* Longest key a memcached server accepts. */
#define MC_KEY_MAX 250
/* Bytes of a memcached text SET besides key and value:
 * "set " K " 0 " exptime(10) " " bytes(20) "\r\n" V "\r\n". */
#define MC_TEXT_SET_OVERHEAD (4 + 3 + 10 + 1 + 20 + 2 + 2)
/* Attempts to draw a gaussian key inside the range before clamping. */
#define GAUSS_TRIES 16

/* Formats an error message into err. */
static int wl_fail(char *err, size_t err_size, const char *fmt, ...)
	AP_PRINTF(3, 4);

static int wl_fail(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* -------------------------------------------------------- distributions */

/* Box-Muller transform over two uniforms (the first kept away from 0). */
double ap_bench_rng_gauss(struct ap_bench_rng *r)
{
	double u1 = 1.0 - ap_bench_rng_double(r); /* (0, 1] */
	double u2 = ap_bench_rng_double(r);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* log1p(t) / t, continuous at 0. */
static double zipf_helper1(double t)
{
	if (fabs(t) > 1e-8)
		return log1p(t) / t;
	return 1.0 - t * (0.5 - t / 3.0);
}

/* expm1(t) / t, continuous at 0. */
static double zipf_helper2(double t)
{
	if (fabs(t) > 1e-8)
		return expm1(t) / t;
	return 1.0 + t * 0.5 * (1.0 + t / 3.0);
}

/* H(x) = integral of x^-s: (x^(1-s) - 1) / (1 - s), or log x at s = 1. */
static double zipf_h_int(double x, double s)
{
	double lx = log(x);

	return zipf_helper2((1.0 - s) * lx) * lx;
}

/* The inverse of zipf_h_int. */
static double zipf_h_int_inv(double y, double s)
{
	double t = (1.0 - s) * y;

	if (t < -1.0)
		t = -1.0; /* rounding at the upper end when s > 1 */
	return exp(zipf_helper1(t) * y);
}

/* The hat function x^-s. */
static double zipf_h(double x, double s)
{
	return exp(-s * log(x));
}

/* Precomputes the sampler's constants for ranks 1..n, exponent s > 0. */
void ap_bench_zipf_init(struct ap_bench_zipf *z, uint64_t n, double s)
{
	AP_ASSERT(n >= 1 && s > 0);
	z->n = n;
	z->s = s;
	z->h_lo = zipf_h_int(1.5, s) - 1.0;
	z->h_hi = zipf_h_int((double)n + 0.5, s);
	z->squeeze =
		2.0 - zipf_h_int_inv(zipf_h_int(2.5, s) - zipf_h(2.0, s), s);
}

/*
 * Draws a rank. u is uniform over the hat's integral; its inverse x rounds
 * to the candidate k, accepted when u lies in the top h(k) of k's slice
 * (or, cheaply, when x is close enough to k for that to be certain).
 */
uint64_t ap_bench_zipf_next(const struct ap_bench_zipf *z,
			    struct ap_bench_rng *r)
{
	for (;;) {
		double u =
			z->h_hi + ap_bench_rng_double(r) * (z->h_lo - z->h_hi);
		double x = zipf_h_int_inv(u, z->s);
		double kd = floor(x + 0.5);
		uint64_t k;

		if (kd < 1)
			kd = 1;
		if (kd > (double)z->n)
			kd = (double)z->n;
		k = (uint64_t)kd;
		if (kd - x <= z->squeeze ||
		    u >= zipf_h_int(kd + 0.5, z->s) - zipf_h(kd, z->s))
			return k;
	}
}

/* ------------------------------------------------------------- commands */

/*
 * Splits text into at most max arguments (whitespace separated; "double"
 * quotes with \ escapes and 'single' quotes group). Each argument is
 * written NUL-terminated into store (as large as text + 1). Returns the
 * count or -EINVAL.
 */
static int split_args(const char *text, char *store, char **argv, int max,
		      char *err, size_t err_size)
{
	int argc = 0;
	const char *p = text;
	char *o = store;

	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			return argc;
		if (argc == max)
			return wl_fail(err, err_size,
				       "too many arguments in command (max %d)",
				       max);
		argv[argc++] = o;
		while (*p != '\0' && !isspace((unsigned char)*p)) {
			char q = *p;

			if (q != '"' && q != '\'') {
				*o++ = *p++;
				continue;
			}
			p++;
			while (*p != '\0' && *p != q) {
				if (q == '"' && *p == '\\' && p[1] != '\0')
					p++;
				*o++ = *p++;
			}
			if (*p != q)
				return wl_fail(
					err, err_size,
					"unbalanced quotes in command: %s",
					text);
			p++;
		}
		*o++ = '\0';
	}
}

/* Sets cmd->name from the first word, unique among the workload's. */
static void cmd_set_name(struct ap_bench_wl *wl, struct ap_bench_cmd *cmd,
			 const char *word)
{
	size_t n = 0;

	for (; word[n] != '\0' && n < 30; n++)
		cmd->name[n] = (char)toupper((unsigned char)word[n]);
	cmd->name[n] = '\0';
	int dup = 1;

	for (int i = 0; i < wl->cmd_count; i++)
		if (strncmp(wl->cmds[i].name, cmd->name, n) == 0 &&
		    (wl->cmds[i].name[n] == '\0' || wl->cmds[i].name[n] == '#'))
			dup++;
	if (dup > 1)
		snprintf(cmd->name + n, sizeof(cmd->name) - n, "#%d", dup);
}

/* Turns one argument into a placeholder or a pre-encoded literal. */
static void cmd_set_arg(struct ap_bench_cmd *cmd, struct ap_bench_arg *a,
			const char *s)
{
	size_t len = strlen(s);

	memset(a, 0, sizeof(*a));
	if (strcmp(s, "__key__") == 0) {
		a->kind = AP_BENCH_ARG_KEY;
		cmd->has_key = true;
	} else if (strcmp(s, "__data__") == 0) {
		a->kind = AP_BENCH_ARG_DATA;
		cmd->has_data = true;
	} else if (strcmp(s, "__expiry__") == 0) {
		a->kind = AP_BENCH_ARG_EXPIRY;
	} else {
		a->kind = AP_BENCH_ARG_LIT;
		a->enc = ap_malloc(ap_client_bulk_len(len));
		a->enc_len = ap_client_enc_bulk(a->enc, s, len);
	}
}

/* Adds a command; see bench.h. */
int ap_bench_wl_add_cmd(struct ap_bench_wl *wl, const char *text,
			unsigned weight, enum ap_bench_keypat keypat, char *err,
			size_t err_size)
{
	char *argv[AP_BENCH_CMD_ARGS_MAX];
	size_t tlen = strlen(text);
	char *store = ap_malloc(tlen + 1);
	int argc;

	if (wl->cmd_count == AP_BENCH_CMDS_MAX) {
		ap_free(store);
		return wl_fail(err, err_size, "too many commands (max %d)",
			       AP_BENCH_CMDS_MAX);
	}
	argc = split_args(text, store, argv, AP_BENCH_CMD_ARGS_MAX, err,
			  err_size);
	if (argc <= 0) {
		ap_free(store);
		return argc < 0 ? argc
				: wl_fail(err, err_size, "empty --command");
	}
	if (weight == 0 || weight > AP_BENCH_WEIGHT_SUM_MAX) {
		ap_free(store);
		return wl_fail(err, err_size, "ratio of '%s' must be 1..%d",
			       text, AP_BENCH_WEIGHT_SUM_MAX);
	}
	if (!strchr("RSGZP", (int)keypat) || keypat == 0) {
		ap_free(store);
		return wl_fail(err, err_size,
			       "key pattern must be R, S, G, Z "
			       "or P");
	}
	struct ap_bench_cmd *cmd = &wl->cmds[wl->cmd_count];

	memset(cmd, 0, sizeof(*cmd));
	cmd_set_name(wl, cmd, argv[0]);
	cmd->argc = argc;
	cmd->weight = weight;
	cmd->keypat = keypat;
	cmd->head_len = ap_client_enc_array(cmd->head, (uint64_t)argc);
	for (int i = 0; i < argc; i++)
		cmd_set_arg(cmd, &cmd->args[i], argv[i]);
	wl->cmd_count++;
	ap_free(store);
	return 0;
}

/* Longest request a command can produce. */
static size_t cmd_req_max(const struct ap_bench_wl *wl,
			  const struct ap_bench_cmd *cmd)
{
	size_t n = cmd->head_len;

	if (wl->proto == AP_BENCH_PROTO_MC_BIN)
		return AP_CLIENT_MC_HDR_LEN + 8 + wl->key_prefix_len + 20 +
		       wl->data_max;
	if (wl->proto == AP_BENCH_PROTO_MC_TEXT)
		return MC_TEXT_SET_OVERHEAD + wl->key_prefix_len + 20 +
		       wl->data_max;
	for (int i = 0; i < cmd->argc; i++) {
		switch (cmd->args[i].kind) {
		case AP_BENCH_ARG_LIT:
			n += cmd->args[i].enc_len;
			break;
		case AP_BENCH_ARG_KEY:
			n += ap_client_bulk_len(wl->key_prefix_len + 20);
			break;
		case AP_BENCH_ARG_DATA:
			n += ap_client_bulk_len(wl->data_max);
			break;
		case AP_BENCH_ARG_EXPIRY:
			n += ap_client_bulk_len(10);
			break;
		}
	}
	return n;
}

/* Builds the smooth weighted round robin order of commands. */
static void sched_build(struct ap_bench_wl *wl)
{
	long long cur[AP_BENCH_CMDS_MAX] = {0};
	long long total = 0;

	for (int i = 0; i < wl->cmd_count; i++)
		total += wl->cmds[i].weight;
	wl->sched_len = (unsigned)total;
	wl->sched = ap_malloc((size_t)total);
	for (long long k = 0; k < total; k++) {
		int best = 0;

		for (int i = 0; i < wl->cmd_count; i++) {
			cur[i] += wl->cmds[i].weight;
			if (cur[i] > cur[best])
				best = i;
		}
		cur[best] -= total;
		wl->sched[k] = (uint8_t)best;
	}
}

/* Validates the commands against the protocol and computes sizes. */
int ap_bench_wl_finish(struct ap_bench_wl *wl, char *err, size_t err_size)
{
	long long total = 0;

	if (wl->cmd_count == 0)
		return wl_fail(err, err_size,
			       "no command to send (ratio 0:0?)");
	for (int i = 0; i < wl->cmd_count; i++) {
		struct ap_bench_cmd *cmd = &wl->cmds[i];

		total += cmd->weight;
		for (int a = 0; a < cmd->argc; a++)
			if (cmd->args[a].kind == AP_BENCH_ARG_EXPIRY &&
			    wl->expiry_max == 0)
				return wl_fail(
					err, err_size,
					"__expiry__ needs --expiry-range");
		if (ap_bench_proto_is_mc(wl->proto) && !cmd->has_key)
			return wl_fail(err, err_size,
				       "memcached commands need a key");
		cmd->req_max = cmd_req_max(wl, cmd);
		if (cmd->req_max > wl->req_max)
			wl->req_max = cmd->req_max;
	}
	if (total > AP_BENCH_WEIGHT_SUM_MAX)
		return wl_fail(err, err_size, "sum of ratios above %d",
			       AP_BENCH_WEIGHT_SUM_MAX);
	sched_build(wl);
	return 0;
}

/* Fills wl's keys, values and expiry from the options. */
static int wl_setup_common(struct ap_bench_wl *wl,
			   const struct ap_bench_opts *o, char *err,
			   size_t err_size)
{
	memset(wl, 0, sizeof(*wl));
	wl->proto = o->proto;
	if (o->key_max < o->key_min)
		return wl_fail(err, err_size,
			       "--key-maximum is below --key-minimum");
	wl->key_min = o->key_min;
	wl->key_max = o->key_max;
	wl->key_range = o->key_max - o->key_min + 1;
	if (wl->key_range == 0) /* the whole 64-bit space */
		wl->key_range = UINT64_MAX;
	wl->key_prefix_len = strlen(o->key_prefix);
	if (wl->key_prefix_len >= sizeof(wl->key_prefix))
		return wl_fail(err, err_size, "--key-prefix too long");
	memcpy(wl->key_prefix, o->key_prefix, wl->key_prefix_len + 1);
	if (ap_bench_proto_is_mc(o->proto) &&
	    wl->key_prefix_len + 20 > MC_KEY_MAX)
		return wl_fail(err, err_size,
			       "--key-prefix too long for "
			       "memcached keys");
	if (o->proto == AP_BENCH_PROTO_MC_TEXT)
		for (size_t i = 0; i < wl->key_prefix_len; i++)
			if ((unsigned char)o->key_prefix[i] <= ' ' ||
			    o->key_prefix[i] == 0x7f)
				return wl_fail(err, err_size,
					       "--key-prefix: memcached text "
					       "keys have no spaces or "
					       "control characters");
	wl->key_median =
		o->key_median >= 0
			? o->key_median
			: (double)o->key_min +
				  ((double)o->key_max - o->key_min) / 2;
	wl->key_stddev =
		o->key_stddev > 0 ? o->key_stddev : (double)wl->key_range / 6.0;
	ap_bench_zipf_init(&wl->zipf, wl->key_range, o->zipf_exp);
	wl->data_min = wl->data_max = o->data_size;
	if (o->data_max > 0) {
		wl->data_min = o->data_min;
		wl->data_max = o->data_max;
	}
	wl->size_list_count = o->size_list_count;
	uint64_t cum = 0;

	for (int i = 0; i < o->size_list_count; i++) {
		wl->size_list[i] = o->size_list[i];
		cum += o->size_weight[i];
		wl->size_cum[i] = cum;
		if (o->size_list[i] > wl->data_max)
			wl->data_max = o->size_list[i];
	}
	if (wl->data_max > AP_BENCH_DATA_SIZE_MAX)
		return wl_fail(err, err_size, "value size above %d bytes",
			       AP_BENCH_DATA_SIZE_MAX);
	wl->expiry_min = o->expiry_min;
	wl->expiry_max = o->expiry_max;
	/* Value content: printable, varied, the same for every request. */
	struct ap_bench_rng r = {.s = o->seed};

	wl->data = ap_malloc(wl->data_max + 1);
	for (size_t i = 0; i < wl->data_max; i++)
		wl->data[i] = "abcdefghijklmnopqrstuvwxyz0123456789"
			[ap_bench_rng_below(&r, 36)];
	wl->data[wl->data_max] = '\0';
	return 0;
}

/* Adds the SET (and GET) commands of --ratio. */
static int wl_add_ratio(struct ap_bench_wl *wl, const struct ap_bench_opts *o,
			unsigned set_w, unsigned get_w, char set_pat,
			char get_pat, bool expiry, char *err, size_t err_size)
{
	int rc = 0;

	if (set_w > 0) {
		rc = ap_bench_wl_add_cmd(wl,
					 expiry ? "SET __key__ __data__ EX "
						  "__expiry__"
						: "SET __key__ __data__",
					 set_w, (enum ap_bench_keypat)set_pat,
					 err, err_size);
		if (rc == 0)
			wl->cmds[wl->cmd_count - 1].mc_opcode =
				AP_CLIENT_MC_SET;
	}
	if (rc == 0 && get_w > 0) {
		rc = ap_bench_wl_add_cmd(wl, "GET __key__", get_w,
					 (enum ap_bench_keypat)get_pat, err,
					 err_size);
		if (rc == 0)
			wl->cmds[wl->cmd_count - 1].mc_opcode =
				AP_CLIENT_MC_GET;
	}
	return rc;
}

/* Builds the run's workload from the options. */
int ap_bench_wl_build(struct ap_bench_wl *wl, const struct ap_bench_opts *o,
		      char *err, size_t err_size)
{
	int rc = wl_setup_common(wl, o, err, err_size);

	if (rc == 0 && o->cmd_count > 0 && ap_bench_proto_is_mc(o->proto))
		rc = wl_fail(err, err_size, "--command needs a RESP protocol");
	for (int i = 0; rc == 0 && i < o->cmd_count; i++)
		rc = ap_bench_wl_add_cmd(wl, o->cmd_text[i], o->cmd_weight[i],
					 (enum ap_bench_keypat)o->cmd_keypat[i],
					 err, err_size);
	if (rc == 0 && o->cmd_count == 0)
		rc = wl_add_ratio(wl, o, o->ratio_set, o->ratio_get,
				  o->keypat_set, o->keypat_get,
				  o->expiry_max > 0, err, err_size);
	if (rc == 0)
		rc = ap_bench_wl_finish(wl, err, err_size);
	return rc;
}

/* Builds the prefill workload (SET each key once, pattern P). */
int ap_bench_wl_build_prefill(struct ap_bench_wl *wl,
			      const struct ap_bench_opts *o, char *err,
			      size_t err_size)
{
	int rc = wl_setup_common(wl, o, err, err_size);

	wl->expiry_min = wl->expiry_max = 0;
	if (rc == 0)
		rc = wl_add_ratio(wl, o, 1, 0, AP_BENCH_KEY_PARALLEL, 0, false,
				  err, err_size);
	if (rc == 0)
		rc = ap_bench_wl_finish(wl, err, err_size);
	return rc;
}

/* Frees what the workload allocated. */
void ap_bench_wl_destroy(struct ap_bench_wl *wl)
{
	for (int i = 0; i < wl->cmd_count; i++)
		for (int a = 0; a < wl->cmds[i].argc; a++)
			ap_free(wl->cmds[i].args[a].enc);
	ap_free(wl->sched);
	ap_free(wl->data);
	memset(wl, 0, sizeof(*wl));
}

/* -------------------------------------------------------- per connection */

/* Places connection idx of total: its start in the command cycle, its
 * sequential start and its part of the key range. */
void ap_bench_wl_conn_init(const struct ap_bench_wl *wl,
			   struct ap_bench_wl_conn *wc, unsigned idx,
			   unsigned total, uint64_t seed)
{
	uint64_t range = wl->key_range;
	uint64_t lo = (uint64_t)((unsigned __int128)range * idx / total);
	uint64_t hi = (uint64_t)((unsigned __int128)range * (idx + 1) / total);

	AP_ASSERT(total > 0 && idx < total);
	memset(wc, 0, sizeof(*wc));
	wc->sched_pos = wl->sched_len ? idx % wl->sched_len : 0;
	wc->rng.s = seed ^ ((uint64_t)(idx + 1) * 0xD1B54A32D192ED03ULL);
	(void)ap_bench_rng_next(&wc->rng);
	wc->part_lo = lo;
	wc->part_len = hi > lo ? hi - lo : 1; /* more connections than keys */
	if (wc->part_lo >= range)
		wc->part_lo = range - 1;
	for (int c = 0; c < wl->cmd_count; c++)
		wc->cursor[c] = wl->cmds[c].keypat == AP_BENCH_KEY_SEQ ? lo : 0;
}

/* The next key for command cmd, by its pattern. */
uint64_t ap_bench_wl_key_next(const struct ap_bench_wl *wl,
			      struct ap_bench_wl_conn *wc, int cmd)
{
	uint64_t off;

	switch (wl->cmds[cmd].keypat) {
	case AP_BENCH_KEY_SEQ:
		off = wc->cursor[cmd];
		wc->cursor[cmd] = off + 1 >= wl->key_range ? 0 : off + 1;
		return wl->key_min + off;
	case AP_BENCH_KEY_PARALLEL:
		off = wc->cursor[cmd];
		wc->cursor[cmd] = off + 1 >= wc->part_len ? 0 : off + 1;
		return wl->key_min + wc->part_lo + off;
	case AP_BENCH_KEY_ZIPF:
		return wl->key_min + ap_bench_zipf_next(&wl->zipf, &wc->rng) -
		       1;
	case AP_BENCH_KEY_GAUSS:
		for (int i = 0; i < GAUSS_TRIES; i++) {
			double x =
				wl->key_median +
				wl->key_stddev * ap_bench_rng_gauss(&wc->rng);

			x = floor(x + 0.5);
			if (x >= (double)wl->key_min &&
			    x <= (double)wl->key_max)
				return (uint64_t)x;
		}
		return (uint64_t)wl->key_median;
	default:
		return wl->key_min +
		       ap_bench_rng_below(&wc->rng, wl->key_range);
	}
}

/* The next value size: weighted list, uniform range, or fixed. */
size_t ap_bench_wl_size_next(const struct ap_bench_wl *wl,
			     struct ap_bench_wl_conn *wc)
{
	if (wl->size_list_count > 0) {
		uint64_t total = wl->size_cum[wl->size_list_count - 1];
		uint64_t x = ap_bench_rng_below(&wc->rng, total);
		int i = 0;

		while (x >= wl->size_cum[i])
			i++;
		return wl->size_list[i];
	}
	if (wl->data_min < wl->data_max)
		return wl->data_min +
		       (size_t)ap_bench_rng_below(
			       &wc->rng, wl->data_max - wl->data_min + 1);
	return wl->data_max;
}

/* Writes key as a bulk string: $len CRLF prefix digits CRLF. */
static char *put_key_bulk(const struct ap_bench_wl *wl, char *p, uint64_t key)
{
	size_t klen = wl->key_prefix_len + ap_client_u64_dec_len(key);

	p += ap_client_enc_bulk_head(p, klen);
	memcpy(p, wl->key_prefix, wl->key_prefix_len);
	p += wl->key_prefix_len;
	p += ap_client_u64_to_dec(p, key);
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

/* The key's bytes (prefix + digits) into buf; returns their length. */
static size_t put_key(const struct ap_bench_wl *wl, char *buf, uint64_t key)
{
	memcpy(buf, wl->key_prefix, wl->key_prefix_len);
	return wl->key_prefix_len +
	       ap_client_u64_to_dec(buf + wl->key_prefix_len, key);
}

/* An expiry in seconds, uniform in the range (0 when none is set). */
static uint64_t expiry_next(const struct ap_bench_wl *wl,
			    struct ap_bench_wl_conn *wc)
{
	if (wl->expiry_max == 0)
		return 0;
	return wl->expiry_min +
	       ap_bench_rng_below(&wc->rng,
				  wl->expiry_max - wl->expiry_min + 1);
}

/* A memcached binary request for the drawn command. */
static size_t mc_bin_encode(const struct ap_bench_wl *wl,
			    struct ap_bench_wl_conn *wc,
			    const struct ap_bench_cmd *cmd,
			    const struct ap_bench_draw *d, char *buf)
{
	size_t klen = wl->key_prefix_len + ap_client_u64_dec_len(d->key);
	bool set = cmd->mc_opcode == AP_CLIENT_MC_SET;
	size_t dlen = set ? d->dsize : 0;
	char *p = buf;

	p += ap_client_mc_header(p, cmd->mc_opcode, klen, set ? 8 : 0, dlen, 0);
	if (set) {
		ap_client_mc_set_extras(p, 0, (uint32_t)expiry_next(wl, wc));
		p += 8;
	}
	p += put_key(wl, p, d->key);
	memcpy(p, wl->data, dlen);
	return (size_t)(p + dlen - buf);
}

/* A memcached text request: "get K\r\n" or
 * "set K 0 <exptime> <bytes>\r\n<value>\r\n". */
static size_t mc_text_encode(const struct ap_bench_wl *wl,
			     struct ap_bench_wl_conn *wc,
			     const struct ap_bench_cmd *cmd,
			     const struct ap_bench_draw *d, char *buf)
{
	char *p = buf;

	if (cmd->mc_opcode != AP_CLIENT_MC_SET) {
		memcpy(p, "get ", 4);
		p += 4;
		p += put_key(wl, p, d->key);
		*p++ = '\r';
		*p++ = '\n';
		return (size_t)(p - buf);
	}
	memcpy(p, "set ", 4);
	p += 4;
	p += put_key(wl, p, d->key);
	memcpy(p, " 0 ", 3);
	p += 3;
	p += ap_client_u64_to_dec(p, expiry_next(wl, wc));
	*p++ = ' ';
	p += ap_client_u64_to_dec(p, d->dsize);
	*p++ = '\r';
	*p++ = '\n';
	memcpy(p, wl->data, d->dsize);
	p += d->dsize;
	*p++ = '\r';
	*p++ = '\n';
	return (size_t)(p - buf);
}

/* Draws the next command, key and value size; see bench.h. */
void ap_bench_wl_draw(const struct ap_bench_wl *wl, struct ap_bench_wl_conn *wc,
		      struct ap_bench_draw *d)
{
	int c = wl->sched[wc->sched_pos];
	const struct ap_bench_cmd *cmd = &wl->cmds[c];
	bool sized = ap_bench_proto_is_mc(wl->proto)
			     ? cmd->mc_opcode == AP_CLIENT_MC_SET
			     : cmd->has_data;

	if (++wc->sched_pos == wl->sched_len)
		wc->sched_pos = 0;
	d->cmd = c;
	d->key = cmd->has_key ? ap_bench_wl_key_next(wl, wc, c) : 0;
	d->dsize = sized ? ap_bench_wl_size_next(wl, wc) : 0;
}

/* Encodes a drawn request; see bench.h. Every __data__ of a command
 * carries the same drawn size. */
size_t ap_bench_wl_encode(const struct ap_bench_wl *wl,
			  struct ap_bench_wl_conn *wc,
			  const struct ap_bench_draw *d, char *buf)
{
	const struct ap_bench_cmd *cmd = &wl->cmds[d->cmd];
	char *p = buf;

	if (wl->proto == AP_BENCH_PROTO_MC_BIN)
		return mc_bin_encode(wl, wc, cmd, d, buf);
	if (wl->proto == AP_BENCH_PROTO_MC_TEXT)
		return mc_text_encode(wl, wc, cmd, d, buf);
	memcpy(p, cmd->head, cmd->head_len);
	p += cmd->head_len;
	for (int i = 0; i < cmd->argc; i++) {
		const struct ap_bench_arg *a = &cmd->args[i];

		switch (a->kind) {
		case AP_BENCH_ARG_LIT:
			memcpy(p, a->enc, a->enc_len);
			p += a->enc_len;
			break;
		case AP_BENCH_ARG_KEY:
			p = put_key_bulk(wl, p, d->key);
			break;
		case AP_BENCH_ARG_DATA:
			p += ap_client_enc_bulk(p, wl->data, d->dsize);
			break;
		case AP_BENCH_ARG_EXPIRY: {
			char digits[24];
			size_t n = ap_client_u64_to_dec(digits,
							expiry_next(wl, wc));

			p += ap_client_enc_bulk(p, digits, n);
			break;
		}
		}
	}
	AP_ASSERT((size_t)(p - buf) <= cmd->req_max);
	return (size_t)(p - buf);
}

/* Draws and encodes the connection's next request; see bench.h. */
size_t ap_bench_wl_next(const struct ap_bench_wl *wl,
			struct ap_bench_wl_conn *wc, char *buf, int *cmd_idx)
{
	struct ap_bench_draw d;

	ap_bench_wl_draw(wl, wc, &d);
	*cmd_idx = d.cmd;
	return ap_bench_wl_encode(wl, wc, &d, buf);
}

/* The cluster slot of a key number; see bench.h. */
unsigned ap_bench_wl_key_slot(const struct ap_bench_wl *wl, uint64_t key)
{
	char buf[sizeof(wl->key_prefix) + 24];

	return ap_key_slot(buf, put_key(wl, buf, key));
}
