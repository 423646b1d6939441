/*
 * report.c - what apiary-bench tells its user: the final table, the JSON
 * document (everything needed to redraw or compare a run) and a
 * self-contained HTML page whose inline script draws SVG plots from one or
 * more of those JSON documents. The page loads nothing from the network.
 */
#include "bench/bench.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Percentile curve resolution: points per decade of 1/(1-p). */
#define CURVE_STEPS_PER_DECADE 20
/* The curve stops at 99.99999% (or where the samples run out). */
#define CURVE_DECADES_MAX 7

/* ------------------------------------------------------------ strings */

/* Appends len bytes, growing the buffer (always NUL-terminated). */
void ap_bench_sb_append(struct ap_bench_sb *sb, const char *s, size_t len)
{
	if (sb->len + len + 1 > sb->cap) {
		size_t cap = sb->cap ? sb->cap : 4096;

		while (cap < sb->len + len + 1)
			cap *= 2;
		sb->buf = ap_realloc(sb->buf, cap);
		sb->cap = cap;
	}
	memcpy(sb->buf + sb->len, s, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

/* Appends formatted text. */
void ap_bench_sb_printf(struct ap_bench_sb *sb, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	AP_ASSERT(n >= 0);
	if ((size_t)n < sizeof(small)) {
		ap_bench_sb_append(sb, small, (size_t)n);
		return;
	}
	char *big = ap_malloc((size_t)n + 1);

	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	ap_bench_sb_append(sb, big, (size_t)n);
	ap_free(big);
}

void ap_bench_sb_free(struct ap_bench_sb *sb)
{
	ap_free(sb->buf);
	memset(sb, 0, sizeof(*sb));
}

/* Appends s as a JSON string literal. */
static void sb_json_str(struct ap_bench_sb *sb, const char *s)
{
	ap_bench_sb_append(sb, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			ap_bench_sb_printf(sb, "\\%c", ch);
		else if (ch < 0x20)
			ap_bench_sb_printf(sb, "\\u%04x", ch);
		else if (ch == '<')
			ap_bench_sb_append(sb, "\\u003c", 6); /* safe in HTML */
		else
			ap_bench_sb_append(sb, (const char *)&ch, 1);
	}
	ap_bench_sb_append(sb, "\"", 1);
}

/* -------------------------------------------------------------- results */

/* Prepares an empty result for the run described by o and wl. */
void ap_bench_result_init(struct ap_bench_result *r,
			  const struct ap_bench_opts *o,
			  const struct ap_bench_wl *wl)
{
	memset(r, 0, sizeof(*r));
	r->opts = o;
	r->wl = wl;
	for (int i = 0; i < AP_BENCH_CMDS_MAX; i++)
		if (i < wl->cmd_count)
			ap_bench_cmd_stats_init(&r->cmds[i]);
	ap_bench_cmd_stats_init(&r->total);
	ap_bench_hist_init(&r->sched_lag);
	r->server_cpu_s = -1;
}

void ap_bench_result_deinit(struct ap_bench_result *r)
{
	for (int i = 0; i < r->wl->cmd_count; i++)
		ap_bench_cmd_stats_deinit(&r->cmds[i]);
	ap_bench_cmd_stats_deinit(&r->total);
	ap_bench_hist_deinit(&r->sched_lag);
	ap_free(r->ticks);
	r->ticks = NULL;
}

/* Appends one second of the timeline. */
void ap_bench_result_add_tick(struct ap_bench_result *r,
			      const struct ap_bench_tick *t)
{
	if (r->tick_count == r->tick_cap) {
		r->tick_cap = r->tick_cap ? r->tick_cap * 2 : 64;
		r->ticks = ap_realloc(r->ticks, r->tick_cap * sizeof(*t));
	}
	r->ticks[r->tick_count++] = *t;
}

/* Requests per second over the measured window. */
double ap_bench_result_ops_per_sec(const struct ap_bench_result *r)
{
	return r->duration_s > 0 ? (double)r->total.ops / r->duration_s : 0;
}

static const char *proto_name(enum ap_bench_proto p)
{
	switch (p) {
	case AP_BENCH_PROTO_RESP3:
		return "resp3";
	case AP_BENCH_PROTO_MC_BIN:
		return "memcache_binary";
	case AP_BENCH_PROTO_MC_TEXT:
		return "memcache_text";
	default:
		return "resp2";
	}
}

/* The --io setting as the option spells it. */
static const char *io_name(enum ap_bench_io io)
{
	switch (io) {
	case AP_BENCH_IO_URING:
		return "uring";
	case AP_BENCH_IO_EPOLL:
		return "epoll";
	default:
		return "auto";
	}
}

/* ---------------------------------------------------------------- table */

/* Nanoseconds as milliseconds. */
static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* One row of the table. */
static void table_row(FILE *f, const char *name,
		      const struct ap_bench_cmd_stats *s, double secs)
{
	const struct ap_bench_hist *h = &s->hist;
	double d = secs > 0 ? secs : 1;

	fprintf(f,
		"%-10s %12.2f %11.2f %9.3f %9.3f %9.3f %9.3f %10.3f %11.3f "
		"%10.3f %11.2f\n",
		name, (double)s->ops / d, (double)s->misses / d,
		ap_bench_hist_mean(h) / 1e6,
		ms(ap_bench_hist_percentile(h, 50)),
		ms(ap_bench_hist_percentile(h, 90)),
		ms(ap_bench_hist_percentile(h, 99)),
		ms(ap_bench_hist_percentile(h, 99.9)),
		ms(ap_bench_hist_percentile(h, 99.99)),
		ms(h->count ? h->max : 0),
		(double)(s->bytes_in + s->bytes_out) / 1024.0 / d);
}

/* CPU lines: the bench's own and the server's. */
static void table_cpu(FILE *f, const struct ap_bench_result *r)
{
	double cpu = r->bench_user_s + r->bench_sys_s;
	double wall = r->duration_s > 0 ? r->duration_s : 1;
	uint64_t reqs = r->total.hist.count;

	fprintf(f, "Bench CPU: user %.2f s, sys %.2f s = %.0f%% of a core",
		r->bench_user_s, r->bench_sys_s, 100.0 * cpu / wall);
	if (r->idle_poll_s > 0)
		fprintf(f, " (%.0f%% busy, the rest polling idle)",
			100.0 * (cpu - r->idle_poll_s) / wall);
	if (reqs > 0)
		fprintf(f, ", %.2f us/request", cpu * 1e6 / (double)reqs);
	for (int i = 0; i < r->thread_count && r->thread_count > 1; i++)
		fprintf(f, "%s%.0f%%", i ? " " : " (threads: ",
			100.0 * r->thread_cpu_s[i] / wall);
	fprintf(f, "%s\n", r->thread_count > 1 ? ")" : "");
	if (r->server_cpu_s >= 0) {
		fprintf(f, "Server CPU: %.2f s = %.0f%% of a core",
			r->server_cpu_s, 100.0 * r->server_cpu_s / wall);
		if (reqs > 0)
			fprintf(f, ", %.3f us/request",
				r->server_cpu_s * 1e6 / (double)reqs);
		fprintf(f, "\n");
	}
}

/* Prints the final summary; see bench.h. */
void ap_bench_report_table(FILE *f, const struct ap_bench_result *r)
{
	static const char rule[] =
		"-------------------------------------------------------------"
		"-------------------------------------------------------------"
		"------\n";
	const struct ap_bench_wl *wl = r->wl;

	fprintf(f, "\n%-10s %12s %11s %9s %9s %9s %9s %10s %11s %10s %11s\n",
		"Type", "Ops/sec", "Misses/sec", "Avg(ms)", "p50(ms)",
		"p90(ms)", "p99(ms)", "p99.9(ms)", "p99.99(ms)", "Max(ms)",
		"KB/sec");
	fputs(rule, f);
	for (int i = 0; i < wl->cmd_count; i++)
		table_row(f, wl->cmds[i].name, &r->cmds[i], r->duration_s);
	table_row(f, "Totals", &r->total, r->duration_s);
	fputs(rule, f);
	fprintf(f,
		"%.2f s measured, %llu requests, %llu errors, %llu MOVED, "
		"%llu ASK, %llu unanswered, %llu connection errors\n",
		r->duration_s, (unsigned long long)r->total.hist.count,
		(unsigned long long)r->total.errors,
		(unsigned long long)r->total.moved,
		(unsigned long long)r->total.ask,
		(unsigned long long)r->incomplete,
		(unsigned long long)r->conn_errors);
	if (r->sched_lag.count > 0)
		fprintf(f,
			"Open loop: requests made due late by the bench "
			"itself: "
			"p50 %.1f us, p99 %.1f us, max %.1f us%s\n",
			(double)ap_bench_hist_percentile(&r->sched_lag, 50) /
				1e3,
			(double)ap_bench_hist_percentile(&r->sched_lag, 99) /
				1e3,
			(double)r->sched_lag.max / 1e3,
			ap_bench_hist_percentile(&r->sched_lag, 99) > 1000000
				? " (the bench fell behind: latencies include "
				  "its own delay)"
				: "");
	table_cpu(f, r);
	if (r->io_desc[0] != '\0')
		fprintf(f, "I/O: %s%s\n", r->io_desc,
			r->recv_nobufs ? " (receive buffers ran short)" : "");
	if (r->cluster_nodes > 0)
		fprintf(f, "Cluster: %d nodes (MOVED and ASK followed)\n",
			r->cluster_nodes);
}

/* ----------------------------------------------------------------- JSON */

/* Appends a latency in microseconds (ns precision). */
static void json_us(struct ap_bench_sb *sb, const char *key, uint64_t ns,
		    bool comma)
{
	ap_bench_sb_printf(sb, "\"%s\": %.3f%s", key, (double)ns / 1e3,
			   comma ? ", " : "");
}

/* The percentile curve: points evenly spaced in log10(1 / (1 - p)). */
static void json_curve(struct ap_bench_sb *sb, const struct ap_bench_hist *h)
{
	double decades = h->count > 1 ? log10((double)h->count) : 0;

	if (decades > CURVE_DECADES_MAX)
		decades = CURVE_DECADES_MAX;
	ap_bench_sb_printf(sb, "\"percentiles\": [");
	int steps = (int)(decades * CURVE_STEPS_PER_DECADE);

	for (int k = 0; k <= steps && h->count > 0; k++) {
		double x = (double)k / CURVE_STEPS_PER_DECADE;
		double p = 100.0 * (1.0 - pow(10.0, -x));

		ap_bench_sb_printf(sb, "[%.6f, %.3f], ", p,
				   (double)ap_bench_hist_percentile(h, p) /
					   1e3);
	}
	ap_bench_sb_printf(sb, "[100, %.3f]]", (double)h->max / 1e3);
}

/* One command's (or the totals') statistics object. */
static void json_cmd(struct ap_bench_sb *sb, const char *name,
		     const struct ap_bench_cmd_stats *s, double secs,
		     bool comma)
{
	const struct ap_bench_hist *h = &s->hist;

	sb_json_str(sb, name);
	ap_bench_sb_printf(
		sb,
		": {\"ops\": %llu, \"ops_per_sec\": %.2f, "
		"\"requests\": %llu, \"errors\": %llu, "
		"\"misses\": %llu, \"moved\": %llu, \"ask\": %llu, "
		"\"bytes_out\": %llu, \"bytes_in\": %llu,\n",
		(unsigned long long)s->ops,
		secs > 0 ? (double)s->ops / secs : 0.0,
		(unsigned long long)h->count, (unsigned long long)s->errors,
		(unsigned long long)s->misses, (unsigned long long)s->moved,
		(unsigned long long)s->ask, (unsigned long long)s->bytes_out,
		(unsigned long long)s->bytes_in);
	ap_bench_sb_printf(sb, "    \"latency_us\": {");
	json_us(sb, "min", h->count ? h->min : 0, true);
	ap_bench_sb_printf(sb, "\"mean\": %.3f, ", ap_bench_hist_mean(h) / 1e3);
	json_us(sb, "p50", ap_bench_hist_percentile(h, 50), true);
	json_us(sb, "p90", ap_bench_hist_percentile(h, 90), true);
	json_us(sb, "p99", ap_bench_hist_percentile(h, 99), true);
	json_us(sb, "p99.9", ap_bench_hist_percentile(h, 99.9), true);
	json_us(sb, "p99.99", ap_bench_hist_percentile(h, 99.99), true);
	json_us(sb, "max", h->max, false);
	ap_bench_sb_printf(sb, "},\n    ");
	json_curve(sb, h);
	ap_bench_sb_printf(sb, "}%s\n", comma ? "," : "");
}

/* The "config" object. */
static void json_config(struct ap_bench_sb *sb, const struct ap_bench_result *r)
{
	const struct ap_bench_opts *o = r->opts;
	const struct ap_bench_wl *wl = r->wl;

	ap_bench_sb_printf(sb, "  \"config\": {\"server\": ");
	sb_json_str(sb, o->server);
	ap_bench_sb_printf(
		sb,
		", \"port\": %d, \"protocol\": \"%s\", \"threads\": %d, "
		"\"clients\": %d, \"pipeline\": %d, \"pipeline_batch\": %s, "
		"\"test_time\": %.3f, "
		"\"requests\": %llu, \"rate\": %.3f, \"warmup\": %.3f, "
		"\"prefill\": %s, \"key_minimum\": %llu, \"key_maximum\": "
		"%llu, "
		"\"data_size_min\": %zu, \"data_size_max\": %zu, "
		"\"expiry_min\": %u, \"expiry_max\": %u, "
		"\"cluster_mode\": %s, \"cluster_nodes\": %d, \"io\": \"%s\", "
		"\"key_prefix\": ",
		o->port, proto_name(o->proto), o->threads, o->clients,
		o->pipeline, o->pipeline_batch ? "true" : "false", o->test_time,
		(unsigned long long)(o->test_time > 0 ? 0 : o->requests),
		o->rate, o->warmup, o->prefill ? "true" : "false",
		(unsigned long long)wl->key_min,
		(unsigned long long)wl->key_max, wl->data_min, wl->data_max,
		wl->expiry_min, wl->expiry_max, o->cluster ? "true" : "false",
		r->cluster_nodes, io_name(o->io));
	sb_json_str(sb, o->key_prefix);
	ap_bench_sb_printf(sb, ",\n    \"commands\": [");
	for (int i = 0; i < wl->cmd_count; i++) {
		ap_bench_sb_printf(sb, "%s{\"name\": ", i ? ", " : "");
		sb_json_str(sb, wl->cmds[i].name);
		ap_bench_sb_printf(
			sb, ", \"ratio\": %u, \"key_pattern\": \"%c\"}",
			wl->cmds[i].weight, (char)wl->cmds[i].keypat);
	}
	ap_bench_sb_printf(sb, "]},\n");
}

/* The "server" and "run" objects. */
static void json_run(struct ap_bench_sb *sb, const struct ap_bench_result *r)
{
	uint64_t reqs = r->total.hist.count;
	double wall = r->duration_s > 0 ? r->duration_s : 1;
	double cpu = r->bench_user_s + r->bench_sys_s;

	ap_bench_sb_printf(sb, "  \"server\": {\"version\": ");
	sb_json_str(sb, r->server_version);
	ap_bench_sb_printf(sb, ", \"pid\": %d", r->opts->server_pid);
	if (r->server_cpu_s >= 0)
		ap_bench_sb_printf(sb,
				   ", \"cpu_s\": %.3f, \"core_utilization\": "
				   "%.4f, \"cpu_us_per_request\": %.4f",
				   r->server_cpu_s, r->server_cpu_s / wall,
				   reqs ? r->server_cpu_s * 1e6 / (double)reqs
					: 0.0);
	ap_bench_sb_printf(sb, "},\n  \"io\": ");
	sb_json_str(sb, r->io_desc);
	ap_bench_sb_printf(
		sb,
		",\n  \"run\": {\"duration_s\": %.4f, \"ops\": %llu, "
		"\"ops_per_sec\": %.2f, \"requests\": %llu, \"errors\": %llu, "
		"\"misses\": %llu, \"moved\": %llu, \"ask\": %llu, "
		"\"unanswered\": %llu, \"connection_errors\": %llu, "
		"\"recv_nobufs\": %llu,\n"
		"    \"prefill\": {\"keys\": %llu, \"seconds\": %.3f},\n"
		"    \"bench_cpu\": {\"user_s\": %.3f, \"sys_s\": %.3f, "
		"\"idle_poll_s\": %.3f, \"core_utilization\": %.4f, "
		"\"cpu_us_per_request\": %.4f, \"threads_s\": [",
		r->duration_s, (unsigned long long)r->total.ops,
		ap_bench_result_ops_per_sec(r), (unsigned long long)reqs,
		(unsigned long long)r->total.errors,
		(unsigned long long)r->total.misses,
		(unsigned long long)r->total.moved,
		(unsigned long long)r->total.ask,
		(unsigned long long)r->incomplete,
		(unsigned long long)r->conn_errors,
		(unsigned long long)r->recv_nobufs,
		(unsigned long long)r->prefill_keys, r->prefill_s,
		r->bench_user_s, r->bench_sys_s, r->idle_poll_s, cpu / wall,
		reqs ? cpu * 1e6 / (double)reqs : 0.0);
	for (int i = 0; i < r->thread_count; i++)
		ap_bench_sb_printf(sb, "%s%.3f", i ? ", " : "",
				   r->thread_cpu_s[i]);
	ap_bench_sb_printf(sb, "]},\n    \"schedule_lag_us\": {");
	json_us(sb, "p50", ap_bench_hist_percentile(&r->sched_lag, 50), true);
	json_us(sb, "p99", ap_bench_hist_percentile(&r->sched_lag, 99), true);
	json_us(sb, "max", r->sched_lag.max, false);
	ap_bench_sb_printf(sb, "}},\n");
}

/* The per-second timeline. */
static void json_timeline(struct ap_bench_sb *sb,
			  const struct ap_bench_result *r)
{
	ap_bench_sb_printf(sb, "  \"timeline\": [");
	for (size_t i = 0; i < r->tick_count; i++) {
		const struct ap_bench_tick *t = &r->ticks[i];

		ap_bench_sb_printf(sb,
				   "%s\n    {\"t\": %.3f, \"ops\": %llu, "
				   "\"errors\": %llu, ",
				   i ? "," : "", t->t,
				   (unsigned long long)t->ops,
				   (unsigned long long)t->errors);
		json_us(sb, "p50_us", t->p50, true);
		json_us(sb, "p99_us", t->p99, true);
		json_us(sb, "p99.9_us", t->p999, true);
		json_us(sb, "max_us", t->max, false);
		ap_bench_sb_printf(sb, "}");
	}
	ap_bench_sb_printf(sb, "]\n");
}

/* Writes the whole result as JSON; see bench.h. */
void ap_bench_report_json(struct ap_bench_sb *sb,
			  const struct ap_bench_result *r)
{
	ap_bench_sb_printf(sb, "{\n  \"tool\": \"apiary-bench\", "
			       "\"version\": \"" AP_BENCH_VERSION "\", "
			       "\"label\": ");
	sb_json_str(sb, r->opts->label);
	ap_bench_sb_printf(sb, ",\n  \"command_line\": ");
	sb_json_str(sb, r->opts->cmdline);
	ap_bench_sb_printf(sb, ",\n");
	json_config(sb, r);
	json_run(sb, r);
	ap_bench_sb_printf(sb, "  \"commands\": {\n  ");
	for (int i = 0; i < r->wl->cmd_count; i++) {
		json_cmd(sb, r->wl->cmds[i].name, &r->cmds[i], r->duration_s,
			 true);
		ap_bench_sb_printf(sb, "  ");
	}
	json_cmd(sb, "Totals", &r->total, r->duration_s, false);
	ap_bench_sb_printf(sb, "  },\n");
	json_timeline(sb, r);
	ap_bench_sb_printf(sb, "}\n");
}

/* ----------------------------------------------------------------- HTML */

/* The page's style and plotting script (no external resources). */
static const char html_head[] =
	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
	"<title>apiary-bench</title>\n<style>\n"
	"body{font:14px system-ui,sans-serif;margin:24px;color:#222}\n"
	"table{border-collapse:collapse;margin:8px 0}\n"
	"td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\n"
	"th{background:#f3f3f3}td:first-child{text-align:left}\n"
	"svg{background:#fff;border:1px solid #ddd}\n"
	"svg text{font:11px sans-serif}\n"
	".cmd{color:#666;font:12px monospace}\n"
	"</style></head><body>\n<h1>apiary-bench</h1>\n"
	"<div id=\"summary\"></div>\n"
	"<h2>Latency by percentile</h2><div id=\"lat\"></div>\n"
	"<h2>Throughput over time</h2><div id=\"tput\"></div>\n"
	"<h2>p99 latency over time</h2><div id=\"p99t\"></div>\n"
	"<script>\nconst RUNS = [\n";

static const char html_tail[] =
	"];\n"
	"const COLORS=['#1f77b4','#d62728','#2ca02c','#ff7f0e','#9467bd',"
	"'#8c564b','#e377c2','#17becf','#7f7f7f','#bcbd22'];\n"
	"const DASH=['','6,3','2,2','8,3,2,3','1,3'];\n"
	"function esc(s){return String(s).replace(/[&<>\"]/g,"
	"c=>({'&':'&amp;','<':'&lt;','>':'&gt;','\"':'&quot;'}[c]));}\n"
	"function label(run){return run.r.label||run.name;}\n"
	"function fmtUs(v){const f=x=>String(Number(x.toPrecision(3)));"
	"return v>=1e6?f(v/1e6)+' s':v>=1000?f(v/1000)+' ms':f(v)+' us';}\n"
	"function ticks(lo,hi,log){const t=[];if(log){for(let e=Math.floor("
	"Math.log10(lo));e<=Math.ceil(Math.log10(hi));e++)for(const m of "
	"[1,2,5]){const v=m*Math.pow(10,e);if(v>=lo&&v<=hi)t.push(v);}return "
	"t;}const step=Math.pow(10,Math.floor(Math.log10((hi-lo)/5||1)));"
	"let s=step;for(const m of [1,2,5,10])if((hi-lo)/(step*m)<=8){s=step*m;"
	"break;}for(let v=Math.ceil(lo/s)*s;v<=hi+1e-9;v+=s)t.push(v);"
	"return t;}\n"
	"function plot(id,series,o){const W=900,H=380,L=80,R=190,T=15,B=45;"
	"let xs=[],ys=[];for(const s of series)for(const p of s.pts){"
	"xs.push(p[0]);if(!o.ylog||p[1]>0)ys.push(p[1]);}"
	"if(!xs.length){document.getElementById(id).textContent='no data';"
	"return;}let x0=Math.min(...xs),x1=Math.max(...xs),"
	"y0=o.ylog?Math.min(...ys):0,y1=Math.max(...ys);if(x1==x0)x1=x0+1;"
	"if(o.ylog){y0=Math.pow(10,Math.floor(Math.log10(y0)));"
	"y1=Math.pow(10,Math.ceil(Math.log10(y1)));}else{y1=y1*1.05||1;}"
	"const fy=v=>o.ylog?Math.log10(Math.max(v,y0)):v;"
	"const X=v=>L+(v-x0)/(x1-x0)*(W-L-R),Y=v=>H-B-(fy(v)-fy(y0))/"
	"(fy(y1)-fy(y0))*(H-T-B);"
	"let g=`<svg width=\"${W}\" height=\"${H}\" "
	"xmlns=\"http://www.w3.org/2000/svg\">`;"
	"for(const v of ticks(y0,y1,o.ylog)){g+=`<line x1=\"${L}\" "
	"x2=\"${W-R}\" y1=\"${Y(v)}\" y2=\"${Y(v)}\" stroke=\"#eee\"/>"
	"<text x=\"${L-5}\" y=\"${Y(v)+4}\" text-anchor=\"end\">"
	"${o.yfmt(v)}</text>`;}"
	"for(const v of (o.xticks||ticks(x0,x1,false))){if(v<x0||v>x1)"
	"continue;g+=`<line x1=\"${X(v)}\" x2=\"${X(v)}\" y1=\"${T}\" "
	"y2=\"${H-B}\" stroke=\"#eee\"/><text x=\"${X(v)}\" y=\"${H-B+15}\" "
	"text-anchor=\"middle\">${o.xfmt(v)}</text>`;}"
	"g+=`<text x=\"${(L+W-R)/2}\" y=\"${H-8}\" text-anchor=\"middle\">"
	"${o.xlabel}</text><text x=\"14\" y=\"${(T+H-B)/2}\" "
	"transform=\"rotate(-90 14 ${(T+H-B)/2})\" text-anchor=\"middle\">"
	"${o.ylabel}</text>`;"
	"series.forEach((s,i)=>{const d=s.pts.map((p,k)=>(k?'L':'M')+"
	"X(p[0]).toFixed(1)+','+Y(p[1]).toFixed(1)).join('');"
	"g+=`<path d=\"${d}\" fill=\"none\" stroke=\"${s.color}\" "
	"stroke-width=\"1.8\" stroke-dasharray=\"${s.dash}\"/>`;"
	"const ly=T+12+i*16;g+=`<line x1=\"${W-R+10}\" x2=\"${W-R+34}\" "
	"y1=\"${ly-4}\" y2=\"${ly-4}\" stroke=\"${s.color}\" "
	"stroke-width=\"2\" stroke-dasharray=\"${s.dash}\"/><text "
	"x=\"${W-R+38}\" y=\"${ly}\">${esc(s.name)}</text>`;});"
	"document.getElementById(id).innerHTML=g+'</svg>';}\n"
	"const pctX=p=>p>=100?null:Math.log10(100/(100-p));\n"
	"function pctFmt(x){const p=100-100/Math.pow(10,x);"
	"return (x==0?'0':p.toFixed(Math.max(0,Math.round(x)-2)))+'%';}\n"
	"let lat=[],tput=[],p99t=[];\n"
	"RUNS.forEach((run,ri)=>{const c=COLORS[ri%COLORS.length];"
	"const cmds=Object.keys(run.r.commands||{});"
	"cmds.forEach((name,ci)=>{if(cmds.length>2&&name=='Totals')return;"
	"const pts=[];for(const p of run.r.commands[name].percentiles){"
	"const x=pctX(p[0]);if(x!==null&&p[1]>0)pts.push([x,p[1]]);}"
	"lat.push({name:label(run)+' '+name,color:c,dash:DASH[ci%DASH.length],"
	"pts});});"
	"const tl=run.r.timeline||[];"
	"tput.push({name:label(run),color:c,dash:'',pts:tl.map(t=>[t.t,t.ops])}"
	");"
	"p99t.push({name:label(run)+' p99',color:c,dash:'',"
	"pts:tl.map(t=>[t.t,t.p99_us])});"
	"p99t.push({name:label(run)+' max',color:c,dash:'2,2',"
	"pts:tl.map(t=>[t.t,t.max_us])});});\n"
	"plot('lat',lat,{ylog:true,xlabel:'percentile',ylabel:'latency',"
	"yfmt:fmtUs,xfmt:pctFmt,xticks:[0,1,2,3,4,5,6,7]});\n"
	"plot('tput',tput,{xlabel:'seconds',ylabel:'requests/s',"
	"yfmt:v=>v>=1e6?(v/1e6)+'M':v>=1e3?(v/1e3)+'k':v,xfmt:v=>v});\n"
	"plot('p99t',p99t,{ylog:true,xlabel:'seconds',ylabel:'latency',"
	"yfmt:fmtUs,xfmt:v=>v});\n"
	"let h='<table><tr><th>run</th><th>ops/s</th><th>p50</th><th>p99</th>"
	"<th>p99.9</th><th>max</th><th>bench CPU us/req</th>"
	"<th>server CPU us/req</th><th>server</th></tr>';\n"
	"for(const run of RUNS){const r=run.r,t=(r.commands||{}).Totals||{},"
	"l=t.latency_us||{};const sv=r.server||{};"
	"h+=`<tr><td>${esc(label(run))}</td><td>${(r.run.ops_per_sec||0)."
	"toFixed(0)}</td><td>${fmtUs(l.p50||0)}</td><td>${fmtUs(l.p99||0)}"
	"</td><td>${fmtUs(l['p99.9']||0)}</td><td>${fmtUs(l.max||0)}</td>"
	"<td>${(r.run.bench_cpu.cpu_us_per_request||0).toFixed(2)}</td>"
	"<td>${sv.cpu_us_per_request!==undefined?sv.cpu_us_per_request."
	"toFixed(2):'-'}</td><td>${esc(sv.version||'')}</td></tr>`;}\n"
	"h+='</table>';for(const run of RUNS)h+=`<div class=\"cmd\">"
	"${esc(label(run))}: ${esc(run.r.command_line||'')}</div>`;\n"
	"document.getElementById('summary').innerHTML=h;\n"
	"</script></body></html>\n";

/* Appends a JSON document for a <script> block: "</" becomes "<\/". */
static void sb_script_safe(struct ap_bench_sb *sb, const char *s)
{
	const char *p;

	while ((p = strstr(s, "</")) != NULL) {
		ap_bench_sb_append(sb, s, (size_t)(p - s));
		ap_bench_sb_append(sb, "<\\/", 3);
		s = p + 2;
	}
	ap_bench_sb_append(sb, s, strlen(s));
}

/* Writes the page; see bench.h. */
int ap_bench_report_html(const char *path, const char *const *jsons,
			 const char *const *names, int count, char *err,
			 size_t err_size)
{
	struct ap_bench_sb sb = {0};
	FILE *f;
	int rc = 0;

	ap_bench_sb_append(&sb, html_head, strlen(html_head));
	for (int i = 0; i < count; i++) {
		const char *j = jsons[i] + strspn(jsons[i], " \t\r\n");

		if (*j != '{') {
			snprintf(err, err_size, "%s is not a JSON result",
				 names[i]);
			ap_bench_sb_free(&sb);
			return -EINVAL;
		}
		ap_bench_sb_printf(&sb, "{\"name\": ");
		sb_json_str(&sb, names[i]);
		ap_bench_sb_printf(&sb, ", \"r\": ");
		sb_script_safe(&sb, j);
		ap_bench_sb_printf(&sb, "},\n");
	}
	ap_bench_sb_append(&sb, html_tail, strlen(html_tail));
	f = fopen(path, "w");
	if (f == NULL || fwrite(sb.buf, 1, sb.len, f) != sb.len) {
		rc = -errno;
		snprintf(err, err_size, "cannot write %s: %s", path,
			 strerror(errno));
	}
	if (f != NULL && fclose(f) != 0 && rc == 0) {
		rc = -errno;
		snprintf(err, err_size, "cannot write %s: %s", path,
			 strerror(errno));
	}
	ap_bench_sb_free(&sb);
	return rc;
}

/* Reads a whole file; NULL with a message on failure. */
char *ap_bench_file_read(const char *path, size_t *len, char *err,
			 size_t err_size)
{
	struct ap_bench_sb sb = {0};
	char chunk[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL) {
		snprintf(err, err_size, "cannot open %s: %s", path,
			 strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ap_bench_sb_append(&sb, chunk, n);
	if (ferror(f)) {
		snprintf(err, err_size, "cannot read %s", path);
		fclose(f);
		ap_bench_sb_free(&sb);
		return NULL;
	}
	fclose(f);
	if (sb.buf == NULL)
		ap_bench_sb_append(&sb, "", 0);
	*len = sb.len;
	return sb.buf;
}
