/*
 * bgworker.c — the maintenance worker: flushes RPC metrics and runs partition
 * maintenance; and the settings that drive it.
 *
 * What: one static worker per database named in feed_fusion.database (default
 *       'postgres'; a comma-separated list gives one worker each), registered from
 *       _PG_init when feed_fusion is preloaded.  Every
 *       feed_fusion.metrics_flush_interval it moves that database's closed minutes
 *       from shared memory into rpc_metrics (metrics.h); every
 *       feed_fusion.maintenance_interval (and once at start) it runs
 *       ff_run_maintenance() (pg_partman premake and retention for posts,
 *       usage_events, rpc_metrics, then the prune of the hourly metrics rollup).  On
 *       SIGTERM (clean shutdown) it flushes everything pending, including the open
 *       minute, before exiting.  A database without the extension is skipped until
 *       it has it.
 * Why:  a fixed database list is simple and predictable (like pg_cron's
 *       cron.database_name); other databases flush through rpc_metrics_flush() and
 *       run ff_run_maintenance() themselves (see docs/metrics.md).  The worker starts
 *       after recovery, so standbys never try to write.  Its settings live here, next
 *       to their only user; metrics.c reads them by name for its status row, so the
 *       dependency runs one way (bgworker.c -> metrics.h).
 * Crash: a crash (or immediate shutdown) loses at most the minutes not flushed yet.
 * Locking: none of its own; each step is one transaction (the flush follows
 *       metrics_shm.c's protocol, ff_run_maintenance() takes its advisory lock).
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

#define WORKER_TYPE		"feed_fusion maintenance worker"

/* Settings (feed_fusion.*). */
static int	metrics_flush_interval = 60;	/* seconds */
static int	maintenance_interval = 3600;	/* seconds, 0 = never */
static char *worker_databases = NULL;	/* databases served, one worker each */

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
static void
register_workers(void)
{
	char	   *raw;
	List	   *dbs;
	ListCell   *lc;

	if (worker_databases == NULL || worker_databases[0] == '\0')
		return;
	raw = pstrdup(worker_databases);
	if (!SplitIdentifierString(raw, ',', &dbs))
	{
		ereport(WARNING,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid list syntax in parameter \"%s\"", "feed_fusion.database"),
				 errdetail("No maintenance worker is started.")));
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
		snprintf(w.bgw_function_name, BGW_MAXLEN, "ff_maintenance_worker_main");
		snprintf(w.bgw_name, BGW_MAXLEN, WORKER_TYPE " for %s", db);
		snprintf(w.bgw_type, BGW_MAXLEN, WORKER_TYPE);
		strlcpy(w.bgw_extra, db, BGW_EXTRALEN);
		RegisterBackgroundWorker(&w);
	}
}

/* _PG_init: intervals always (SIGHUP); the database list and the workers only while preloading. */
void
ff_bgworker_init(void)
{
	DefineCustomIntVariable("feed_fusion.metrics_flush_interval",
							"How often the background worker flushes closed minutes of RPC metrics.",
							NULL, &metrics_flush_interval, 60, 1, 3600, PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("feed_fusion.maintenance_interval",
							"How often the background worker runs ff_run_maintenance() (0 = never).",
							NULL, &maintenance_interval, 3600, 0, 7 * 86400, PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	/* PGC_POSTMASTER variables can only be defined while preloading */
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomStringVariable("feed_fusion.database",
							   "Database(s), comma-separated, served by the maintenance worker.",
							   NULL, &worker_databases, "postgres", PGC_POSTMASTER, 0,
							   NULL, NULL, NULL);
	register_workers();
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
		bool		installed;
		int			rc;

		PushActiveSnapshot(GetTransactionSnapshot());
		installed = ff_extension_if_installed() != NULL;
		if (installed && step == STEP_MAINTENANCE)
		{
			/* retention, premake and the rollup prune (see 05_partitions.sql) */
			pgstat_report_activity(STATE_RUNNING, "feed_fusion: ff_run_maintenance()");
			if (SPI_connect() != SPI_OK_CONNECT)
				elog(ERROR, "SPI_connect failed");
			rc = SPI_execute(psprintf("SELECT %s()", ff_qualified("ff_run_maintenance")), false, 0);
			if (rc != SPI_OK_SELECT)
				elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
			SPI_finish();
		}
		else if (installed)
		{
			int64		n;

			pgstat_report_activity(STATE_RUNNING, "feed_fusion: flush rpc metrics");
			n = ff_metrics_flush_current_db(step == STEP_FLUSH_ALL);
			if (n > 0)
				elog(DEBUG1, "flushed " INT64_FORMAT " rpc_metrics rows", n);
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
ff_maintenance_worker_main(Datum arg)
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
	pgstat_report_appname(WORKER_TYPE);

	next_flush = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), metrics_flush_interval * 1000L);
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
																	 metrics_flush_interval * 1000L));
		}
		now = GetCurrentTimestamp();
		if (now >= next_flush)
		{
			run_step(STEP_FLUSH_CLOSED);
			next_flush = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), metrics_flush_interval * 1000L);
		}
		if (maintenance_interval > 0 && now >= next_maint)
		{
			run_step(STEP_MAINTENANCE);
			next_maint = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), maintenance_interval * 1000L);
		}
		else if (maintenance_interval == 0)
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
