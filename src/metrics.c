/*
 * metrics.c — RPC latency metrics, SQL side: _log_rpc, _ff_log_rpc_at,
 * ff_tracked_call, rpc_metrics_flush, the pending-rows SRF behind
 * rpc_metrics_hourly, _ff_metrics_hour, the status row, and table mode.
 *
 * What: every call lands in a per-(database, rpc, minute) aggregate — calls,
 *       errors, total and max ms, and a latency sketch (sketch.c).
 *   * Shared-memory mode (preloaded): metrics_shm.c records the call.  The
 *     maintenance worker (bgworker.c) or rpc_metrics_flush() moves closed minutes
 *     into rpc_metrics through this file's table writer; _ff_metrics_pending()
 *     shows what is not flushed yet so the view merges both.
 *   * Table mode: ff_tracked_call adds each call (success or failure) to this
 *     backend's batch (metrics_batch.c), written in batches by transactions that
 *     write anyway, at most every feed_fusion.track_flush_interval seconds,
 *     by rpc_metrics_flush() and at a clean exit; _ff_metrics_pending() shows
 *     the batch, so the view merges it.  _log_rpc / _ff_log_rpc_at, explicit
 *     logging calls, insert one aggregate row (one-sample sketch) per call.
 * Why:  percentiles stay cheap at any call volume, and the shared-memory hot path
 *       costs well under a microsecond; the SQL layer is the same in both modes.
 *       The rules are in docs/metrics.md.
 * Locking: none of its own.  The recorder's protocol is in metrics_shm.c; rows go
 *       into rpc_metrics as ordinary inserts run as the extension owner
 *       (ff_run_as_owner), so callers need no privilege on the table, and the
 *       rollup triggers on rpc_metrics take their own row locks.
 */
#include "postgres.h"

#include <math.h>

#include "access/parallel.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "feed_fusion.h"
#include "context.h"
#include "metrics.h"
#include "metrics_batch.h"
#include "metrics_shm.h"
#include "sketch.h"
#include "status.h"

PG_FUNCTION_INFO_V1(ff_log_rpc);
PG_FUNCTION_INFO_V1(ff_log_rpc_at);
PG_FUNCTION_INFO_V1(ff_rpc_metrics_flush);
PG_FUNCTION_INFO_V1(ff_metrics_flush_all);
PG_FUNCTION_INFO_V1(ff_metrics_pending);
PG_FUNCTION_INFO_V1(ff_metrics_status);
PG_FUNCTION_INFO_V1(ff_metrics_selftest);
PG_FUNCTION_INFO_V1(ff_metrics_hour);

static bool ff_track_rpcs = true;

/*
 * Names reserved for the extension's own tracking (every FF_TRACKED_RPC /
 * ff_tracked_call name) and its overflow buckets: _log_rpc refuses them (42501)
 * so no caller can forge or pollute the extension's figures.
 */
static const char *const reserved_rpcs[] = {
	"feed_fusion_home", "feed_fusion_home_for", "feed_fusion_profile",
	"rocker_next_best_actions", "flags_for", "flag_enabled", "_ff_metrics_selftest",
	"_overflow", "_overflow_app"
};

/* Is rpc one of reserved_rpcs? */
static bool
rpc_is_reserved(const char *rpc)
{
	for (int i = 0; i < lengthof(reserved_rpcs); i++)
		if (strcmp(rpc, reserved_rpcs[i]) == 0)
			return true;
	return false;
}

/*
 * Whose name quota a _log_rpc call draws on: service_role (or superuser) or an app
 * role.  ff_acts_as_service_role() caches per user id and forgets the answer on any
 * role change (GRANT/REVOKE, ALTER ROLE), so no cache of its own here.
 */
static MetricsNameClass
caller_class(void)
{
	return ff_acts_as_service_role() ? FF_MX_SERVICE : FF_MX_APP;
}

/* Cached INSERT plan and the schema it names. */
static SPIPlanPtr insert_plan = NULL;
static char insert_plan_schema[NAMEDATALEN];

/* ----------------------------------------------------------------------
 * Clock
 * ---------------------------------------------------------------------- */

/*
 * Wall-clock minute at monotonic time `mono`, from a (wall, monotonic) pair
 * refreshed every second: ff_tracked_call already reads the monotonic clock, so
 * this spares it a gettimeofday() per call.
 */
static int64
minute_at(instr_time mono)
{
	static instr_time base_mono;
	static TimestampTz base_wall = 0;
	instr_time	d = mono;
	int64		us;

	if (base_wall != 0)
	{
		INSTR_TIME_SUBTRACT(d, base_mono);
		us = (int64) INSTR_TIME_GET_MICROSEC(d);
		if (us >= 0 && us < USECS_PER_SEC)
			return ff_metrics_minute(base_wall + us);
	}
	base_wall = GetCurrentTimestamp();
	base_mono = mono;
	return ff_metrics_minute(base_wall);
}

/* ----------------------------------------------------------------------
 * Table writes (table mode and flush)
 * ---------------------------------------------------------------------- */

/* Rows for insert_rows_as_owner(); isolate: a flush, which must not fail on one row. */
typedef struct InsertBatch
{
	const MetricsRow *rows;
	int			nrows;
	bool		isolate;
	int			skipped;		/* out: rows that could not be written */
} InsertBatch;

/* The saved INSERT into rpc_metrics, prepared again when the schema changes. */
static SPIPlanPtr
insert_plan_get(void)
{
	const char *schema = ff_extension()->schema;
	Oid			types[7] = {TEXTOID, TIMESTAMPTZOID, INT8OID, INT8OID, FLOAT8OID, FLOAT8OID, BYTEAOID};
	SPIPlanPtr	plan;

	if (insert_plan != NULL && strcmp(insert_plan_schema, schema) == 0)
		return insert_plan;
	plan = SPI_prepare(psprintf("INSERT INTO %s (rpc, bucket_start, calls, errors, total_ms, max_ms, sketch) "
								"VALUES ($1, $2, $3, $4, $5, $6, $7)", ff_qualified("rpc_metrics")),
					   7, types);
	if (plan == NULL)
		elog(ERROR, "could not prepare the rpc_metrics insert: %s",
			 SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	if (insert_plan)
		SPI_freeplan(insert_plan);
	insert_plan = plan;
	strlcpy(insert_plan_schema, schema, sizeof(insert_plan_schema));
	return plan;
}

/* Insert rows one statement each (errors propagate): the plain write path. */
static void
insert_each(SPIPlanPtr plan, const MetricsRow *rows, int nrows)
{
	for (int i = 0; i < nrows; i++)
	{
		const MetricsRow *r = &rows[i];
		Datum		vals[7];
		int			rc;

		vals[0] = CStringGetTextDatum(r->rpc);
		vals[1] = TimestampTzGetDatum(r->minute * USECS_PER_MINUTE);
		vals[2] = Int64GetDatum((int64) Min(r->calls, (uint64) PG_INT64_MAX));
		vals[3] = Int64GetDatum((int64) Min(r->errors, (uint64) PG_INT64_MAX));
		vals[4] = Float8GetDatum(r->total_ms);
		vals[5] = Float8GetDatum(r->max_ms);
		vals[6] = PointerGetDatum(r->sketch);
		rc = SPI_execute_plan(plan, vals, NULL, false, 0);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "rpc_metrics insert failed: %s", SPI_result_code_string(rc));
	}
}

/*
 * Run fn(arg) in a subtransaction; on any error (a query cancel excepted, which
 * propagates) roll it back and return the error, else NULL.  Metrics writes use it
 * so that recording never fails an RPC and one bad row never fails a flush.
 */
static ErrorData *
run_in_subxact(void (*fn) (void *), void *arg)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(edata);
	}
	PG_END_TRY();
	return edata;
}

/* Arguments of insert_each, passed through run_in_subxact. */
typedef struct InsertEach
{
	SPIPlanPtr	plan;
	const MetricsRow *rows;
	int			nrows;
} InsertEach;

/* insert_each for run_in_subxact. */
static void
insert_each_cb(void *arg)
{
	InsertEach *e = (InsertEach *) arg;

	insert_each(e->plan, e->rows, e->nrows);
}

/*
 * Insert rows in a subtransaction; false when that failed, with a WARNING naming
 * the row when a single row was tried.
 */
static bool
insert_in_subxact(SPIPlanPtr plan, const MetricsRow *rows, int nrows)
{
	InsertEach	e = {plan, rows, nrows};
	ErrorData  *edata = run_in_subxact(insert_each_cb, &e);

	if (edata == NULL)
		return true;
	if (nrows == 1)
		ereport(WARNING,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("RPC metrics row of \"%s\" for minute %s skipped: it cannot be written",
						rows[0].rpc, timestamptz_to_str(rows[0].minute * USECS_PER_MINUTE)),
				 errdetail("SQLSTATE %s: %s", unpack_sql_state(edata->sqlerrcode), edata->message)));
	FreeErrorData(edata);
	return false;
}

/*
 * Body run as the extension owner.  Table mode: insert each row, errors
 * propagate.  Flush (isolate): the batch in one subtransaction; if it fails,
 * each row in its own, skipping (and counting) the rows that fail.
 */
static void
insert_rows_as_owner(void *arg)
{
	InsertBatch *b = (InsertBatch *) arg;
	SPIPlanPtr	plan;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = insert_plan_get();
	if (!b->isolate)
		insert_each(plan, b->rows, b->nrows);
	else if (!insert_in_subxact(plan, b->rows, b->nrows))
	{
		for (int i = 0; i < b->nrows; i++)
			if (!insert_in_subxact(plan, &b->rows[i], 1))
				b->skipped++;
	}
	SPI_finish();
}

/*
 * Insert aggregate rows into rpc_metrics with the owner's rights, so callers need
 * none; returns the rows skipped (only when isolate: a flush).
 */
static int
insert_rows(const MetricsRow *rows, int nrows, bool isolate)
{
	InsertBatch b;

	b.rows = rows;
	b.nrows = nrows;
	b.isolate = isolate;
	b.skipped = 0;
	/* the rows (and the rollup its triggers write) go in with the owner's rights */
	ff_check_own_triggers(ff_extension_relid(FF_REL_RPC_METRICS));
	ff_check_own_triggers(ff_extension_relid(FF_REL_RPC_METRICS_ROLLUP));
	ff_run_as_owner(insert_rows_as_owner, &b);
	return b.skipped;
}

/* metrics_batch.c writes its batch with insert_rows. */
int
ff_metrics_insert_rows(const MetricsRow *rows, int nrows, bool isolate)
{
	return insert_rows(rows, nrows, isolate);
}

/* metrics_batch.c swallows errors of its writes with run_in_subxact. */
ErrorData *
ff_metrics_run_in_subxact(void (*fn) (void *), void *arg)
{
	return run_in_subxact(fn, arg);
}

/* Table mode, _log_rpc: one call becomes one aggregate row (errors propagate to the caller). */
static void
table_record(const char *rpc, int64 minute, double ms, bool ok)
{
	MetricsRow	row;

	strlcpy(row.rpc, rpc, sizeof(row.rpc));
	row.minute = minute;
	row.calls = 1;
	row.errors = ok ? 0 : 1;
	row.total_ms = ms;
	row.max_ms = ms;
	row.sketch = ff_sketch_single(ms);
	(void) insert_rows(&row, 1, false);
}

/* ----------------------------------------------------------------------
 * Recording: _log_rpc, _ff_log_rpc_at, ff_tracked_call
 * ---------------------------------------------------------------------- */

/*
 * Validate _log_rpc arguments (22023, see docs/metrics.md); the rpc name is
 * copied into rpc[FF_RPC_NAME_MAX + 1] (no allocation on the hot path).
 */
static void
log_rpc_args(FunctionCallInfo fcinfo, char *rpc, double *ms, bool *ok)
{
	text	   *t;
	int			len;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rpc name must not be NULL")));
	t = PG_GETARG_TEXT_PP(0);
	len = VARSIZE_ANY_EXHDR(t);
	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rpc name must not be empty")));
	if (len > FF_RPC_NAME_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rpc name is longer than %d bytes", FF_RPC_NAME_MAX)));
	memcpy(rpc, VARDATA_ANY(t), len);
	rpc[len] = '\0';			/* text never contains NUL bytes */
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("duration must not be NULL")));
	*ms = PG_GETARG_FLOAT8(1);
	/* bounded, so no sum of accepted calls can overflow (NaN fails both tests) */
	if (!(*ms >= 0 && *ms <= FF_METRICS_MAX_MS))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("duration must be between 0 and %.0f milliseconds, got %.15g",
						FF_METRICS_MAX_MS, *ms)));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_ok must not be NULL")));
	*ok = PG_GETARG_BOOL(2);
}

/* Record one validated call at `ts`, in shared memory or as a table row. */
static void
log_call(const char *rpc, double ms, bool ok, TimestampTz ts, MetricsNameClass cls)
{
	if (metrics_shm_available())
		metrics_shm_record(MyDatabaseId, rpc, ff_metrics_minute(ts), ms, ok, cls);
	else
		table_record(rpc, ff_metrics_minute(ts), ms, ok);
}

/* _log_rpc(p_rpc, p_duration_ms, p_ok): an app logs one call of its own RPC. */
Datum
ff_log_rpc(PG_FUNCTION_ARGS)
{
	double		ms;
	bool		ok;
	char		rpc[FF_RPC_NAME_MAX + 1];
	instr_time	now;

	log_rpc_args(fcinfo, rpc, &ms, &ok);
	if (rpc_is_reserved(rpc))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("rpc name \"%s\" is reserved for feed_fusion's own tracking", rpc)));
	if (metrics_shm_available())
	{
		/* hot path: the cached clock pair spares a gettimeofday() */
		INSTR_TIME_SET_CURRENT(now);
		metrics_shm_record(MyDatabaseId, rpc, minute_at(now), ms, ok, caller_class());
		PG_RETURN_VOID();
	}
	log_call(rpc, ms, ok, GetCurrentTimestamp(), caller_class());
	PG_RETURN_VOID();
}

/* _ff_log_rpc_at(..., p_at): same, into the minute of p_at (backfill, tests, benchmarks). */
Datum
ff_log_rpc_at(PG_FUNCTION_ARGS)
{
	double		ms;
	bool		ok;
	char		rpc[FF_RPC_NAME_MAX + 1];

	log_rpc_args(fcinfo, rpc, &ms, &ok);
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_at must not be NULL")));
	if (TIMESTAMP_NOT_FINITE(PG_GETARG_TIMESTAMPTZ(3)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_at must be finite")));
	ff_require_service_role("_ff_log_rpc_at");
	/* backfill may name the extension's own RPCs: they keep their reserve */
	log_call(rpc, ms, ok, PG_GETARG_TIMESTAMPTZ(3),
			 rpc_is_reserved(rpc) ? FF_MX_TRACKED : FF_MX_SERVICE);
	PG_RETURN_VOID();
}

/* Record after the RPC body ran; never raises for metrics' sake. */
Datum
ff_tracked_call(const char *rpc, PGFunction impl, FunctionCallInfo fcinfo)
{
	volatile Datum result = (Datum) 0;
	instr_time	start,
				end,
				stop;
	double		ms;
	bool		shm = metrics_shm_available();

	if (!ff_track_rpcs || rpc == NULL || rpc[0] == '\0' || strlen(rpc) > FF_RPC_NAME_MAX)
		return impl(fcinfo);

	INSTR_TIME_SET_CURRENT(start);
	PG_TRY();
	{
		result = impl(fcinfo);
	}
	PG_CATCH();
	{
		/* recorded in memory only (shared or this backend's batch): no write after an error */
		INSTR_TIME_SET_CURRENT(stop);
		end = stop;
		INSTR_TIME_SUBTRACT(end, start);
		ms = Min(Max(INSTR_TIME_GET_MILLISEC(end), 0.0), FF_METRICS_MAX_MS);
		if (shm)
			metrics_shm_record(MyDatabaseId, rpc, ff_metrics_minute(GetCurrentTimestamp()),
							   ms, false, FF_MX_TRACKED);
		else
			metrics_batch_record(rpc, ff_metrics_minute(GetCurrentTimestamp()), ms, false, stop);
		PG_RE_THROW();
	}
	PG_END_TRY();
	INSTR_TIME_SET_CURRENT(stop);
	end = stop;
	INSTR_TIME_SUBTRACT(end, start);
	ms = INSTR_TIME_GET_MILLISEC(end);
	if (ms < 0)
		ms = 0;
	if (ms > FF_METRICS_MAX_MS)
		ms = FF_METRICS_MAX_MS; /* the bound every recorded duration obeys */

	if (shm)
		metrics_shm_record(MyDatabaseId, rpc, minute_at(stop), ms, true, FF_MX_TRACKED);
	else
	{
		metrics_batch_record(rpc, minute_at(stop), ms, true, stop);
		metrics_batch_maybe_write(stop);
	}
	return result;
}

/* Body of _ff_metrics_selftest: sleeps p_sleep_ms, then fails if asked (test hook). */
static Datum
selftest_impl(PG_FUNCTION_ARGS)
{
	bool		fail = PG_ARGISNULL(0) ? false : PG_GETARG_BOOL(0);
	double		sleep_ms = PG_ARGISNULL(1) ? 0 : PG_GETARG_FLOAT8(1);

	if (sleep_ms > 0 && sleep_ms <= 10000)
		pg_usleep((long) (sleep_ms * 1000.0));
	if (fail)
		ereport(ERROR,
				(errcode(ERRCODE_RAISE_EXCEPTION),
				 errmsg("_ff_metrics_selftest failed on request")));
	PG_RETURN_INT32(1);
}

/* _ff_metrics_selftest(p_fail, p_sleep_ms): a tracked RPC for tests of ff_tracked_call. */
Datum
ff_metrics_selftest(PG_FUNCTION_ARGS)
{
	return ff_tracked_call("_ff_metrics_selftest", selftest_impl, fcinfo);
}

/* ----------------------------------------------------------------------
 * Flush
 * ---------------------------------------------------------------------- */

/*
 * Move this database's closed (or all) minutes into rpc_metrics in this
 * transaction; in table mode, this backend's whole batch.
 */
static int64
metrics_flush(bool include_open)
{
	MetricsRow *rows;
	int			n;

	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot flush RPC metrics during recovery")));
	if (XactReadOnly)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot flush RPC metrics in a read-only transaction")));
	if (IsInParallelMode())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("cannot flush RPC metrics in parallel mode")));
	if (!metrics_shm_available())
		return metrics_batch_flush();
	rows = metrics_shm_take(include_open, &n);
	if (n > 0)
	{
		int			skipped = insert_rows(rows, n, true);

		/* skipped rows' slots are released with the rest: dropped, not retried */
		if (skipped > 0)
			metrics_shm_count_skipped(skipped);
		n -= skipped;
	}
	return n;
}

/* Flush entry for the maintenance worker, which may serve a database without the extension. */
int64
ff_metrics_flush_current_db(bool include_open)
{
	if (!metrics_shm_available())
		return 0;
	if (ff_extension_if_installed() == NULL)
		return -1;
	return metrics_flush(include_open);
}

/* rpc_metrics_flush(): service_role moves closed minutes into rpc_metrics now. */
Datum
ff_rpc_metrics_flush(PG_FUNCTION_ARGS)
{
	ff_require_service_role("rpc_metrics_flush");
	PG_RETURN_INT64(metrics_flush(false));
}

/* _ff_metrics_flush_all(): also the open minute (what a clean shutdown does). */
Datum
ff_metrics_flush_all(PG_FUNCTION_ARGS)
{
	ff_require_service_role("_ff_metrics_flush_all");
	PG_RETURN_INT64(metrics_flush(true));
}

/* ----------------------------------------------------------------------
 * Reading: pending rows, status, hour
 * ---------------------------------------------------------------------- */

/* metrics_shm_pending() / metrics_batch_pending() callback: one row of _ff_metrics_pending(). */
static void
pending_put(const MetricsRow *row, void *arg)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) arg;
	Datum		values[7];
	bool		nulls[7] = {false};

	values[0] = CStringGetTextDatum(row->rpc);
	values[1] = TimestampTzGetDatum(row->minute * USECS_PER_MINUTE);
	values[2] = Int64GetDatum((int64) row->calls);
	values[3] = Int64GetDatum((int64) row->errors);
	values[4] = Float8GetDatum(row->total_ms);
	values[5] = Float8GetDatum(row->max_ms);
	values[6] = PointerGetDatum(row->sketch);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * _ff_metrics_pending(): this database's not-yet-flushed aggregates, one row per
 * (rpc, minute) slot, in rpc_metrics' shape.  Table mode: this backend's batch.
 */
Datum
ff_metrics_pending(PG_FUNCTION_ARGS)
{
	ff_require_service_role("_ff_metrics_pending");
	InitMaterializedSRF(fcinfo, 0);
	if (metrics_shm_available())
		metrics_shm_pending(pending_put, fcinfo->resultinfo);
	else
		metrics_batch_pending(pending_put, fcinfo->resultinfo);
	return (Datum) 0;
}

/*
 * An integer setting of the maintenance worker, read by name: bgworker.c owns
 * those settings and metrics.c does not depend on it.
 */
static int64
worker_setting_int(const char *name)
{
	const char *v = GetConfigOption(name, true, false);

	return v ? pg_strtoint32(v) : 0;
}

/* _ff_metrics_status(): jsonb detail for ff_status()'s metrics row. */
Datum
ff_metrics_status(PG_FUNCTION_ARGS)
{
	FfStatus	st;
	bool		shm = metrics_shm_available();

	ff_status_begin(&st);
	ff_status_text(&st, "mode", shm ? "shared_memory" : "table");
	ff_status_bool(&st, "track_rpcs", ff_track_rpcs);
	ff_status_float(&st, "sketch_relative_accuracy", FF_SKETCH_ALPHA);
	ff_status_int(&st, "sketch_buckets", FF_SKETCH_NBUCKETS);
	if (shm)
	{
		const char *dbs = GetConfigOption("feed_fusion.database", true, false);

		ff_status_int(&st, "flush_interval_s", worker_setting_int("feed_fusion.metrics_flush_interval"));
		ff_status_int(&st, "maintenance_interval_s", worker_setting_int("feed_fusion.maintenance_interval"));
		ff_status_text(&st, "worker_databases", dbs ? dbs : "");
		metrics_shm_status(&st);
	}
	else
	{
		ff_status_bool(&st, "errors_recorded", true);
		metrics_batch_status(&st);
	}
	PG_RETURN_JSONB_P(ff_status_end(&st));
}

/*
 * _ff_metrics_hour(ts): start of ts's UTC hour.  IMMUTABLE (unlike date_trunc on
 * timestamptz), so rpc_metrics can index it and the view's hour filter uses it.
 */
Datum
ff_metrics_hour(PG_FUNCTION_ARGS)
{
	TimestampTz t = PG_GETARG_TIMESTAMPTZ(0);
	int64		h;

	if (TIMESTAMP_NOT_FINITE(t))
		PG_RETURN_TIMESTAMPTZ(t);
	h = t / USECS_PER_HOUR;
	if (t < 0 && t % USECS_PER_HOUR != 0)
		h--;
	PG_RETURN_TIMESTAMPTZ(h * USECS_PER_HOUR);
}

/* ----------------------------------------------------------------------
 * Init
 * ---------------------------------------------------------------------- */

/* _PG_init: the tracking switch always; the recorder's settings and shared memory when preloaded. */
void
ff_metrics_init(void)
{
	DefineCustomBoolVariable("feed_fusion.track_rpcs",
							 "Record latency and errors of feed_fusion's own RPCs.",
							 NULL, &ff_track_rpcs, true, PGC_USERSET, 0, NULL, NULL, NULL);
	metrics_batch_register();
	metrics_shm_register();
}
