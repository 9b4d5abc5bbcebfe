/*
 * metrics_shm.h — the shared-memory recorder of RPC metrics (metrics_shm.c), as
 * the SQL layer (metrics.c) uses it.
 *
 * Only metrics_shm_register() and metrics_shm_available() may be called when
 * feed_fusion is not preloaded; everything else requires metrics_shm_available().
 */
#ifndef FF_METRICS_SHM_H
#define FF_METRICS_SHM_H

#include "postgres.h"

#include "metrics.h"

/* One aggregate row, copied out of shared memory (rpc_metrics' shape). */
typedef struct MetricsRow
{
	char		rpc[FF_RPC_NAME_MAX + 1];
	int64		minute;			/* minutes since the PostgreSQL epoch (UTC) */
	uint64		calls;
	uint64		errors;
	double		total_ms;
	double		max_ms;
	bytea	   *sketch;			/* encoded (sketch.c) */
} MetricsRow;

/* Called once per row by metrics_shm_pending(). */
typedef void (*MetricsRowFn) (const MetricsRow *row, void *arg);

/* _PG_init: the recorder's settings and shared-memory hooks (when preloading). */
extern void metrics_shm_register(void);

/* Is the recorder attached in this process (feed_fusion preloaded)? */
extern bool metrics_shm_available(void);

/*
 * Whose quota a new name draws on: the extension's own tracking (always gets an
 * entry), service_role (feed_fusion.metrics_max_rpcs per database) or an app role
 * (feed_fusion.metrics_max_app_rpcs per database, overflowing into '_overflow_app').
 */
typedef enum MetricsNameClass
{
	FF_MX_TRACKED,
	FF_MX_SERVICE,
	FF_MX_APP
} MetricsNameClass;

/*
 * Add one call of `name` (1..FF_RPC_NAME_MAX bytes) in database `db` to its
 * aggregate for `minute`; a new name draws on the quota of `cls`.  Never raises:
 * a call that finds no free name or slot is counted as dropped.
 */
extern void metrics_shm_record(Oid db, const char *name, int64 minute, double ms, bool ok,
							   MetricsNameClass cls);

/*
 * Take this database's closed minutes (all of them when include_open) for a flush
 * in the current transaction: they are marked FLUSHING and returned as *nrows
 * palloc'd rows for the caller to insert into rpc_metrics.  Commit releases them,
 * abort (or rollback of the savepoint) hands them back.  The caller has checked
 * that the transaction can write.
 */
extern MetricsRow *metrics_shm_take(bool include_open, int *nrows);

/* Count rows a flush could not write (skipped_rows in ff_status()). */
extern void metrics_shm_count_skipped(int n);

/* Call fn for each of this database's aggregates not yet covered by a flush this query can see. */
extern void metrics_shm_pending(MetricsRowFn fn, void *arg);

/* Add the recorder's capacity and counters to the metrics ff_status() detail. */
struct FfStatus;
extern void metrics_shm_status(struct FfStatus *st);

#endif							/* FF_METRICS_SHM_H */
