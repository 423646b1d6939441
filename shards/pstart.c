/*
 * pstart.c - persistence at start: the data set under dir/appenddirname
 * is checked and planned once (ap_persist_server_prepare, before the
 * shards start), every shard loads its part in its own thread, in
 * parallel (ap_persist_shard_start), then the manifest names the files
 * the shards write from now on (ap_persist_server_ready) before the first
 * client is accepted.
 *
 * Three cases:
 *   - no manifest: an empty data set; every shard starts log 1;
 *   - the same shard count: shard i loads old shard i and goes on
 *     appending to its last log (truncated first if its tail was torn);
 *   - another shard count: every shard replays every old shard, keeps the
 *     keys whose slot it owns now, and writes them as a new base snapshot
 *     with a new log after it; the new manifest replaces the old one and
 *     the old files are removed. Until the new manifest is written the
 *     old data set stays whole, so a crash in between loses nothing.
 *
 * Blocking syscalls throughout: nothing here runs while clients are
 * served.
 */
#include "shards/shards_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Without a manifest the data set is empty, unless the directory holds
 * shard files with data: then the manifest was lost, and starting empty
 * would drop that data without a word (and the next manifest would bury
 * it). Empty files are the leftovers of a first start that stopped before
 * its manifest was written; they are overwritten.
 */
static int check_orphans(const char *dir, char *err, size_t err_size)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "shard-", 6) != 0)
			continue;
		char path[AP_CONFIG_STR_MAX * 2 + 300];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		struct stat st;
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_size > 0) {
			snprintf(err, err_size,
				 "%s holds data files (%s, %lld bytes) but no "
				 "manifest: refusing to start with an empty "
				 "data set. Restore the manifest, or move the "
				 "files away to start empty",
				 dir, de->d_name, (long long)st.st_size);
			rc = -EBADMSG;
		}
	}
	closedir(d);
	return rc;
}

int ap_persist_server_prepare(struct ap_server *srv, char *err, size_t err_size)
{
	snprintf(srv->persist_dir, sizeof(srv->persist_dir), "%s/%s",
		 srv->cfg.dir, srv->cfg.appenddirname);
	srv->mstate = ap_calloc((size_t)srv->nshards, sizeof(*srv->mstate));
	atomic_store(&srv->lastsave_s, ap_unix_ms() / 1000);
	atomic_store(&srv->aof_enabled, srv->cfg.appendonly);
	/* The directory is made when something is written there: at start
	 * with appendonly, else by the first snapshot. */
	if (srv->cfg.appendonly && mkdir(srv->persist_dir, 0755) < 0 &&
	    errno != EEXIST) {
		snprintf(err, err_size, "cannot create %s: %s",
			 srv->persist_dir, strerror(errno));
		return -errno;
	}
	srv->plan = ap_calloc(1, sizeof(*srv->plan));
	int rc = ap_persist_plan_build(srv->plan, srv->persist_dir,
				       srv->cfg.aof_load_truncated, err,
				       err_size);
	if (rc == 0 && !srv->plan->have_manifest)
		rc = check_orphans(srv->persist_dir, err, err_size);
	if (rc < 0)
		return rc;
	unsigned old = ap_persist_plan_nshards(srv->plan);
	srv->persist_reshard = old != 0 && old != (unsigned)srv->nshards;
	if (srv->plan->max_txid >= atomic_load(&srv->next_txn_id))
		atomic_store(&srv->next_txn_id, srv->plan->max_txid + 1);
	if (old)
		ap_log(AP_LOG_NOTICE,
		       "Loading the append-only data set in %s: %u shard%s "
		       "wrote it, %llu bytes%s",
		       srv->persist_dir, old, old > 1 ? "s" : "",
		       (unsigned long long)srv->plan->bytes,
		       srv->persist_reshard ? ", redistributed by slot" : "");
	return 0;
}

/* The highest file sequence the old data set uses (new files go above). */
static uint64_t plan_max_seq(const struct ap_persist_plan *p)
{
	uint64_t max = 0;
	for (size_t i = 0; p->have_manifest && i < p->m.count; i++)
		if (p->m.files[i].seq > max)
			max = p->m.files[i].seq;
	return max;
}

static bool keep_own(void *arg, const char *key, size_t klen)
{
	struct ap_shard *s = arg;
	return ap_shard_of_key(s->srv, key, klen) == s->id;
}

/* Where the records of a base snapshot gather before they are written. */
struct base_writer {
	struct ap_persist_enc enc;
	int fd;
	unsigned db;
	int err; /* first -errno */
	uint64_t off;
};

static void base_flush(struct base_writer *w)
{
	size_t done = 0;
	while (!w->err && done < w->enc.b.len) {
		ssize_t n = pwrite(w->fd, w->enc.b.p + done,
				   w->enc.b.len - done, (off_t)(w->off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			w->err = n < 0 ? -errno : -EIO;
		else
			done += (size_t)n;
	}
	w->off += done;
	ap_persist_enc_clear(&w->enc);
}

static void base_put(void *arg, const struct ap_entry *e)
{
	struct base_writer *w = arg;
	if (ap_persist_enc_entry(&w->enc, w->db, e) < 0) {
		size_t klen;
		const char *key = ap_entry_key(e, &klen);
		ap_log(AP_LOG_WARNING,
		       "key '%.*s' is too big for a snapshot record; not saved",
		       (int)(klen > 64 ? 64 : klen), key);
	}
	if (w->enc.b.len >= AP_PERSIST_LOAD_READ_SIZE)
		base_flush(w);
}

/* Writes the shard's whole keyspace as base snapshot seq (fsynced). */
static int write_base(struct ap_shard *s, uint64_t seq, char *err,
		      size_t err_size)
{
	char path[AP_PERSIST_PATH_SIZE];
	ap_persist_path(s->srv, AP_PERSIST_FILE_BASE, (unsigned)s->id, seq,
			path);
	struct base_writer w = {.fd = -1};
	w.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w.fd < 0) {
		snprintf(err, err_size, "cannot create %s: %s", path,
			 strerror(errno));
		return -errno;
	}
	ap_persist_enc_init(&w.enc);
	for (unsigned d = 0; d < ap_keyspace_db_count(s->ks); d++) {
		struct ap_db *db = ap_keyspace_db(s->ks, d);
		uint64_t cursor = 0;
		w.db = d;
		do
			cursor = ap_db_scan(db, cursor, 1024, base_put, &w);
		while (cursor != 0 && !w.err);
	}
	base_flush(&w);
	if (!w.err && fdatasync(w.fd) < 0)
		w.err = -errno;
	close(w.fd);
	ap_persist_enc_deinit(&w.enc);
	if (w.err) {
		snprintf(err, err_size, "cannot write %s: %s", path,
			 strerror(-w.err));
		return w.err;
	}
	return 0;
}

int ap_persist_shard_start(struct ap_shard *s, char *err, size_t err_size)
{
	struct ap_server *srv = s->srv;
	const struct ap_persist_plan *p = srv->plan;
	unsigned old = ap_persist_plan_nshards(p);
	uint64_t seq = 1;
	if (old) {
		unsigned all[AP_SHARDS_MAX], own = (unsigned)s->id;
		size_t n = 1;
		const unsigned *list = &own;
		if (srv->persist_reshard) {
			for (unsigned i = 0; i < old; i++)
				all[i] = i;
			list = all;
			n = old;
		}
		struct ap_persist_load_stats st;
		int64_t t0 = ap_unix_ms();
		ap_keyspace_set_now(s->ks, t0);
		int rc = ap_persist_load(s->ks, &s->cfg, p, srv->persist_dir,
					 list, n,
					 srv->persist_reshard ? keep_own : NULL,
					 s, &st, err, err_size);
		if (rc < 0)
			return rc;
		ap_log(AP_LOG_NOTICE,
		       "shard %d: loaded %llu keys from %llu records "
		       "(%llu bytes) in %lld ms%s",
		       s->id, (unsigned long long)st.keys,
		       (unsigned long long)st.records,
		       (unsigned long long)st.bytes,
		       (long long)(ap_unix_ms() - t0),
		       st.cmd_errors ? "; some commands failed (see above)"
				     : "");
		if (srv->persist_reshard) {
			seq = plan_max_seq(p) + 1;
			rc = write_base(s, seq, err, err_size);
			if (rc < 0)
				return rc;
		} else {
			uint64_t last = ap_persist_plan_last_seq(p, own);
			uint64_t base = ap_persist_plan_base_seq(p, own);
			seq = last ? last : base ? base : 1;
		}
	}
	if (!s->cfg.appendonly)
		return 0;
	/* A new log starts empty: a file of that name is a leftover of a
	 * start that crashed before its manifest was written. */
	bool fresh = !old || srv->persist_reshard ||
		     !ap_persist_plan_last_seq(p, (unsigned)s->id);
	return ap_plog_open(s, seq, fresh, err, err_size);
}

/* What the manifest names for shard i from now on (see mstate). */
static void mstate_fill(struct ap_server *srv, int i)
{
	const struct ap_persist_plan *p = srv->plan;
	struct ap_persist_mstate *ms = &srv->mstate[i];
	const struct ap_plog *l = &srv->shards[i].plog;
	memset(ms, 0, sizeof(*ms));
	if (srv->persist_reshard) {
		ms->base = plan_max_seq(p) + 1;
	} else if (p->have_manifest) {
		ms->base = ap_persist_plan_base_seq(p, (unsigned)i);
		for (size_t f = 0; f < p->m.count; f++) {
			const struct ap_persist_mfile *mf = &p->m.files[f];
			if (mf->shard != (unsigned)i ||
			    mf->kind != AP_PERSIST_FILE_INCR)
				continue;
			if (!ms->first || mf->seq < ms->first)
				ms->first = mf->seq;
			if (mf->seq > ms->last)
				ms->last = mf->seq;
		}
	}
	if (l->on && l->seq != ms->last) { /* a new log after them */
		if (!ms->first || l->seq < ms->first)
			ms->first = l->seq;
		ms->last = l->seq;
	}
}

void ap_persist_path(const struct ap_server *srv,
		     enum ap_persist_file_kind kind, unsigned shard,
		     uint64_t seq, char *buf)
{
	char name[AP_PERSIST_FILE_NAME_SIZE];
	ap_persist_file_name(name, kind, shard, seq);
	snprintf(buf, AP_PERSIST_PATH_SIZE, "%s/%s", srv->persist_dir, name);
}

void ap_persist_unlink(const struct ap_server *srv,
		       enum ap_persist_file_kind kind, unsigned shard,
		       uint64_t seq)
{
	char path[AP_PERSIST_PATH_SIZE];
	ap_persist_path(srv, kind, shard, seq, path);
	if (unlink(path) < 0 && errno != ENOENT)
		ap_log(AP_LOG_WARNING, "cannot remove %s: %s", path,
		       strerror(errno));
}

void ap_persist_unlinks_add(struct ap_persist_unlinks *u,
			    const struct ap_server *srv,
			    enum ap_persist_file_kind kind, unsigned shard,
			    uint64_t seq)
{
	if (u->n == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 8;
		u->paths = realloc(u->paths, u->cap * sizeof(*u->paths));
		AP_ASSERT(u->paths != NULL);
	}
	ap_persist_path(srv, kind, shard, seq, u->paths[u->n++]);
}

static void *unlinks_thread(void *arg)
{
	struct ap_persist_unlinks *u = arg;
	for (size_t i = 0; i < u->n; i++)
		if (unlink(u->paths[i]) < 0 && errno != ENOENT)
			ap_log(AP_LOG_WARNING, "cannot remove %s: %s",
			       u->paths[i], strerror(errno));
	free(u->paths);
	free(u);
	return NULL;
}

void ap_persist_unlinks_run(struct ap_persist_unlinks *u)
{
	if (u->n == 0) {
		free(u->paths);
		return;
	}
	struct ap_persist_unlinks *own = malloc(sizeof(*own));
	AP_ASSERT(own != NULL);
	*own = *u;
	u->paths = NULL;
	u->n = u->cap = 0;
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, unlinks_thread, own) != 0)
		unlinks_thread(own); /* no thread: here, then */
	pthread_attr_destroy(&a);
}

int ap_persist_write_mstate(const struct ap_server *srv,
			    const struct ap_persist_mstate *ms)
{
	struct ap_persist_manifest m;
	ap_persist_manifest_init(&m, (unsigned)srv->nshards);
	int rc = 0;
	for (unsigned i = 0; i < (unsigned)srv->nshards && rc == 0; i++) {
		if (ms[i].base)
			rc = ap_persist_manifest_add(&m, AP_PERSIST_FILE_BASE,
						     i, ms[i].base);
		for (uint64_t q = ms[i].first; rc == 0 && q && q <= ms[i].last;
		     q++)
			rc = ap_persist_manifest_add(&m, AP_PERSIST_FILE_INCR,
						     i, q);
	}
	if (rc == 0)
		rc = ap_persist_manifest_write(srv->persist_dir, &m);
	ap_persist_manifest_deinit(&m);
	return rc;
}

/* Removes the old data set's files (the new manifest names none). */
static void remove_old_files(struct ap_server *srv)
{
	const struct ap_persist_manifest *m = &srv->plan->m;
	for (size_t i = 0; i < m->count; i++)
		ap_persist_unlink(srv, m->files[i].kind, m->files[i].shard,
				  m->files[i].seq);
}

int ap_persist_server_ready(struct ap_server *srv, char *err, size_t err_size)
{
	struct ap_persist_plan *p = srv->plan;
	for (int i = 0; i < srv->nshards; i++)
		mstate_fill(srv, i);
	int rc = 0;
	/* With logs the manifest is written at every start (it names the
	 * log each shard appends to); without, only when the data set was
	 * redistributed. */
	if (srv->cfg.appendonly || srv->persist_reshard) {
		rc = ap_persist_write_mstate(srv, srv->mstate);
		if (rc < 0)
			snprintf(err, err_size,
				 "cannot write the manifest in %s: %s",
				 srv->persist_dir, strerror(-rc));
		else if (srv->persist_reshard)
			remove_old_files(srv);
	}
	ap_persist_plan_deinit(p);
	ap_free(p);
	srv->plan = NULL;
	return rc;
}
