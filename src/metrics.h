/*
 * metrics.h — RPC metrics declarations shared by metrics.c (SQL layer),
 * metrics_shm.c (shared-memory recorder) and bgworker.c (which flushes).
 */
#ifndef FF_METRICS_H
#define FF_METRICS_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* Longest rpc name recorded (bytes); longer names are rejected with 22023. */
#define FF_RPC_NAME_MAX		63

/* Minute of a timestamp, as minutes since the PostgreSQL epoch (rounded down). */
static inline int64
ff_metrics_minute(TimestampTz ts)
{
	int64		m = ts / USECS_PER_MINUTE;

	if (ts < 0 && ts % USECS_PER_MINUTE != 0)
		m--;
	return m;
}

/*
 * Flush this database's shared-memory aggregates into rpc_metrics inside the
 * current transaction (closed minutes, or all when include_open).  Returns the
 * rows written, 0 when not preloaded, or -1 when the extension is not installed
 * in this database.  Slots are released at commit and restored on abort.
 */
extern int64 ff_metrics_flush_current_db(bool include_open);

#endif							/* FF_METRICS_H */
