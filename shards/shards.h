/*
 * shards.h - the server: shard threads, each pinned to a CPU with its own
 * event loop, keyspace, connections and memory; the SPSC mesh between
 * them; cross-shard dispatch; the server-level commands.
 *
 * Life cycle (main thread): ap_server_create(cfg) binds the listening
 * sockets and starts one thread per shard; ap_server_wait() returns when a
 * SHUTDOWN command or SIGTERM/SIGINT stopped every shard; then
 * ap_server_destroy(). Threading: these three calls are for the main
 * thread; everything else in this module runs on shard threads.
 */
#ifndef AP_SHARDS_SHARDS_H
#define AP_SHARDS_SHARDS_H

#include "core/config.h"

struct ap_server;

/* Returns NULL with a message in err on a start-up failure. */
struct ap_server *ap_server_create(const struct ap_config *cfg, char *err,
				   size_t err_size);
/* Blocks until the server stops. Returns the exit status. */
int ap_server_wait(struct ap_server *srv);
/* Asks the server to stop (async-signal-safe). */
void ap_server_request_stop(struct ap_server *srv);
void ap_server_destroy(struct ap_server *srv);

#endif
