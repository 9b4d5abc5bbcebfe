/*
 * bgworker.c — background worker: flushes RPC metrics and runs partition maintenance.
 *
 * What: one static worker per database named in feed_fusion.database (default
 *       'postgres'; a comma-separated list gives one worker each), registered from
 *       _PG_init when feed_fusion is preloaded.  Every
 *       feed_fusion.metrics_flush_interval it moves that database's closed minutes
 *       from shared memory into rpc_metrics; every feed_fusion.maintenance_interval
 *       (and once at start) it runs ff_run_maintenance() (pg_partman premake and
 *       retention for posts, usage_events, rpc_metrics) and prunes the hourly
 *       rollup of dropped partitions.  On SIGTERM (clean
 *       shutdown) it flushes everything pending, including the open minute, before
 *       exiting.  A database without the extension is skipped until it has it.
 * Why:  a fixed database list is simple and predictable (like pg_cron's
 *       cron.database_name); other databases flush through rpc_metrics_flush() and
 *       run ff_run_maintenance() themselves (document in docs/metrics.md).
 *       The worker starts after recovery, so standbys never try to write.
 * Crash: a crash (or immediate shutdown) loses at most the minutes not flushed yet.
 * Locking: none of its own; each step is one transaction using metrics.c's flush.
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "feed_fusion.h"
#include "bgworker.h"
#include "context.h"
#include "metrics.h"

static volatile sig_atomic_t got_sigterm = false;

/* SIGTERM: finish the current step, flush everything, exit. */
static void
worker_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	got_sigterm = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

/* Register one worker per listed database (postmaster, from _PG_init). */
void
ff_bgworker_register(void)
{
	char	   *raw;
	List	   *dbs;
	ListCell   *lc;

	if (ff_metrics_database == NULL || ff_metrics_database[0] == '\0')
		return;
	raw = pstrdup(ff_metrics_database);
	if (!SplitIdentifierString(raw, ',', &dbs))
	{
		ereport(WARNING,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("feed_fusion.database is not a valid list of database names: \"%s\"",
						ff_metrics_database)));
		return;
	}
	foreach(lc, dbs)
	{
		const char *db = (const char *) lfirst(lc);
		BackgroundWorker w;

		memset(&w, 0, sizeof(w));
		w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		w.bgw_start_time = BgWorkerStart_RecoveryFinished;
		w.bgw_restart_time = 10;
		snprintf(w.bgw_library_name, BGW_MAXLEN, "feed_fusion");
		snprintf(w.bgw_function_name, BGW_MAXLEN, "ff_metrics_worker_main");
		snprintf(w.bgw_name, BGW_MAXLEN, "feed_fusion metrics worker for %s", db);
		snprintf(w.bgw_type, BGW_MAXLEN, "feed_fusion metrics worker");
		strlcpy(w.bgw_extra, db, BGW_EXTRALEN);
		RegisterBackgroundWorker(&w);
	}
}

/* Steps the worker runs, each in its own transaction. */
typedef enum WorkerStep
{
	STEP_FLUSH_CLOSED,
	STEP_FLUSH_ALL,
	STEP_MAINTENANCE
} WorkerStep;

/* Run one step; an error is logged and the worker carries on. */
static void
run_step(WorkerStep step)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		const char *schema;

		PushActiveSnapshot(GetTransactionSnapshot());
		schema = ff_extension_if_installed() ? ff_extension()->schema : NULL;
		if (schema != NULL && step == STEP_MAINTENANCE)
		{
			pgstat_report_activity(STATE_RUNNING, "feed_fusion: ff_run_maintenance()");
			if (SPI_connect() != SPI_OK_CONNECT)
				ereport(ERROR,
						(errcode(ERRCODE_INTERNAL_ERROR),
						 errmsg("feed_fusion: SPI_connect failed")));
			SPI_execute(psprintf("SELECT %s()", quote_qualified_identifier(schema, "ff_run_maintenance")), false, 0);
			/* retention dropped partitions: drop their hours from the rollup too */
			SPI_execute(psprintf("SELECT %s()", quote_qualified_identifier(schema, "_ff_metrics_prune_rollup")), false, 0);
			SPI_finish();
		}
		else if (schema != NULL)
		{
			int64		n;

			pgstat_report_activity(STATE_RUNNING, "feed_fusion: flush rpc metrics");
			n = ff_metrics_flush_current_db(step == STEP_FLUSH_ALL);
			if (n > 0)
				elog(DEBUG1, "feed_fusion: flushed " INT64_FORMAT " rpc_metrics rows", n);
		}
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(TopMemoryContext);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* Worker main loop: flush on the flush interval, maintenance on its own interval. */
void
ff_metrics_worker_main(Datum arg)
{
	char		db[BGW_EXTRALEN];
	TimestampTz next_flush,
				next_maint;

	memcpy(db, MyBgworkerEntry->bgw_extra, BGW_EXTRALEN);
	db[BGW_EXTRALEN - 1] = '\0';
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, worker_sigterm);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(db, NULL, 0);
	pgstat_report_appname("feed_fusion metrics worker");

	next_flush = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ff_metrics_flush_interval * 1000L);
	next_maint = GetCurrentTimestamp();	/* once at start */

	while (!got_sigterm)
	{
		TimestampTz now;
		long		wait_ms;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			next_flush = Min(next_flush, TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
																	 ff_metrics_flush_interval * 1000L));
		}
		now = GetCurrentTimestamp();
		if (now >= next_flush)
		{
			run_step(STEP_FLUSH_CLOSED);
			next_flush = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ff_metrics_flush_interval * 1000L);
		}
		if (ff_maintenance_interval > 0 && now >= next_maint)
		{
			run_step(STEP_MAINTENANCE);
			next_maint = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ff_maintenance_interval * 1000L);
		}
		else if (ff_maintenance_interval == 0)
			next_maint = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), 3600 * 1000L);

		now = GetCurrentTimestamp();
		wait_ms = (long) ((Min(next_flush, next_maint) - now) / 1000);
		wait_ms = Max(wait_ms, 100);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 wait_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}

	/* clean shutdown: nothing pending may be lost */
	run_step(STEP_FLUSH_ALL);
	proc_exit(0);
}
