/*
 * metrics.h — RPC metrics internals shared by metrics.c and bgworker.c.
 */
#ifndef FF_METRICS_H
#define FF_METRICS_H

#include "postgres.h"

/* Longest rpc name recorded (bytes); longer names are rejected with 22023. */
#define FF_RPC_NAME_MAX		63
/* Name that absorbs calls once feed_fusion.metrics_max_rpcs names are in use. */
#define FF_OVERFLOW_RPC		"_overflow"

/* GUCs (metrics.c). */
extern bool ff_track_rpcs;
extern int	ff_metrics_flush_interval;	/* seconds */
extern int	ff_maintenance_interval;	/* seconds, 0 = never */
extern char *ff_metrics_database;	/* databases the worker(s) serve */

/*
 * Flush this database's shared-memory aggregates into rpc_metrics inside the
 * current transaction (closed minutes, or all when include_open).  Returns the
 * rows written, or -1 when the extension is not installed in this database.
 * Slots are released at commit and restored on abort.
 */
extern int64 ff_metrics_flush_current_db(bool include_open);

/* True when shared-memory mode is active in this process. */
extern bool ff_metrics_shm_active(void);

/* bgworker.c: register the flush/maintenance worker(s) (postmaster, preload only). */
extern void ff_bgworker_register(void);

#endif							/* FF_METRICS_H */
