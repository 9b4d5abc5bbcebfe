/*
 * launcher.c — the launcher: finds every database that may have feed_fusion and
 * starts one maintenance worker (bgworker.c) for each; the shared table of served
 * databases; and the DDL hook that frees a served database for DROP/RENAME/TEMPLATE.
 *
 * What: one static "feed_fusion launcher" worker (registered by bgworker.c when
 *       feed_fusion is preloaded, never under pg_upgrade's binary-upgrade mode).  It
 *       connects to no database (like the logical replication launcher) and only
 *       reads the shared catalog pg_database: at start and every
 *       feed_fusion.discovery_interval it lists the connectable, non-template
 *       databases allowed by feed_fusion.database ('*' = all) and starts one dynamic
 *       "feed_fusion maintenance worker" (BGW_NEVER_RESTART, database oid in
 *       bgw_main_arg, bgw_notify_pid = launcher) for each database that has none.
 *       A worker that found no extension is looked at again one discovery interval
 *       later; one that stopped otherwise is started again 10 s later; one that
 *       cannot start (max_worker_processes used up) gets one WARNING per database
 *       and a retry every discovery interval.
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
 * Locking: the shared table of database slots (oid, worker pid, "not installed",
 *       pause deadline) is protected by a spinlock, held only to read or write a few
 *       fields.  A worker publishes its pid and reads the pause under the same lock
 *       that the hook sets the pause and reads the pid under, so either the hook sees
 *       the worker or the worker sees the pause.
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
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "bgworker.h"
#include "launcher.h"

#define RETRY_AFTER_EXIT_MS	10000	/* a worker that stopped unexpectedly */
#define MAX_STARTING		4		/* workers started but not yet settled */
#define DDL_WAIT_MS			10000	/* how long the hook waits for a worker to leave */
#define DDL_PAUSE_MS		600000	/* pause while the command runs (safety bound) */
#define DDL_AFTER_MS		5000	/* pause kept after the command */

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
 * The maintenance worker's side of the slot table
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
bool
ff_launcher_worker_attach(void)
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
void
ff_launcher_worker_settle(bool installed)
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

/* _PG_init, while preloading: install the slot table's shmem hooks and the DDL hook. */
void
ff_launcher_install_hooks(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = launcher_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = launcher_shmem_startup;
	prev_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = ff_utility_hook;
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
			!ff_database_allowed(NameStr(d->datname)))
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
		ld->next_start = TimestampTzPlusMilliseconds(now, not_installed ? ff_discovery_interval * 1000L
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
	snprintf(w.bgw_name, BGW_MAXLEN, FF_WORKER_TYPE " for %s", ld->name);
	snprintf(w.bgw_type, BGW_MAXLEN, FF_WORKER_TYPE);
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
							 ff_discovery_interval)));
		ld->warned = true;
		ld->next_start = TimestampTzPlusMilliseconds(now, ff_discovery_interval * 1000L);
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

/* Launcher main loop: discover every ff_discovery_interval, (re)start workers as they are due. */
void
ff_launcher_main(Datum arg)
{
	TimestampTz next_discovery = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, ff_worker_sigterm);
	BackgroundWorkerUnblockSignals();
	/* no database: pg_database is shared, and we must never block CREATE/DROP DATABASE */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname(FF_LAUNCHER_TYPE);

	SpinLockAcquire(&lshm->mutex);
	lshm->launcher_latch = MyLatch;
	SpinLockRelease(&lshm->mutex);

	while (!ff_got_sigterm)
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
			next_discovery = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ff_discovery_interval * 1000L);
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
