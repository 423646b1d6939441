/*
 * spsc.c - initialisation of the SPSC ring (the operations are inline in
 * spsc.h).
 */
#include "shards/spsc.h"

#include <string.h>

void ap_spsc_init(struct ap_spsc *q)
{
	AP_ASSERT(((uintptr_t)q % AP_PAD_ALIGN) == 0);
	memset(q, 0, sizeof(*q));
	atomic_init(&q->head, 0);
	atomic_init(&q->tail, 0);
}
