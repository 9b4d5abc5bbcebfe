/*
 * bgworker.h — the metrics flush / partition maintenance background worker.
 */
#ifndef FF_BGWORKER_H
#define FF_BGWORKER_H

#include "postgres.h"

/* Entry point named in the BackgroundWorker registration. */
extern PGDLLEXPORT void ff_metrics_worker_main(Datum arg);

#endif							/* FF_BGWORKER_H */
