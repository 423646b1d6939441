/*
 * version.h - Apiary's version, and the Redis version it reports for
 * compatibility (clients choose features by redis_version).
 */
#ifndef AP_CORE_VERSION_H
#define AP_CORE_VERSION_H

#define AP_VERSION_STRING	"0.1.0"
#define AP_REDIS_COMPAT_VERSION "7.2.0"

#endif
