/*
 * bgworker.c — the per-database maintenance workers: they flush RPC metrics and run
 * partition maintenance in every database that has feed_fusion; the settings that
 * drive them and the launcher (launcher.c); and the launcher's registration.
 *
 * What: the launcher starts one dynamic "feed_fusion maintenance worker" per
 *       database (launcher.c).  The worker connects, exits at once if the extension
 *       is not installed there (the launcher then re-checks that database one
 *       discovery interval later), and otherwise loops: every
 *       feed_fusion.metrics_flush_interval it moves the database's closed minutes
 *       from shared memory into rpc_metrics (metrics.h); every
 *       feed_fusion.maintenance_interval (and once at start) it runs
 *       ff_run_maintenance() (skipped while a dump is being restored); on SIGTERM
 *       (clean shutdown) it flushes everything pending, including the open minute.
 *       It exits when the extension is dropped.
 * Why:  one worker per database, started by a launcher, serves databases of any name
 *       (see launcher.c); the settings live here, with the loop they drive.
 * Crash: a crash (or immediate shutdown) loses at most the minutes not flushed yet.
 * Locking: the worker publishes its pid and learns of a DDL pause through the
 *       launcher's slot table (launcher.c, spinlock).  Each worker step is one
 *       transaction (the flush follows metrics_shm.c's protocol, ff_run_maintenance()
 *       takes its advisory lock).
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
#include "launcher.h"
#include "metrics.h"

/* Settings (feed_fusion.*). */
static int	metrics_flush_interval = 60;	/* seconds */
static int	maintenance_interval = 3600;	/* seconds, 0 = never */
int			ff_discovery_interval = 60;	/* seconds */
static char *worker_databases = NULL;	/* allow-list; '*' or empty = every database */

volatile sig_atomic_t ff_got_sigterm = false;	/* launcher and workers */

/* SIGTERM: finish the current step, flush everything, exit. */
void
ff_worker_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	ff_got_sigterm = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

/* ----------------------------------------------------------------------
 * Settings and registration
 * ---------------------------------------------------------------------- */

/* check_hook for feed_fusion.database: '*', empty or a valid identifier list. */
static bool
check_databases(char **newval, void **extra, GucSource source)
{
	char	   *raw;
	List	   *names;
	bool		ok;

	if (*newval == NULL || (*newval)[0] == '\0' || strcmp(*newval, "*") == 0)
		return true;
	raw = pstrdup(*newval);
	ok = SplitIdentifierString(raw, ',', &names);
	list_free(names);
	pfree(raw);
	if (!ok)
		GUC_check_errdetail("List syntax is invalid: use '*' or comma-separated database names.");
	return ok;
}

/* Is datname allowed by feed_fusion.database? */
bool
ff_database_allowed(const char *datname)
{
	char	   *raw;
	List	   *names;
	ListCell   *lc;
	bool		found = false;

	if (worker_databases == NULL || worker_databases[0] == '\0' || strcmp(worker_databases, "*") == 0)
		return true;
	raw = pstrdup(worker_databases);
	if (!SplitIdentifierString(raw, ',', &names))
		return false;			/* the check hook prevents this */
	foreach(lc, names)
		if (strcmp((const char *) lfirst(lc), datname) == 0)
			found = true;
	list_free(names);
	pfree(raw);
	return found;
}

/* Register the static launcher (postmaster, from _PG_init). */
static void
register_launcher(void)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = 10;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "feed_fusion");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "ff_launcher_main");
	snprintf(w.bgw_name, BGW_MAXLEN, FF_LAUNCHER_TYPE);
	snprintf(w.bgw_type, BGW_MAXLEN, FF_LAUNCHER_TYPE);
	RegisterBackgroundWorker(&w);
}

/* _PG_init: intervals always (SIGHUP); the allow-list, hooks and launcher only while preloading. */
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
	DefineCustomIntVariable("feed_fusion.discovery_interval",
							"How often the launcher looks for databases that have feed_fusion.",
							NULL, &ff_discovery_interval, 60, 1, 3600, PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	/* the rest exists only when preloaded (as before: the allow-list is read by name in metrics.c) */
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomStringVariable("feed_fusion.database",
							   "Databases the maintenance workers may serve: '*' (every database with feed_fusion) or a comma-separated list.",
							   NULL, &worker_databases, "*", PGC_SIGHUP, 0,
							   check_databases, NULL, NULL);
	ff_launcher_install_hooks();
	/* pg_upgrade's servers must not run maintenance while objects are re-created */
	if (!IsBinaryUpgrade)
		register_launcher();
}

/* ----------------------------------------------------------------------
 * Per-database maintenance worker
 * ---------------------------------------------------------------------- */

/* Steps the worker runs, each in its own transaction. */
typedef enum WorkerStep
{
	STEP_CHECK,
	STEP_FLUSH_CLOSED,
	STEP_FLUSH_ALL,
	STEP_MAINTENANCE
} WorkerStep;

/* true while a dump is being restored into this database (see 05_partitions.sql). */
static bool
restore_in_progress(void)
{
	const char *tbl = ff_qualified("_ff_restore_pending");
	int			rc;
	bool		isnull;

	/* (to_regclass first: a version without that table restores nothing this way) */
	rc = SPI_execute(psprintf("SELECT to_regclass(%s) IS NOT NULL", quote_literal_cstr(tbl)), true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1 ||
		!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) || isnull)
		return false;
	rc = SPI_execute(psprintf("SELECT EXISTS (SELECT 1 FROM %s)", tbl), true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		return false;
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) && !isnull;
}

/* Run one step; an error is logged and the worker carries on.  Returns whether the extension is installed. */
static bool
run_step(WorkerStep step)
{
	bool		installed = true;	/* on error: assume so and carry on */

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		int			rc;

		PushActiveSnapshot(GetTransactionSnapshot());
		installed = ff_extension_if_installed() != NULL;
		if (installed && step == STEP_MAINTENANCE)
		{
			/* retention, premake and the rollup prune (see 05_partitions.sql) */
			pgstat_report_activity(STATE_RUNNING, "feed_fusion: ff_run_maintenance()");
			if (SPI_connect() != SPI_OK_CONNECT)
				elog(ERROR, "SPI_connect failed");
			/* a restore's own partitions are still to come: premake must not race them */
			if (!restore_in_progress())
			{
				rc = SPI_execute(psprintf("SELECT %s()", ff_qualified("ff_run_maintenance")), false, 0);
				if (rc != SPI_OK_SELECT)
					elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
			}
			SPI_finish();
		}
		else if (installed && step != STEP_CHECK)
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
		installed = true;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(TopMemoryContext);
	pgstat_report_activity(STATE_IDLE, NULL);
	return installed;
}

/* Worker main loop: flush on the flush interval, maintenance on its own interval. */
void
ff_maintenance_worker_main(Datum arg)
{
	Oid			dboid = DatumGetObjectId(arg);
	TimestampTz next_flush,
				next_maint;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, ff_worker_sigterm);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname(FF_WORKER_TYPE);

	/* DDL waiting for this database to be free: leave at once */
	if (!ff_launcher_worker_attach())
		proc_exit(0);
	if (!run_step(STEP_CHECK))
	{
		ff_launcher_worker_settle(false);	/* not installed: the launcher looks again later */
		proc_exit(0);
	}
	ff_launcher_worker_settle(true);

	next_flush = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), metrics_flush_interval * 1000L);
	next_maint = GetCurrentTimestamp();	/* once at start */

	while (!ff_got_sigterm)
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
			if (!run_step(STEP_FLUSH_CLOSED))
				break;			/* DROP EXTENSION: nothing left to serve */
			next_flush = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), metrics_flush_interval * 1000L);
		}
		if (maintenance_interval > 0 && now >= next_maint)
		{
			if (!run_step(STEP_MAINTENANCE))
				break;
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

	if (ff_got_sigterm)
		run_step(STEP_FLUSH_ALL);	/* clean shutdown: nothing pending may be lost */
	else
		ff_launcher_worker_settle(false);	/* extension dropped */
	proc_exit(0);
}
