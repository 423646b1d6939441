/*
 * persist_int.h - internals shared by the files of persist/, for nobody
 * else to include.
 */
#ifndef AP_PERSIST_PERSIST_INT_H
#define AP_PERSIST_PERSIST_INT_H

#include "persist/persist.h"

/* Buffers are core/serial.h's (ap_serial_buf_put and friends). */

#endif
