/*
 * main.c - apiary-bench's entry point: parse options, probe the server
 * (and in cluster mode fetch its slot map), run the prefill and the
 * measured phase on the load threads, and write the table, JSON and HTML
 * reports. `--compare` only draws saved results.
 */
#include "bench/bench.h"
#include "bench/runner.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Seconds to wait for the last replies after the measured window. */
#define DRAIN_S 5
/* The prefill keeps at least this many requests in flight. */
#define PREFILL_PIPELINE_MIN 32
/* Longest INFO reply the probe reads. */
#define PROBE_CAPTURE_MAX (1024 * 1024)

static void on_signal(int sig)
{
	(void)sig;
	ap_bench_run_interrupt();
}

/* Monotonic nanoseconds. */
static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Draws saved JSON results into one page. */
static int compare_main(const struct ap_bench_opts *o)
{
	const char **jsons =
		ap_calloc((size_t)o->compare_count, sizeof(char *));
	const char **names =
		ap_calloc((size_t)o->compare_count, sizeof(char *));
	char err[512];
	int rc = 0;

	for (int i = 0; i < o->compare_count && rc == 0; i++) {
		size_t len;
		const char *slash = strrchr(o->compare_files[i], '/');

		names[i] = slash ? slash + 1 : o->compare_files[i];
		jsons[i] = ap_bench_file_read(o->compare_files[i], &len, err,
					      sizeof(err));
		if (jsons[i] == NULL)
			rc = -EIO;
	}
	if (rc == 0)
		rc = ap_bench_report_html(o->html_out, jsons, names,
					  o->compare_count, err, sizeof(err));
	if (rc == 0)
		printf("wrote %s (%d results)\n", o->html_out,
		       o->compare_count);
	else
		fprintf(stderr, "apiary-bench: %s\n", err);
	for (int i = 0; i < o->compare_count; i++)
		ap_free((void *)jsons[i]);
	ap_free(jsons);
	ap_free(names);
	return rc == 0 ? 0 : 1;
}

/* Resolves the server address (first result). */
static int resolve(const struct ap_bench_opts *o, struct sockaddr_storage *ss,
		   socklen_t *len, char *err, size_t err_size)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	struct addrinfo *res;
	char port[16];

	snprintf(port, sizeof(port), "%d", o->port);
	int rc = getaddrinfo(o->server, port, &hints, &res);

	if (rc != 0) {
		snprintf(err, err_size, "cannot resolve %s: %s", o->server,
			 gai_strerror(rc));
		return -EINVAL;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* Finds "name:value" in an INFO text and copies the value. */
static bool info_field(const char *s, size_t len, const char *name, char *out,
		       size_t out_size)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i + nl < len; i++) {
		if ((i == 0 || s[i - 1] == '\n') &&
		    memcmp(s + i, name, nl) == 0) {
			size_t j = i + nl, k = 0;

			while (j < len && s[j] != '\r' && s[j] != '\n' &&
			       k + 1 < out_size)
				out[k++] = s[j++];
			out[k] = '\0';
			return true;
		}
	}
	return false;
}

/* Reads from a blocking socket until parse() completes one reply. */
static int read_reply(int fd, struct ap_client_parser *p,
		      struct ap_bench_mct_parser *mct,
		      struct ap_client_reply *rep)
{
	char buf[4096];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n <= 0)
			return -ECONNRESET;
		for (size_t off = 0; off < (size_t)n;) {
			size_t used;
			int prc = mct != NULL
					  ? ap_bench_mct_parse(mct, buf + off,
							       (size_t)n - off,
							       &used, rep)
					  : ap_client_parse(p, buf + off,
							    (size_t)n - off,
							    &used, rep);

			off += used;
			if (prc < 0)
				return -EPROTO;
			if (prc == AP_CLIENT_REPLY)
				return 0;
		}
	}
}

/* memcached (either protocol): asks for the version. */
static int probe_mc(const struct ap_bench_opts *o, int fd,
		    struct ap_client_parser *p, char *version,
		    size_t version_size, const char **perr)
{
	struct ap_bench_mct_parser mct;
	struct ap_client_reply rep;
	char req[AP_CLIENT_MC_HDR_LEN];
	bool text = o->proto == AP_BENCH_PROTO_MC_TEXT;
	int rc;

	ap_bench_mct_parser_init(&mct);
	if (text) {
		rc = send(fd, "version\r\n", 9, MSG_NOSIGNAL) == 9 ? 0 : -EIO;
	} else {
		ap_client_mc_header(req, AP_CLIENT_MC_VERSION, 0, 0, 0, 0);
		rc = send(fd, req, sizeof(req), MSG_NOSIGNAL) ==
				     (ssize_t)sizeof(req)
			     ? 0
			     : -EIO;
	}
	if (rc == 0)
		rc = read_reply(fd, p, text ? &mct : NULL, &rep);
	*perr = text ? mct.err : p->err;
	if (rc == 0 && rep.is_error)
		rc = -EPROTO;
	if (rc == 0 && text && rep.text_len > 8)
		snprintf(version, version_size, "memcached %.*s",
			 (int)(rep.text_len - 8), rep.text + 8);
	else if (rc == 0 && !text && p->cap_len > AP_CLIENT_MC_HDR_LEN)
		snprintf(version, version_size, "memcached %.*s",
			 (int)(p->cap_len - AP_CLIENT_MC_HDR_LEN),
			 p->cap + AP_CLIENT_MC_HDR_LEN);
	if (rc == -EPROTO && *perr == NULL)
		*perr = "error reply to version";
	return rc;
}

/* RESP: INFO server, for the server's name and version. */
static int probe_resp(int fd, struct ap_client_parser *p, char *version,
		      size_t version_size)
{
	const char *info[] = {"INFO", "server"};
	struct ap_client_reply rep;
	int rc = ap_bench_sync_cmd(fd, p, 2, info, &rep);

	if (rc == 0 && !rep.is_error) {
		struct ap_client_value v;
		const char *derr;
		char ver[48];

		if (ap_client_value_decode(p->cap, p->cap_len, &v, &derr) > 0) {
			if (v.str != NULL &&
			    info_field(v.str, v.str_len, "apiary_version:", ver,
				       sizeof(ver)))
				snprintf(version, version_size, "apiary %s",
					 ver);
			else if (v.str != NULL &&
				 info_field(v.str, v.str_len,
					    "redis_version:", ver, sizeof(ver)))
				snprintf(version, version_size, "redis %s",
					 ver);
			ap_client_value_free(&v);
		}
	}
	return rc;
}

/* Connects once to check the server and learn its version. */
static int probe(const struct ap_bench_opts *o, const struct sockaddr *addr,
		 socklen_t addr_len, char *version, size_t version_size,
		 char *err, size_t err_size)
{
	struct ap_client_parser p;
	int fd = ap_bench_connect(addr, addr_len);
	const char *perr = NULL;
	int rc;

	if (fd < 0) {
		snprintf(err, err_size, "cannot connect to %s:%d: %s",
			 o->server, o->port, strerror(-fd));
		return fd;
	}
	ap_client_parser_init(&p, o->proto == AP_BENCH_PROTO_MC_BIN
					  ? AP_CLIENT_PROTO_MC_BIN
					  : AP_CLIENT_PROTO_RESP);
	ap_client_parser_capture(&p, PROBE_CAPTURE_MAX);
	if (ap_bench_proto_is_mc(o->proto)) {
		rc = probe_mc(o, fd, &p, version, version_size, &perr);
	} else {
		rc = probe_resp(fd, &p, version, version_size);
		perr = p.err;
	}
	if (rc < 0)
		snprintf(err, err_size, "%s:%d does not answer: %s", o->server,
			 o->port, rc == -EPROTO && perr ? perr : strerror(-rc));
	ap_client_parser_deinit(&p);
	close(fd);
	return rc;
}

/* Cluster mode: CLUSTER SLOTS from the seed node into a slot map. */
static int cluster_fetch(const struct ap_bench_opts *o,
			 const struct sockaddr *addr, socklen_t addr_len,
			 struct ap_bench_slots *m, char *err, size_t err_size)
{
	struct ap_client_parser p;
	struct ap_client_reply rep;
	struct ap_client_value v;
	const char *args[] = {"CLUSTER", "SLOTS"};
	const char *derr = "";
	int fd = ap_bench_connect(addr, addr_len);
	int rc;

	if (fd < 0) {
		snprintf(err, err_size, "cannot connect to %s:%d: %s",
			 o->server, o->port, strerror(-fd));
		return fd;
	}
	ap_client_parser_init(&p, AP_CLIENT_PROTO_RESP);
	ap_client_parser_capture(&p, PROBE_CAPTURE_MAX);
	rc = ap_bench_handshake(o, fd, err, err_size);
	if (rc == 0) {
		rc = ap_bench_sync_cmd(fd, &p, 2, args, &rep);
		if (rc < 0)
			snprintf(err, err_size, "CLUSTER SLOTS failed: %s",
				 rc == -EPROTO ? p.err : strerror(-rc));
	}
	if (rc == 0 && rep.is_error) {
		snprintf(err, err_size, "CLUSTER SLOTS failed: %.*s",
			 (int)rep.text_len, rep.text);
		rc = -EPROTO;
	}
	if (rc == 0 &&
	    (p.cap_truncated ||
	     ap_client_value_decode(p.cap, p.cap_len, &v, &derr) < 0)) {
		snprintf(err, err_size, "CLUSTER SLOTS reply unreadable: %s",
			 p.cap_truncated ? "too long" : derr);
		rc = -EPROTO;
	} else if (rc == 0) {
		rc = ap_bench_slots_load(m, &v, o->server, err, err_size);
		ap_client_value_free(&v);
	}
	ap_client_parser_deinit(&p);
	close(fd);
	return rc;
}

/* Makes room for every connection's descriptor (raises the soft limit up
 * to the hard one). */
static void raise_nofile(const struct ap_bench_opts *o,
			 const struct ap_bench_slots *slots)
{
	struct rlimit rl;
	/* Cluster mode: a connection per client to every node, including
	 * nodes learnt later from MOVED. */
	rlim_t nodes = slots ? AP_BENCH_NODES_MAX : 1;
	rlim_t want = (rlim_t)o->threads * (rlim_t)o->clients * nodes + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
		rl.rlim_cur = AP_MIN(want, rl.rlim_max);
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Prints what is about to run. */
static void print_header(const struct ap_bench_opts *o,
			 const struct ap_bench_wl *wl, const char *version,
			 const struct ap_bench_slots *slots)
{
	if (o->quiet)
		return;
	fprintf(stderr,
		"apiary-bench %s: %s:%d (%s), %d thread%s x %d connections, "
		"pipeline %d, ",
		AP_BENCH_VERSION, o->server, o->port, version, o->threads,
		o->threads > 1 ? "s" : "", o->clients, o->pipeline);
	if (o->test_time > 0)
		fprintf(stderr, "%.3g s", o->test_time);
	else
		fprintf(stderr, "%llu requests/connection",
			(unsigned long long)o->requests);
	if (o->rate > 0)
		fprintf(stderr, ", open loop at %.0f requests/s", o->rate);
	fprintf(stderr, ", keys %llu-%llu, values %zu-%zu B, commands",
		(unsigned long long)wl->key_min,
		(unsigned long long)wl->key_max, wl->data_min, wl->data_max);
	for (int i = 0; i < wl->cmd_count; i++)
		fprintf(stderr, " %s:%u/%c", wl->cmds[i].name,
			wl->cmds[i].weight, (char)wl->cmds[i].keypat);
	fprintf(stderr, "\n");
	if (slots != NULL) {
		fprintf(stderr, "cluster: %d node%s from CLUSTER SLOTS:",
			slots->node_count, slots->node_count > 1 ? "s" : "");
		for (int i = 0; i < slots->node_count; i++)
			fprintf(stderr, " %s:%d", slots->nodes[i].host,
				slots->nodes[i].port);
		fprintf(stderr, "\n");
	}
}

/* SETs every key once before the measured run. */
static int prefill(struct ap_bench_run *run, const struct ap_bench_opts *o,
		   struct ap_bench_result *main_res, char *err, size_t err_size)
{
	struct ap_bench_wl wl;
	struct ap_bench_result res;
	int rc = ap_bench_wl_build_prefill(&wl, o, err, err_size);

	if (rc < 0)
		return rc;
	uint64_t t = mono_ns() + 1000000;
	struct ap_bench_phase ph = {
		.wl = &wl,
		.name = "prefill",
		.t_start = t,
		.t_measure = t,
		.per_part = true,
		.pipeline = AP_MAX(o->pipeline, PREFILL_PIPELINE_MIN),
	};

	ap_bench_result_init(&res, o, &wl);
	rc = ap_bench_run_phase(run, &ph, &res, err, err_size);
	main_res->prefill_keys = res.total.hist.count;
	main_res->prefill_s = res.duration_s;
	if (!o->quiet)
		fprintf(stderr, "prefill: %llu keys in %.2f s (%llu errors)\n",
			(unsigned long long)res.total.hist.count,
			res.duration_s, (unsigned long long)res.total.errors);
	ap_bench_result_deinit(&res);
	ap_bench_wl_destroy(&wl);
	return rc;
}

/* Writes the JSON and HTML outputs the options ask for. */
static int write_outputs(const struct ap_bench_opts *o,
			 const struct ap_bench_result *res)
{
	struct ap_bench_sb sb = {0};
	char err[512];
	int rc = 0;

	ap_bench_report_json(&sb, res);
	if (o->json_out != NULL) {
		FILE *f = fopen(o->json_out, "w");

		if (f == NULL || fwrite(sb.buf, 1, sb.len, f) != sb.len ||
		    fclose(f) != 0) {
			fprintf(stderr, "apiary-bench: cannot write %s: %s\n",
				o->json_out, strerror(errno));
			rc = -EIO;
		}
	}
	if (o->html_out != NULL) {
		const char *jsons[1] = {sb.buf};
		const char *names[1] = {o->label[0] ? o->label : "run"};

		if (ap_bench_report_html(o->html_out, jsons, names, 1, err,
					 sizeof(err)) < 0) {
			fprintf(stderr, "apiary-bench: %s\n", err);
			rc = -EIO;
		}
	}
	ap_bench_sb_free(&sb);
	return rc;
}

/* Runs the benchmark the options describe. */
static int bench_main(const struct ap_bench_opts *o)
{
	struct ap_bench_wl wl;
	struct ap_bench_result res;
	struct sockaddr_storage ss;
	socklen_t ss_len;
	struct ap_bench_slots *slots = NULL;
	char err[512] = "", version[64] = "unknown";
	int rc;

	if (o->rate > 0 && o->test_time <= 0) {
		fprintf(stderr, "apiary-bench: --rate needs --test-time\n");
		return 2;
	}
	if (ap_bench_wl_build(&wl, o, err, sizeof(err)) < 0 ||
	    resolve(o, &ss, &ss_len, err, sizeof(err)) < 0 ||
	    probe(o, (struct sockaddr *)&ss, ss_len, version, sizeof(version),
		  err, sizeof(err)) < 0) {
		fprintf(stderr, "apiary-bench: %s\n", err);
		return 1;
	}
	if (o->cluster) {
		slots = ap_malloc(sizeof(*slots));
		if (cluster_fetch(o, (struct sockaddr *)&ss, ss_len, slots, err,
				  sizeof(err)) < 0) {
			fprintf(stderr, "apiary-bench: %s\n", err);
			ap_free(slots);
			ap_bench_wl_destroy(&wl);
			return 1;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	raise_nofile(o, slots);
	print_header(o, &wl, version, slots);
	struct ap_bench_run *run = ap_bench_run_create(
		o, (struct sockaddr *)&ss, ss_len, slots, err, sizeof(err));

	if (run == NULL) {
		fprintf(stderr, "apiary-bench: %s\n", err);
		ap_free(slots);
		ap_bench_wl_destroy(&wl);
		return 1;
	}
	ap_bench_result_init(&res, o, &wl);
	snprintf(res.server_version, sizeof(res.server_version), "%s", version);
	rc = o->prefill ? prefill(run, o, &res, err, sizeof(err)) : 0;
	if (rc == 0) {
		uint64_t t = mono_ns() + 1000000;
		uint64_t warm = (uint64_t)(o->warmup * 1e9);
		struct ap_bench_phase ph = {
			.wl = &wl,
			.name = "run",
			.t_start = t,
			.t_measure = t + warm,
			.t_end =
				o->test_time > 0
					? t + warm +
						  (uint64_t)(o->test_time * 1e9)
					: 0,
			.drain_ns = DRAIN_S * 1000000000ULL,
			.requests = o->requests,
			.pipeline = o->pipeline,
			.batch = o->pipeline_batch,
			.rate = o->rate,
		};

		rc = ap_bench_run_phase(run, &ph, &res, err, sizeof(err));
		ap_bench_report_table(stdout, &res);
		if (write_outputs(o, &res) < 0 && rc == 0)
			rc = -EIO;
	}
	if (rc < 0 && err[0] != '\0')
		fprintf(stderr, "apiary-bench: %s\n", err);
	ap_bench_run_destroy(run);
	ap_bench_result_deinit(&res);
	ap_bench_wl_destroy(&wl);
	ap_free(slots);
	return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct ap_bench_opts o;
	char err[512];
	int rc = ap_bench_opts_parse(&o, argc, argv, stdout, err, sizeof(err));

	if (rc == 1)
		return 0;
	if (rc < 0) {
		fprintf(stderr, "apiary-bench: %s\n", err);
		return 2;
	}
	return o.compare ? compare_main(&o) : bench_main(&o);
}
