/*
 * config.h - server configuration: Redis-style directives.
 *
 * Sources, in order: built-in defaults, the config file (`directive value
 * ...` lines, # comments, quoted arguments as Redis), then `--directive
 * value` command-line arguments. An unknown directive or a bad value stops
 * the start with a message naming the file, line and directive.
 *
 * At run time CONFIG GET matches directive names by glob; CONFIG SET
 * validates a value into a copy and, if every directive in the call is
 * valid, applies them all (atomically, as Redis 7); CONFIG REWRITE writes
 * the file back, keeping comments and unknown lines in place.
 *
 * Threading: the main thread fills the config before shards start. Every
 * shard then holds its own copy (struct ap_config is plain data); CONFIG
 * SET runs on one shard and the shards layer sends the new copy to every
 * shard, each applying it between commands. Nothing here is locked.
 */
#ifndef AP_CORE_CONFIG_H
#define AP_CORE_CONFIG_H

#include "core/base.h"

enum ap_reactor_kind {
	AP_REACTOR_AUTO = 0, /* io_uring, else epoll */
	AP_REACTOR_URING = 1,
	AP_REACTOR_EPOLL = 2,
};

/* snapshot-compression: how base snapshots are compressed (persist/
 * zblock.c); the values are the codec ids written in the files. */
enum ap_snapshot_compression {
	AP_SNAPSHOT_COMPRESSION_NO = 0,
	AP_SNAPSHOT_COMPRESSION_LZ4 = 1,
	AP_SNAPSHOT_COMPRESSION_ZSTD = 2,
};

#define AP_CONFIG_STR_MAX 1024
#define AP_BIND_MAX	  16
/* Config files: bytes read from one file, nesting of `include`, and
 * arguments on one directive line (or one --name group). */
#define AP_CONFIG_FILE_SIZE_MAX	    (16 * 1024 * 1024)
#define AP_CONFIG_INCLUDE_DEPTH_MAX 8
#define AP_CONFIG_LINE_ARGS_MAX	    256

struct ap_config {
	/* network */
	int port;		    /* port; 0 = do not listen on TCP */
	char bind[AP_BIND_MAX][64]; /* bind addresses */
	int bind_count;
	int tcp_backlog;
	int timeout_s; /* idle client timeout, 0 = never */
	int tcp_keepalive_s;
	int maxclients;
	enum ap_reactor_kind reactor; /* "reactor auto|uring|epoll" */
	bool protected_mode;
	/* engine */
	int shards;	  /* 0 = CPUs in the affinity mask */
	bool pin_threads; /* pin shard i to the i-th allowed CPU */
	int databases;
	int hz;
	/* protocol limits */
	long long proto_max_bulk_len;
	long long client_query_buffer_limit;
	/* client-output-buffer-limit normal <hard> <soft> <soft-seconds> */
	long long obuf_normal_hard;
	long long obuf_normal_soft;
	int obuf_normal_soft_s;
	long long obuf_pubsub_hard;
	long long obuf_pubsub_soft;
	int obuf_pubsub_soft_s;
	long long obuf_replica_hard;
	long long obuf_replica_soft;
	int obuf_replica_soft_s;
	/* memory */
	long long maxmemory;
	/* misc */
	enum ap_log_level loglevel;
	char logfile[AP_CONFIG_STR_MAX];
	char dir[AP_CONFIG_STR_MAX];
	char requirepass[AP_CONFIG_STR_MAX];
	char pidfile[AP_CONFIG_STR_MAX];
	bool daemonize;
	bool lazyfree_lazy_user_del;
	bool lazyfree_lazy_user_flush;
	bool active_expire;
	int slowlog_log_slower_than;
	int slowlog_max_len;
	/* collection encodings: the compact (listpack, intset) form is used
	 * while a collection stays within these, as Redis */
	int list_max_listpack_size; /* >0 entries per node, -1..-5: 4..64 KB */
	int list_compress_depth;
	int hash_max_listpack_entries;
	int hash_max_listpack_value;
	int set_max_intset_entries;
	int set_max_listpack_entries;
	int set_max_listpack_value;
	int zset_max_listpack_entries;
	int zset_max_listpack_value;
	/* persistence (docs/persistence.md): snapshots (save rules) and the
	 * append-only log per shard, under dir/appenddirname. */
	char save[AP_CONFIG_STR_MAX];
	bool appendonly;
	char appenddirname[AP_CONFIG_STR_MAX];
	bool aof_load_truncated;
	int auto_aof_rewrite_pct;
	long long auto_aof_rewrite_min;
	char appendfsync[16];
	char dbfilename[AP_CONFIG_STR_MAX];
	char appendfilename[AP_CONFIG_STR_MAX];
	/* base snapshots: "snapshot-compression no|lz4|zstd" and the zstd
	 * level; read when a snapshot starts (loading never depends on
	 * them: each block names its codec) */
	enum ap_snapshot_compression snapshot_compression;
	int snapshot_compression_level;
	/* Where the config was loaded from (CONFIG REWRITE), "" if none. */
	char config_file[AP_CONFIG_STR_MAX];
};

/* Fills cfg with defaults. */
void ap_config_init(struct ap_config *cfg);
/* Loads a config file then command-line directives (argv[i] = "--name",
 * followed by its values). On error writes a message to err and returns
 * -EINVAL (or -errno for an unreadable file). */
AP_MUST_CHECK int ap_config_load(struct ap_config *cfg, const char *file,
				 int argc, char **argv, char *err,
				 size_t err_size);

/* CONFIG GET: calls fn(name, value) for every directive matching the glob
 * pattern (case-insensitive). */
typedef void ap_config_get_fn(void *arg, const char *name, const char *value);
void ap_config_get(const struct ap_config *cfg, const char *pattern,
		   size_t plen, ap_config_get_fn *fn, void *arg);
/* CONFIG SET of one directive into cfg. Returns 0, or -EINVAL with a
 * Redis-style reason in err ("argument couldn't be parsed into an
 * integer", ...). Immutable directives answer -EPERM. For both the reply
 * is "ERR CONFIG SET failed (possibly related to argument '<name>') -
 * <err>". An unknown name answers -ENOENT with Redis's whole message in err
 * ("Unknown option or number of arguments for CONFIG SET - '<name>'"). */
AP_MUST_CHECK int ap_config_set(struct ap_config *cfg, const char *name,
				size_t nlen, const char *value, size_t vlen,
				char *err, size_t err_size);
/* CONFIG REWRITE into cfg->config_file. Returns 0 or -errno with err. */
AP_MUST_CHECK int ap_config_rewrite(const struct ap_config *cfg, char *err,
				    size_t err_size);

#endif
