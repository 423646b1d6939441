/*
 * main.c - apiary-server: parse the configuration, start the shards, wait
 * for SHUTDOWN or a signal, stop cleanly.
 *
 *   apiary-server [config-file] [--directive value ...]
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/base.h"
#include "core/cmd.h"
#include "core/config.h"
#include "core/version.h"
#include "shards/shards.h"
#include "shards/shards_int.h"

static struct ap_server *the_server; /* for the signal handler only */

static void on_signal(int sig)
{
	(void)sig;
	if (the_server)
		ap_shutdown_signal(the_server);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: apiary-server [config-file] [--directive value ...]\n"
		"       apiary-server --version\n"
		"Examples:\n"
		"       apiary-server\n"
		"       apiary-server /etc/apiary.conf\n"
		"       apiary-server --port 7000 --bind 127.0.0.1 --shards 2\n"
		"Directives are Redis's (see docs/configuration.md).\n");
}

static void register_commands(void)
{
	ap_core_setup();
	ap_cmd_table_add(ap_cmds_conn);
	ap_cmd_table_add(ap_cmds_server);
	ap_cmd_table_add(ap_cmds_introspect);
	ap_cmd_table_add(ap_cmds_multi);
	ap_cmd_table_add(ap_cmds_persist);
	ap_cmd_table_add(ap_cmds_shutdown);
}

int main(int argc, char **argv)
{
	const char *file = NULL;
	int first = 1;
	if (argc > 1 &&
	    (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version"))) {
		printf("Apiary server v=%s (Redis protocol %s)\n",
		       AP_VERSION_STRING, AP_REDIS_COMPAT_VERSION);
		return 0;
	}
	if (argc > 1 &&
	    (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc > 1 && strncmp(argv[1], "--", 2) != 0) {
		file = argv[1];
		first = 2;
	}
	struct ap_config cfg;
	ap_config_init(&cfg);
	char err[1024];
	if (ap_config_load(&cfg, file, argc - first, argv + first, err,
			   sizeof(err)) < 0) {
		fprintf(stderr, "apiary-server: %s\n", err);
		usage(stderr);
		return 1;
	}
	ap_log_setup(cfg.loglevel, cfg.logfile[0] ? cfg.logfile : NULL);
	register_commands();
	ap_cycles_setup();

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* A file size limit makes a log write fail with EFBIG, handled as
	 * any write error, instead of killing the server. */
	sigaction(SIGXFSZ, &sa, NULL);

	struct ap_server *srv = ap_server_create(&cfg, err, sizeof(err));
	if (!srv)
		ap_fatal("%s", err);
	the_server = srv;
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (cfg.pidfile[0]) {
		FILE *f = fopen(cfg.pidfile, "w");
		if (f) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		}
	}
	int rc = ap_server_wait(srv);
	ap_log(AP_LOG_NOTICE, "Apiary is now ready to exit, bye bye...");
	the_server = NULL;
	ap_server_destroy(srv);
	if (cfg.pidfile[0])
		unlink(cfg.pidfile);
	return rc;
}
