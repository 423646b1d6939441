/*
 * persist_int.h - internals shared by the files of persist/, for nobody
 * else to include.
 */
#ifndef AP_PERSIST_PERSIST_INT_H
#define AP_PERSIST_PERSIST_INT_H

#include "persist/persist.h"

/* Appends n bytes to b, growing it geometrically (log.c). */
void ap_persist_buf_put(struct ap_serial_buf *b, const void *p, size_t n);

#endif
