/*
 * metrics.h — RPC metrics internals shared by metrics.c and bgworker.c (which
 * flushes; the dependency runs one way: metrics.c does not include bgworker.h).
 */
#ifndef FF_METRICS_H
#define FF_METRICS_H

#include "postgres.h"

/* Longest rpc name recorded (bytes); longer names are rejected with 22023. */
#define FF_RPC_NAME_MAX		63
/* Name that absorbs calls once feed_fusion.metrics_max_rpcs names are in use. */
#define FF_OVERFLOW_RPC		"_overflow"

/*
 * Flush this database's shared-memory aggregates into rpc_metrics inside the
 * current transaction (closed minutes, or all when include_open).  Returns the
 * rows written, or -1 when the extension is not installed in this database.
 * Slots are released at commit and restored on abort.
 */
extern int64 ff_metrics_flush_current_db(bool include_open);

#endif							/* FF_METRICS_H */
