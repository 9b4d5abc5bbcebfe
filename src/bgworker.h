/*
 * bgworker.h — the maintenance worker (bgworker.c): flushes RPC metrics and runs
 * partition maintenance; owns its settings.
 */
#ifndef FF_BGWORKER_H
#define FF_BGWORKER_H

#include "postgres.h"

/* _PG_init: the worker's settings, and the workers themselves when preloading. */
extern void ff_bgworker_init(void);

/* Entry point named in the BackgroundWorker registration. */
extern PGDLLEXPORT void ff_maintenance_worker_main(Datum arg);

#endif							/* FF_BGWORKER_H */
