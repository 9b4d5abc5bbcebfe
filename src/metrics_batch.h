/*
 * metrics_batch.h — table mode's per-backend batch of RPC metrics (metrics_batch.c),
 * as the SQL layer (metrics.c) uses it, and the two table writers metrics.c lends it.
 */
#ifndef FF_METRICS_BATCH_H
#define FF_METRICS_BATCH_H

#include "postgres.h"

#include "portability/instr_time.h"

#include "metrics_shm.h"

struct FfStatus;

/* Most (rpc, minute) entries a backend holds unwritten; calls beyond are dropped. */
#define FF_BATCH_MAX_ENTRIES	1024

/* _PG_init: feed_fusion.track_flush_interval. */
extern void metrics_batch_register(void);

/*
 * Add one tracked call to this backend's batch (never raises, never writes).  `now`
 * is the monotonic time of the call's end, `minute` its wall-clock minute.
 */
extern void metrics_batch_record(const char *rpc, int64 minute, double ms, bool ok, instr_time now);

/*
 * After a successful tracked call: write the batch if it is due and this
 * transaction may write (see metrics_batch.c); never raises for metrics' sake.
 */
extern void metrics_batch_maybe_write(instr_time now);

/*
 * rpc_metrics_flush() in table mode: write this backend's whole batch in the
 * current transaction now (errors propagate); returns rows written.
 */
extern int64 metrics_batch_flush(void);

/* Call fn for each unwritten entry of this backend's batch (rpc_metrics_hourly). */
extern void metrics_batch_pending(MetricsRowFn fn, void *arg);

/* Add the batch's figures to the metrics ff_status() detail (table mode). */
extern void metrics_batch_status(struct FfStatus *st);

/* metrics.c: insert rows into rpc_metrics as the owner; returns rows skipped (isolate). */
extern int	ff_metrics_insert_rows(const MetricsRow *rows, int nrows, bool isolate);

/* metrics.c: run fn(arg) in a subtransaction; the error (query cancel excepted) or NULL. */
extern ErrorData *ff_metrics_run_in_subxact(void (*fn) (void *), void *arg);

#endif							/* FF_METRICS_BATCH_H */
