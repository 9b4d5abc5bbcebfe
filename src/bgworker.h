/*
 * bgworker.h — the launcher and the per-database maintenance workers (bgworker.c):
 * they flush RPC metrics and run partition maintenance in every database that has
 * feed_fusion; owns their settings.
 */
#ifndef FF_BGWORKER_H
#define FF_BGWORKER_H

#include "postgres.h"

/* _PG_init: the settings, and when preloading the launcher, its shared table and DDL hook. */
extern void ff_bgworker_init(void);

/* Entry points named in the BackgroundWorker registrations. */
extern PGDLLEXPORT void ff_launcher_main(Datum arg);
extern PGDLLEXPORT void ff_maintenance_worker_main(Datum arg);

#endif							/* FF_BGWORKER_H */
