/*
 * bgworker.c — the launcher and the per-database maintenance workers: they flush
 * RPC metrics and run partition maintenance in every database that has feed_fusion;
 * and the settings that drive them.
 *
 * What: one static "feed_fusion launcher" worker, registered from _PG_init when
 *       feed_fusion is preloaded (never under pg_upgrade's binary-upgrade mode).  It
 *       connects to no database (like the logical replication launcher) and only
 *       reads the shared catalog pg_database: at start and every
 *       feed_fusion.discovery_interval it lists the connectable, non-template
 *       databases allowed by feed_fusion.database ('*' = all) and starts one dynamic
 *       "feed_fusion maintenance worker" (BGW_NEVER_RESTART, database oid in
 *       bgw_main_arg, bgw_notify_pid = launcher) for each database that has none.
 *       The worker connects, exits at once if the extension is not installed there
 *       (the launcher then re-checks that database one discovery interval later), and
 *       otherwise runs the loop the single static worker used to run: every
 *       feed_fusion.metrics_flush_interval it moves the database's closed minutes
 *       from shared memory into rpc_metrics (metrics.h); every
 *       feed_fusion.maintenance_interval (and once at start) it runs
 *       ff_run_maintenance() (skipped while a dump is being restored); on SIGTERM
 *       (clean shutdown) it flushes everything pending, including the open minute.
 *       It exits when the extension is dropped.  A worker that stops otherwise is
 *       started again 10 s later; one that cannot start (max_worker_processes used
 *       up) gets one WARNING per database and a retry every discovery interval.
 * Why:  an app database may have any name; a static list (the old
 *       feed_fusion.database = 'postgres') silently left others without flush and
 *       maintenance.  The launcher holds no database connection, so it never blocks
 *       CREATE/DROP DATABASE.  A served database's worker does hold one, and DROP
 *       DATABASE (also ALTER DATABASE RENAME / SET TABLESPACE, CREATE DATABASE ...
 *       TEMPLATE) refuses to run while another process is connected (it only
 *       terminates autovacuum); so a ProcessUtility hook, for the database's owner,
 *       pauses that database (the launcher starts no worker for it), SIGTERMs its
 *       worker and waits for it to leave before the command runs, and lifts the pause
 *       a few seconds after it.  A worker connecting later blocks on the database
 *       lock the command holds until commit.
 * Crash: a crash (or immediate shutdown) loses at most the minutes not flushed yet.
 * Locking: the shared table of database slots (oid, worker pid, "not installed",
 *       pause deadline) is protected by a spinlock, held only to read or write a few
 *       fields.  A worker publishes its pid and reads the pause under the same lock
 *       that the hook sets the pause and reads the pid under, so either the hook sees
 *       the worker or the worker sees the pause.  Each worker step is one transaction
 *       (the flush follows metrics_shm.c's protocol, ff_run_maintenance() takes its
 *       advisory lock).
 */
#include "postgres.h"

#include <signal.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/acl.h"
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
#define LAUNCHER_TYPE	"feed_fusion launcher"

#define RETRY_AFTER_EXIT_MS	10000	/* a worker that stopped unexpectedly */
#define MAX_STARTING		4		/* workers started but not yet settled */
#define DDL_WAIT_MS			10000	/* how long the hook waits for a worker to leave */
#define DDL_PAUSE_MS		600000	/* pause while the command runs (safety bound) */
#define DDL_AFTER_MS		5000	/* pause kept after the command */

/* Settings (feed_fusion.*). */
static int	metrics_flush_interval = 60;	/* seconds */
static int	maintenance_interval = 3600;	/* seconds, 0 = never */
static int	discovery_interval = 60;	/* seconds */
static char *worker_databases = NULL;	/* allow-list; '*' or empty = every database */

static volatile sig_atomic_t got_sigterm = false;

/* One database the launcher started a worker for, or the hook paused. */
typedef struct DbSlot
{
	Oid			dboid;			/* InvalidOid: free */
	pid_t		pid;			/* worker connected to dboid, 0 = none */
	bool		settled;		/* worker has decided: serving or not installed */
	bool		not_installed;	/* worker found no extension and exited */
	TimestampTz paused_until;	/* no worker before this (DDL hook) */
} DbSlot;

typedef struct LauncherShared
{
	slock_t		mutex;
	Latch	   *launcher_latch; /* set by workers when they settle */
	int			nslots;
	DbSlot		slots[FLEXIBLE_ARRAY_MEMBER];
} LauncherShared;

static LauncherShared *lshm = NULL;
static int	my_slot = -1;		/* the worker's own slot */

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static ProcessUtility_hook_type prev_utility_hook = NULL;

/* SIGTERM: finish the current step, flush everything, exit. */
static void
worker_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	got_sigterm = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

/* ----------------------------------------------------------------------
 * Shared slot table
 * ---------------------------------------------------------------------- */

/* Room for every worker that can run at once, plus pauses of unserved databases. */
static int
slot_count(void)
{
	return max_worker_processes + 16;
}

/* Size of the shared table. */
static Size
launcher_shmem_size(void)
{
	return add_size(offsetof(LauncherShared, slots), mul_size(slot_count(), sizeof(DbSlot)));
}

/* shmem_request_hook: reserve the slot table. */
static void
launcher_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(launcher_shmem_size());
}

/* shmem_startup_hook: create (or attach to) the slot table; also after a crash restart. */
static void
launcher_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	lshm = ShmemInitStruct("feed_fusion launcher", launcher_shmem_size(), &found);
	if (!found)
	{
		memset(lshm, 0, launcher_shmem_size());
		SpinLockInit(&lshm->mutex);
		lshm->nslots = slot_count();
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Index of dboid's slot, or -1; with create, a free slot is taken (-1 when full). Caller holds mutex. */
static int
slot_find(Oid dboid, bool create)
{
	int			i,
				free_i = -1;

	for (i = 0; i < lshm->nslots; i++)
	{
		if (lshm->slots[i].dboid == dboid)
			return i;
		if (free_i < 0 && lshm->slots[i].dboid == InvalidOid)
			free_i = i;
	}
	if (create && free_i >= 0)
	{
		memset(&lshm->slots[free_i], 0, sizeof(DbSlot));
		lshm->slots[free_i].dboid = dboid;
		return free_i;
	}
	return -1;
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
static bool
database_allowed(const char *datname)
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
	snprintf(w.bgw_name, BGW_MAXLEN, LAUNCHER_TYPE);
	snprintf(w.bgw_type, BGW_MAXLEN, LAUNCHER_TYPE);
	RegisterBackgroundWorker(&w);
}

static void ff_utility_hook(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
							ProcessUtilityContext context, ParamListInfo params,
							QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc);

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
							NULL, &discovery_interval, 60, 1, 3600, PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	/* the rest exists only when preloaded (as before: the allow-list is read by name in metrics.c) */
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomStringVariable("feed_fusion.database",
							   "Databases the maintenance workers may serve: '*' (every database with feed_fusion) or a comma-separated list.",
							   NULL, &worker_databases, "*", PGC_SIGHUP, 0,
							   check_databases, NULL, NULL);
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = launcher_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = launcher_shmem_startup;
	prev_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = ff_utility_hook;
	/* pg_upgrade's servers must not run maintenance while objects are re-created */
	if (!IsBinaryUpgrade)
		register_launcher();
}

/* ----------------------------------------------------------------------
 * DDL that needs a database without other connections
 * ---------------------------------------------------------------------- */

/* Name of the database a statement needs to itself (DROP/RENAME/SET TABLESPACE/TEMPLATE), or NULL. */
static const char *
exclusive_database_of(Node *stmt)
{
	ListCell   *lc;

	switch (nodeTag(stmt))
	{
		case T_DropdbStmt:
			return ((DropdbStmt *) stmt)->dbname;
		case T_RenameStmt:
			if (((RenameStmt *) stmt)->renameType == OBJECT_DATABASE)
				return ((RenameStmt *) stmt)->subname;
			return NULL;
		case T_AlterDatabaseStmt:
			foreach(lc, ((AlterDatabaseStmt *) stmt)->options)
				if (strcmp(((DefElem *) lfirst(lc))->defname, "tablespace") == 0)
					return ((AlterDatabaseStmt *) stmt)->dbname;
			return NULL;
		case T_CreatedbStmt:
			foreach(lc, ((CreatedbStmt *) stmt)->options)
			{
				DefElem    *d = (DefElem *) lfirst(lc);

				if (strcmp(d->defname, "template") == 0 && d->arg != NULL)
					return defGetString(d);
			}
			return NULL;
		default:
			return NULL;
	}
}

/* Set (or, with ms = 0 after the command, shorten) the pause of dboid; returns the worker pid seen. */
static pid_t
pause_database(Oid dboid, long ms)
{
	int			i;
	pid_t		pid = 0;
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	SpinLockAcquire(&lshm->mutex);
	i = slot_find(dboid, true);
	if (i >= 0)
	{
		lshm->slots[i].paused_until = until;
		pid = lshm->slots[i].pid;
	}
	SpinLockRelease(&lshm->mutex);
	return pid;
}

/* Pid of dboid's worker, 0 when none is connected. */
static pid_t
worker_pid_of(Oid dboid)
{
	int			i;
	pid_t		pid = 0;

	SpinLockAcquire(&lshm->mutex);
	i = slot_find(dboid, false);
	if (i >= 0)
		pid = lshm->slots[i].pid;
	SpinLockRelease(&lshm->mutex);
	return pid;
}

/* Stop dboid's worker and keep the launcher from starting another: the command needs the database alone. */
static void
stop_worker_for_ddl(Oid dboid)
{
	pid_t		pid = pause_database(dboid, DDL_PAUSE_MS);
	TimestampTz give_up = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), DDL_WAIT_MS);
	PGPROC	   *proc;

	if (pid == 0)
		return;
	/* signal only a live process still connected to that database */
	proc = BackendPidGetProc(pid);
	if (proc != NULL && proc->databaseId == dboid)
		(void) kill(pid, SIGTERM);
	while (worker_pid_of(dboid) != 0 && GetCurrentTimestamp() < give_up)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 20, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* ProcessUtility hook: free a served database of its worker before DDL that needs it alone. */
static void
ff_utility_hook(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
				ProcessUtilityContext context, ParamListInfo params,
				QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	const char *dbname = lshm ? exclusive_database_of(pstmt->utilityStmt) : NULL;
	Oid			dboid = dbname ? get_database_oid(dbname, true) : InvalidOid;

	/* only the database's owner (or a superuser) may disturb its worker */
	if (OidIsValid(dboid) && !pg_database_ownercheck(dboid, GetUserId()))
		dboid = InvalidOid;
	if (OidIsValid(dboid))
		stop_worker_for_ddl(dboid);
	PG_TRY();
	{
		if (prev_utility_hook)
			prev_utility_hook(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		/* the command holds the database lock until commit: new workers wait on it */
		if (OidIsValid(dboid))
			(void) pause_database(dboid, DDL_AFTER_MS);
	}
	PG_END_TRY();
}

/* ----------------------------------------------------------------------
 * Launcher
 * ---------------------------------------------------------------------- */

/* What the launcher knows about one database (its local memory). */
typedef struct LaunchDb
{
	Oid			dboid;
	char		name[NAMEDATALEN];
	BackgroundWorkerHandle *handle; /* worker started by this launcher, or NULL */
	TimestampTz next_start;		/* earliest (re)start */
	bool		warned;			/* "no free worker slot" logged */
	bool		seen;			/* listed by the last discovery */
} LaunchDb;

static List *launch_dbs = NIL;	/* of LaunchDb *, in TopMemoryContext */

/* The launcher's entry for dboid, or NULL. */
static LaunchDb *
launch_db_find(Oid dboid)
{
	ListCell   *lc;

	foreach(lc, launch_dbs)
		if (((LaunchDb *) lfirst(lc))->dboid == dboid)
			return (LaunchDb *) lfirst(lc);
	return NULL;
}

/* Read pg_database (a shared catalog: no database connection needed) and update launch_dbs. */
static void
discover_databases(void)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	ListCell   *lc;
	MemoryContext keep = TopMemoryContext;

	foreach(lc, launch_dbs)
		((LaunchDb *) lfirst(lc))->seen = false;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	pgstat_report_activity(STATE_RUNNING, "feed_fusion: list databases");
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database d = (Form_pg_database) GETSTRUCT(tup);
		LaunchDb   *ld;

		/* templates are never served: a connection would block CREATE DATABASE */
		if (!d->datallowconn || d->datistemplate || database_is_invalid_form(d) ||
			!database_allowed(NameStr(d->datname)))
			continue;
		ld = launch_db_find(d->oid);
		if (ld == NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(keep);

			ld = palloc0(sizeof(LaunchDb));
			ld->dboid = d->oid;
			launch_dbs = lappend(launch_dbs, ld);
			MemoryContextSwitchTo(old);
		}
		strlcpy(ld->name, NameStr(d->datname), NAMEDATALEN);
		ld->seen = true;
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);

	/* gone or no longer allowed: stop its worker, forget it once that has stopped */
	foreach(lc, launch_dbs)
	{
		LaunchDb   *ld = (LaunchDb *) lfirst(lc);

		if (ld->seen)
			continue;
		if (ld->handle != NULL)
			TerminateBackgroundWorker(ld->handle);
		else
		{
			launch_dbs = foreach_delete_current(launch_dbs, lc);
			pfree(ld);
		}
	}
}

/* Notice stopped workers: when to try their database again, and free their slots. */
static void
reap_workers(TimestampTz now)
{
	ListCell   *lc;

	foreach(lc, launch_dbs)
	{
		LaunchDb   *ld = (LaunchDb *) lfirst(lc);
		pid_t		pid;
		int			i;
		bool		not_installed = false;

		if (ld->handle == NULL || GetBackgroundWorkerPid(ld->handle, &pid) != BGWH_STOPPED)
			continue;
		pfree(ld->handle);
		ld->handle = NULL;
		SpinLockAcquire(&lshm->mutex);
		i = slot_find(ld->dboid, false);
		if (i >= 0)
		{
			DbSlot	   *s = &lshm->slots[i];

			not_installed = s->not_installed;
			if (s->pid == 0 && s->paused_until <= now)
				s->dboid = InvalidOid;
		}
		SpinLockRelease(&lshm->mutex);
		/* not installed: look again next discovery interval; stopped otherwise: in 10 s */
		ld->next_start = TimestampTzPlusMilliseconds(now, not_installed ? discovery_interval * 1000L
													 : RETRY_AFTER_EXIT_MS);
	}
}

/* Start a maintenance worker for ld; false when no background worker slot was free. */
static bool
start_worker(LaunchDb *ld)
{
	BackgroundWorker w;
	int			i;

	SpinLockAcquire(&lshm->mutex);
	i = slot_find(ld->dboid, true);
	if (i >= 0)
	{
		lshm->slots[i].settled = false;
		lshm->slots[i].not_installed = false;
	}
	SpinLockRelease(&lshm->mutex);
	if (i < 0)
		return false;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "feed_fusion");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "ff_maintenance_worker_main");
	snprintf(w.bgw_name, BGW_MAXLEN, WORKER_TYPE " for %s", ld->name);
	snprintf(w.bgw_type, BGW_MAXLEN, WORKER_TYPE);
	w.bgw_main_arg = ObjectIdGetDatum(ld->dboid);
	w.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&w, &ld->handle))
	{
		ld->handle = NULL;
		return false;
	}
	return true;
}

/* Start workers for databases that have none and are due; returns the next time one is due. */
static TimestampTz
start_workers(TimestampTz now, TimestampTz next_wake)
{
	ListCell   *lc;
	int			starting = 0;

	/* started but not settled: limit the churn of checks across many databases */
	foreach(lc, launch_dbs)
	{
		LaunchDb   *ld = (LaunchDb *) lfirst(lc);
		int			i;

		if (ld->handle == NULL)
			continue;
		SpinLockAcquire(&lshm->mutex);
		i = slot_find(ld->dboid, false);
		if (i >= 0 && !lshm->slots[i].settled)
			starting++;
		SpinLockRelease(&lshm->mutex);
	}

	foreach(lc, launch_dbs)
	{
		LaunchDb   *ld = (LaunchDb *) lfirst(lc);
		int			i;
		pid_t		pid = 0;
		TimestampTz paused_until = 0;

		if (ld->handle != NULL || !ld->seen)
			continue;
		SpinLockAcquire(&lshm->mutex);
		i = slot_find(ld->dboid, false);
		if (i >= 0)
		{
			pid = lshm->slots[i].pid;	/* a worker left by a previous launcher */
			paused_until = lshm->slots[i].paused_until;
		}
		SpinLockRelease(&lshm->mutex);
		if (pid != 0)
			continue;
		/* due later, paused for DDL, or too many settling: look again when it may be time */
		if (ld->next_start > now || paused_until > now || starting >= MAX_STARTING)
		{
			TimestampTz due = Max(ld->next_start, now);
			TimestampTz soon = TimestampTzPlusMilliseconds(now, 1000);

			if (paused_until > now) /* the pause shrinks once the command is done */
				due = Max(due, Min(paused_until, soon));
			if (starting >= MAX_STARTING)	/* a settling worker also sets our latch */
				due = Max(due, soon);
			next_wake = Min(next_wake, due);
			continue;
		}
		if (start_worker(ld))
		{
			ld->warned = false;
			starting++;
			continue;
		}
		if (!ld->warned)
			ereport(WARNING,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("could not start the feed_fusion maintenance worker for database \"%s\"",
							ld->name),
					 errdetail("No background worker slot is free; metrics flush and partition maintenance wait."),
					 errhint("Raise max_worker_processes: one for the launcher plus one per database with feed_fusion. Retrying every %d s.",
							 discovery_interval)));
		ld->warned = true;
		ld->next_start = TimestampTzPlusMilliseconds(now, discovery_interval * 1000L);
		next_wake = Min(next_wake, ld->next_start);
	}
	return next_wake;
}

/* Free slots nobody needs: no worker connected, no pause, no worker of ours to reap. */
static void
clean_slots(TimestampTz now)
{
	int			i;

	SpinLockAcquire(&lshm->mutex);
	for (i = 0; i < lshm->nslots; i++)
	{
		DbSlot	   *s = &lshm->slots[i];
		LaunchDb   *ld;

		if (s->dboid == InvalidOid || s->pid != 0 || s->paused_until > now)
			continue;
		ld = launch_db_find(s->dboid);
		if (ld == NULL || ld->handle == NULL)
			s->dboid = InvalidOid;
	}
	SpinLockRelease(&lshm->mutex);
}

/* Launcher main loop: discover every discovery_interval, (re)start workers as they are due. */
void
ff_launcher_main(Datum arg)
{
	TimestampTz next_discovery = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, worker_sigterm);
	BackgroundWorkerUnblockSignals();
	/* no database: pg_database is shared, and we must never block CREATE/DROP DATABASE */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname(LAUNCHER_TYPE);

	SpinLockAcquire(&lshm->mutex);
	lshm->launcher_latch = MyLatch;
	SpinLockRelease(&lshm->mutex);

	while (!got_sigterm)
	{
		TimestampTz now,
					next_wake;
		long		wait_ms;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			next_discovery = 0; /* the allow-list or the interval may have changed */
		}
		now = GetCurrentTimestamp();
		reap_workers(now);
		if (now >= next_discovery)
		{
			discover_databases();
			clean_slots(now);
			next_discovery = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), discovery_interval * 1000L);
		}
		now = GetCurrentTimestamp();
		next_wake = start_workers(now, next_discovery);

		wait_ms = (long) ((next_wake - GetCurrentTimestamp()) / 1000);
		wait_ms = Max(wait_ms, 100);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 wait_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}

	SpinLockAcquire(&lshm->mutex);
	lshm->launcher_latch = NULL;
	SpinLockRelease(&lshm->mutex);
	proc_exit(0);
}

/* ----------------------------------------------------------------------
 * Per-database maintenance worker
 * ---------------------------------------------------------------------- */

/* on_shmem_exit: this database no longer has a connected worker. */
static void
worker_detach(int code, Datum arg)
{
	SpinLockAcquire(&lshm->mutex);
	if (my_slot >= 0 && lshm->slots[my_slot].pid == MyProcPid)
		lshm->slots[my_slot].pid = 0;
	SpinLockRelease(&lshm->mutex);
	my_slot = -1;
}

/* Publish our pid in the database's slot; false when the database is paused for DDL (then exit). */
static bool
worker_attach(void)
{
	bool		paused;

	SpinLockAcquire(&lshm->mutex);
	my_slot = slot_find(MyDatabaseId, true);
	if (my_slot >= 0)
		lshm->slots[my_slot].pid = MyProcPid;
	paused = my_slot >= 0 && lshm->slots[my_slot].paused_until > GetCurrentTimestamp();
	SpinLockRelease(&lshm->mutex);
	on_shmem_exit(worker_detach, (Datum) 0);
	return !paused;
}

/* Tell the launcher this worker has settled: serving, or the extension is not installed. */
static void
worker_settle(bool installed)
{
	SpinLockAcquire(&lshm->mutex);
	if (my_slot >= 0)
	{
		lshm->slots[my_slot].settled = true;
		lshm->slots[my_slot].not_installed = !installed;
	}
	if (lshm->launcher_latch != NULL)
		SetLatch(lshm->launcher_latch);
	SpinLockRelease(&lshm->mutex);
}

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
	pqsignal(SIGTERM, worker_sigterm);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname(WORKER_TYPE);

	/* DDL waiting for this database to be free: leave at once */
	if (!worker_attach())
		proc_exit(0);
	if (!run_step(STEP_CHECK))
	{
		worker_settle(false);	/* not installed: the launcher looks again later */
		proc_exit(0);
	}
	worker_settle(true);

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

	if (got_sigterm)
		run_step(STEP_FLUSH_ALL);	/* clean shutdown: nothing pending may be lost */
	else
		worker_settle(false);	/* extension dropped */
	proc_exit(0);
}
