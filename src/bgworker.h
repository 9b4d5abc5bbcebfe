/*
 * bgworker.h — the per-database maintenance workers and the settings of the
 * background workers (bgworker.c); what the launcher (launcher.c) needs of them.
 */
#ifndef FF_BGWORKER_H
#define FF_BGWORKER_H

#include "postgres.h"

#include <signal.h>

/* _PG_init: the settings, and when preloading the launcher, its shared table and DDL hook. */
extern void ff_bgworker_init(void);

/* Entry point named in the maintenance workers' BackgroundWorker registration. */
extern PGDLLEXPORT void ff_maintenance_worker_main(Datum arg);

/* feed_fusion.discovery_interval, seconds: how often the launcher lists databases. */
extern int	ff_discovery_interval;

/* Is datname allowed by feed_fusion.database? */
extern bool ff_database_allowed(const char *datname);

/* Set by ff_worker_sigterm, the SIGTERM handler of the launcher and the workers. */
extern volatile sig_atomic_t ff_got_sigterm;
extern void ff_worker_sigterm(SIGNAL_ARGS);

#endif							/* FF_BGWORKER_H */
