/*
 * metrics_shm.c — the RPC metrics recorder in shared memory (feed_fusion preloaded).
 *
 * What: per-(database, rpc, minute) aggregates — calls, errors, total and max ms,
 *       dense 32-bit latency-sketch counts (sketch.c) — in a fixed table of
 *       feed_fusion.metrics_slots slots with a free list; recording; the flush
 *       protocol and its transaction callbacks; the shared-memory hooks and settings.
 *       The name table the slots hang off (a dynahash keyed {db, name} with
 *       per-database quotas, overflow names, idle eviction and the per-backend memo)
 *       is metrics_names.c; the two share metrics_shm_int.h.  Each name points at its
 *       current slot; when no slot (or no database entry) is free a call is dropped
 *       (counted) rather than blocking or failing.
 *       metrics_shm_take() hands closed minutes to metrics.c, which writes them into
 *       rpc_metrics in the same transaction; metrics_shm_pending() shows what no
 *       flush the reader can see covers yet, so rpc_metrics_hourly merges both.
 * Why:  recording is a hash lookup, one log() and a few adds under a shared lock —
 *       no table write, so it works in READ ONLY transactions and on hot standbys and
 *       costs well under a microsecond.  Kept apart from the SQL layer (metrics.c),
 *       as ratelimit_shm.c is from rate_limiter.c.
 * Locking: one LWLock (tranche "feed_fusion_metrics") guards the name table, the
 *       free list and the slot states.  Recorders take it SHARED to find their
 *       (name, minute) slot and add to the slot's counters under the slot's spinlock;
 *       creating or evicting names and allocating or freeing slots takes it
 *       EXCLUSIVE.  A flush marks slots FLUSHING under EXCLUSIVE (recorders never
 *       touch a FLUSHING slot, they open a new one), and the caller writes the rows;
 *       the commit callback marks the slots FLUSHED, abort (top-level or savepoint)
 *       puts them back to ACTIVE.  Readers skip a FLUSHING/FLUSHED slot whose
 *       transaction their snapshot sees as committed, so nothing is counted twice or
 *       missed, even by an older REPEATABLE READ snapshot; FLUSHED slots are freed
 *       once the flushing xid is older than every backend's xmin.  Counters in the
 *       header are atomics.  The memo's validity rule (names_gen, bumped by eviction
 *       under EXCLUSIVE, checked under SHARED) is in metrics_names.c.  See
 *       docs/metrics.md ("Shared-memory mode").
 */
#include "postgres.h"

#include <float.h>

#include "access/transam.h"
#include "access/xact.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "metrics.h"
#include "metrics_shm.h"
#include "metrics_shm_int.h"
#include "sketch.h"
#include "status.h"

#define MX_TRANCHE			"feed_fusion_metrics"

/* Capacities (PGC_POSTMASTER). */
static int	metrics_max_rpcs = 256;
static int	metrics_max_app_rpcs = 64;
static int	metrics_max_databases = 8;
static int	metrics_slots = 1024;

/* The segment and the name table, shared with metrics_names.c (metrics_shm_int.h). */
MetricsShared *mshm = NULL;
HTAB	   *m_names;
MetricsSlot *m_slots;
int		   *m_next;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* This backend's slots marked FLUSHING by the current transaction. */
static int *pending_slot = NULL;
static SubTransactionId *pending_subid = NULL;
static int	npending = 0;
static bool callbacks_registered = false;

/* ----------------------------------------------------------------------
 * Shared memory
 * ---------------------------------------------------------------------- */

/*
 * Name entries: per database its entry, the service and app quotas, the tracked
 * reserve and two overflow names, so no database can use up another's room.
 */
static int
names_cap(void)
{
	return metrics_max_databases * (metrics_max_rpcs + metrics_max_app_rpcs + DB_FIXED_ENTRIES);
}

/* Bytes of the header, the slots and their free-list links. */
static Size
segment_size(void)
{
	Size		sz = MAXALIGN(sizeof(MetricsShared));

	sz = add_size(sz, MAXALIGN(mul_size(metrics_slots, sizeof(MetricsSlot))));
	sz = add_size(sz, MAXALIGN(mul_size(metrics_slots, sizeof(int))));
	return sz;
}

/* Bytes of shared memory in all (what ff_status() reports). */
static Size
metrics_shmem_size(void)
{
	return add_size(segment_size(), hash_estimate_size(names_cap(), sizeof(MetricsName)));
}

/* shmem_request_hook: reserve the segment, the name table and our LWLock. */
static void
metrics_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(metrics_shmem_size());
	RequestNamedLWLockTranche(MX_TRANCHE, 1);
}

/* shmem_startup_hook: create (or attach to) the segment; also after a crash restart. */
static void
metrics_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	mshm = ShmemInitStruct("feed_fusion metrics", segment_size(), &found);
	m_slots = (MetricsSlot *) ((char *) mshm + MAXALIGN(sizeof(MetricsShared)));
	m_next = (int *) ((char *) m_slots + MAXALIGN(mul_size(metrics_slots, sizeof(MetricsSlot))));
	if (!found)
	{
		memset(mshm, 0, sizeof(MetricsShared));
		mshm->lock = &(GetNamedLWLockTranche(MX_TRANCHE))->lock;
		mshm->max_names = metrics_max_rpcs;
		mshm->max_app_names = metrics_max_app_rpcs;
		mshm->max_dbs = metrics_max_databases;
		mshm->names_cap = names_cap();
		mshm->nslots = metrics_slots;
		pg_atomic_init_u64(&mshm->recorded, 0);
		pg_atomic_init_u64(&mshm->overflow_calls, 0);
		pg_atomic_init_u64(&mshm->dropped_calls, 0);
		pg_atomic_init_u64(&mshm->flushed_rows, 0);
		pg_atomic_init_u64(&mshm->evicted_names, 0);
		pg_atomic_init_u64(&mshm->skipped_rows, 0);
		pg_atomic_init_u64(&mshm->last_flush, 0);
		for (int i = 0; i < mshm->nslots; i++)
		{
			SpinLockInit(&m_slots[i].mutex);
			m_slots[i].state = SLOT_FREE;
			m_next[i] = (i + 1 < mshm->nslots) ? i + 1 : -1;
		}
		mshm->free_head = 0;
	}
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(MetricsNameKey);
	info.entrysize = sizeof(MetricsName);
	info.hash = name_key_hash;
	m_names = ShmemInitHash("feed_fusion metrics names", mshm->names_cap, mshm->names_cap,
							&info, HASH_ELEM | HASH_FUNCTION | HASH_FIXED_SIZE);
	LWLockRelease(AddinShmemInitLock);
}

/* _PG_init: capacities and hooks, only while preloading (else table mode). */
void
metrics_shm_register(void)
{
	/* PGC_POSTMASTER variables can only be defined while preloading */
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomIntVariable("feed_fusion.metrics_max_rpcs",
							"Distinct RPC names of service_role per database in shared memory; more go to '_overflow'.",
							NULL, &metrics_max_rpcs, 256, 1, 100000, PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("feed_fusion.metrics_max_app_rpcs",
							"Distinct RPC names of app roles (authenticated) per database; more go to '_overflow_app'.",
							NULL, &metrics_max_app_rpcs, 64, 1, 100000, PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("feed_fusion.metrics_max_databases",
							"Databases whose RPC names shared memory holds at once; calls in more are dropped.",
							NULL, &metrics_max_databases, 8, 1, 1000, PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("feed_fusion.metrics_slots",
							"Per-(rpc, minute) aggregates kept in shared memory (about 4 kB each).",
							NULL, &metrics_slots, 1024, 16, 1000000, PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = metrics_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = metrics_shmem_startup;
}

/* The SQL layer chooses between this recorder and table mode with it. */
bool
metrics_shm_available(void)
{
	return mshm != NULL;
}

/* ----------------------------------------------------------------------
 * Slots
 * ---------------------------------------------------------------------- */

/* Return a slot to the free list.  EXCLUSIVE. */
static void
slot_release(int s)
{
	MetricsName *n = m_slots[s].name;

	if (n->cur_slot == s)
		n->cur_slot = -1;
	n->nslots--;
	m_slots[s].state = SLOT_FREE;
	m_next[s] = mshm->free_head;
	mshm->free_head = s;
	mshm->slots_used--;
}

/*
 * Free FLUSHED slots whose transaction every snapshot now sees as committed
 * (older than the oldest xmin of any backend).  EXCLUSIVE.
 */
static void
slots_reclaim(void)
{
	TransactionId horizon = GetOldestNonRemovableTransactionId(NULL);

	for (int i = 0; i < mshm->nslots; i++)
		if (m_slots[i].state == SLOT_FLUSHED &&
			TransactionIdPrecedes(m_slots[i].flush_xid, horizon))
			slot_release(i);
}

/* ACTIVE slot for (name n, minute), allocating one; -1 when none is free.  EXCLUSIVE. */
static int
slot_find_or_create(MetricsName *n, int64 minute)
{
	int			s = n->cur_slot;

	if (s >= 0 && m_slots[s].state == SLOT_ACTIVE && m_slots[s].minute == minute)
		return s;
	/* a late call for an older minute, or a minute a flush just took */
	for (int i = 0; i < mshm->nslots; i++)
		if (m_slots[i].state == SLOT_ACTIVE && m_slots[i].name == n &&
			m_slots[i].minute == minute)
			return i;
	if (mshm->free_head < 0)
		slots_reclaim();
	s = mshm->free_head;
	if (s < 0)
		return -1;
	mshm->free_head = m_next[s];
	mshm->slots_used++;
	m_slots[s].state = SLOT_ACTIVE;
	m_slots[s].name = n;
	m_slots[s].dboid = n->key.dbid;
	m_slots[s].minute = minute;
	m_slots[s].flush_xid = InvalidTransactionId;
	m_slots[s].flush_pid = 0;
	m_slots[s].calls = 0;
	m_slots[s].errors = 0;
	m_slots[s].total_ms = 0;
	m_slots[s].max_ms = 0;
	memset(m_slots[s].counts, 0, sizeof(m_slots[s].counts));
	n->nslots++;
	if (n->cur_slot < 0 || m_slots[n->cur_slot].state != SLOT_ACTIVE ||
		m_slots[n->cur_slot].minute <= minute)
		n->cur_slot = s;
	return s;
}

/* Add one call to a slot (lock held in any mode; the slot spinlock orders recorders). */
static inline void
slot_add(MetricsSlot *slot, int bucket, double ms, bool ok)
{
	SpinLockAcquire(&slot->mutex);
	/* saturating: a slot's sums never wrap or become infinite */
	if (slot->calls < (uint64) PG_INT64_MAX)
	{
		slot->calls++;
		if (!ok)
			slot->errors++;
	}
	if (slot->total_ms + ms <= DBL_MAX)
		slot->total_ms += ms;
	else
		slot->total_ms = DBL_MAX;
	if (ms > slot->max_ms)
		slot->max_ms = ms;
	if (slot->counts[bucket] < PG_UINT32_MAX)
		slot->counts[bucket]++;
	SpinLockRelease(&slot->mutex);
}

/* Copy a slot's aggregate out (the spinlock pairs with a recorder's last release). */
static void
slot_copy(MetricsSlot *slot, MetricsRow *row, uint32 *counts)
{
	SpinLockAcquire(&slot->mutex);
	row->minute = slot->minute;
	row->calls = slot->calls;
	row->errors = slot->errors;
	row->total_ms = slot->total_ms;
	row->max_ms = slot->max_ms;
	memcpy(counts, slot->counts, sizeof(uint32) * FF_SKETCH_NBUCKETS);
	SpinLockRelease(&slot->mutex);
	strlcpy(row->rpc, slot->name->key.name, sizeof(row->rpc));
}

/* ----------------------------------------------------------------------
 * Recording (the hot path)
 * ---------------------------------------------------------------------- */

/*
 * Record one call.  Never raises an error (it runs inside PG_CATCH for failed
 * RPCs): when nothing can be allocated the call is counted as dropped.  The common
 * case — a known name whose slot is for this minute — takes the lock SHARED.
 */
void
metrics_shm_record(Oid db, const char *name, int64 minute, double ms, bool ok,
				   MetricsNameClass cls)
{
	int			len = strlen(name);
	uint32		h = name_hash(db, name, len);
	int			bucket = ff_sketch_index(ms);
	MetricsNameKey key;
	MetricsName *n;
	int			s;

	LWLockAcquire(mshm->lock, LW_SHARED);
	n = name_lookup(db, name, len, h);
	if (n != NULL)
	{
		s = n->cur_slot;
		if (s >= 0 && m_slots[s].state == SLOT_ACTIVE && m_slots[s].minute == minute)
		{
			if (n->last_minute < minute)
				n->last_minute = minute;	/* benign race: only ever grows */
			slot_add(&m_slots[s], bucket, ms, ok);
			LWLockRelease(mshm->lock);
			pg_atomic_fetch_add_u64(&mshm->recorded, 1);
			return;
		}
	}
	LWLockRelease(mshm->lock);

	name_key(&key, db, name, len);
	LWLockAcquire(mshm->lock, LW_EXCLUSIVE);
	n = name_find_or_create(&key, h, minute, cls);
	s = n != NULL ? slot_find_or_create(n, minute) : -1;
	if (s >= 0)
	{
		if (n->last_minute < minute)
			n->last_minute = minute;
		slot_add(&m_slots[s], bucket, ms, ok);
	}
	LWLockRelease(mshm->lock);
	if (s >= 0)
		pg_atomic_fetch_add_u64(&mshm->recorded, 1);
	else
		pg_atomic_fetch_add_u64(&mshm->dropped_calls, 1);
}

/* ----------------------------------------------------------------------
 * Flush protocol
 * ---------------------------------------------------------------------- */

/* Put a slot this backend marked FLUSHING back to ACTIVE (its flush rolled back).  EXCLUSIVE. */
static void
slot_unflush(int s)
{
	if (m_slots[s].state == SLOT_FLUSHING && m_slots[s].flush_pid == MyProcPid)
	{
		m_slots[s].state = SLOT_ACTIVE;
		m_slots[s].flush_xid = InvalidTransactionId;
		m_slots[s].flush_pid = 0;
	}
}

/* Commit makes flushed slots FLUSHED, abort puts them back, PREPARE is refused. */
static void
metrics_xact_callback(XactEvent event, void *arg)
{
	if (npending == 0 || mshm == NULL)
		return;
	switch (event)
	{
		case XACT_EVENT_PRE_PREPARE:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot PREPARE a transaction that flushed RPC metrics")));
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			LWLockAcquire(mshm->lock, LW_EXCLUSIVE);
			for (int i = 0; i < npending; i++)
			{
				int			s = pending_slot[i];

				if (m_slots[s].state == SLOT_FLUSHING && m_slots[s].flush_pid == MyProcPid)
					m_slots[s].state = SLOT_FLUSHED;	/* freed by slots_reclaim() */
			}
			LWLockRelease(mshm->lock);
			pg_atomic_fetch_add_u64(&mshm->flushed_rows, npending);
			pg_atomic_write_u64(&mshm->last_flush, (uint64) GetCurrentTimestamp());
			npending = 0;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			LWLockAcquire(mshm->lock, LW_EXCLUSIVE);
			for (int i = 0; i < npending; i++)
				slot_unflush(pending_slot[i]);
			LWLockRelease(mshm->lock);
			npending = 0;
			break;
		default:
			break;
	}
}

/* A rolled-back savepoint puts its flushed slots back; a released one hands them up. */
static void
metrics_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	int			kept = 0;

	if (npending == 0 || mshm == NULL)
		return;
	if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		for (int i = 0; i < npending; i++)
			if (pending_subid[i] == mySubid)
				pending_subid[i] = parentSubid;
	}
	else if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		LWLockAcquire(mshm->lock, LW_EXCLUSIVE);
		for (int i = 0; i < npending; i++)
		{
			if (pending_subid[i] == mySubid)
			{
				slot_unflush(pending_slot[i]);
				continue;
			}
			pending_slot[kept] = pending_slot[i];
			pending_subid[kept] = pending_subid[i];
			kept++;
		}
		LWLockRelease(mshm->lock);
		npending = kept;
	}
}

/* Per-process setup for flushing, on first use: callbacks and the pending list. */
static void
flush_setup(void)
{
	if (callbacks_registered)
		return;
	pending_slot = MemoryContextAlloc(TopMemoryContext, sizeof(int) * mshm->nslots);
	pending_subid = MemoryContextAlloc(TopMemoryContext, sizeof(SubTransactionId) * mshm->nslots);
	RegisterXactCallback(metrics_xact_callback, NULL);
	RegisterSubXactCallback(metrics_subxact_callback, NULL);
	callbacks_registered = true;
}

/* Mark this database's closed (or all) minutes FLUSHING for this transaction and copy them out. */
MetricsRow *
metrics_shm_take(bool include_open, int *nrows)
{
	TransactionId xid;
	SubTransactionId subid = GetCurrentSubTransactionId();
	int64		now_minute = ff_metrics_minute(GetCurrentTimestamp());
	int			first = npending;
	int			n;
	MetricsRow *rows;
	uint32	   *counts;

	flush_setup();
	xid = GetTopTransactionId();

	LWLockAcquire(mshm->lock, LW_EXCLUSIVE);
	for (int i = 0; i < mshm->nslots; i++)
	{
		MetricsSlot *slot = &m_slots[i];

		if (slot->state != SLOT_ACTIVE || slot->dboid != MyDatabaseId ||
			(!include_open && slot->minute >= now_minute))
			continue;
		slot->state = SLOT_FLUSHING;
		slot->flush_xid = xid;
		slot->flush_pid = MyProcPid;
		if (slot->name->cur_slot == i)
			slot->name->cur_slot = -1;
		pending_slot[npending] = i;
		pending_subid[npending] = subid;
		npending++;
	}
	slots_reclaim();
	names_evict_idle(now_minute);
	LWLockRelease(mshm->lock);

	/* FLUSHING slots are never written by recorders, so they are read unlocked */
	n = npending - first;
	*nrows = n;
	if (n == 0)
		return NULL;
	rows = palloc(sizeof(MetricsRow) * n);
	counts = palloc(sizeof(uint32) * FF_SKETCH_NBUCKETS);
	for (int i = 0; i < n; i++)
	{
		slot_copy(&m_slots[pending_slot[first + i]], &rows[i], counts);
		rows[i].sketch = ff_sketch_encode32(counts);
	}
	pfree(counts);
	return rows;
}

/* Count rows a flush skipped: counted at once, even if that flush later rolls back. */
void
metrics_shm_count_skipped(int n)
{
	pg_atomic_fetch_add_u64(&mshm->skipped_rows, n);
}

/* ----------------------------------------------------------------------
 * Reading: pending rows and status
 * ---------------------------------------------------------------------- */

/* Is a FLUSHING/FLUSHED slot's data already visible as table rows to this query? */
static bool
flushed_rows_visible(int state, TransactionId xid, Snapshot snap)
{
	if (!TransactionIdIsValid(xid))
		return false;
	if (TransactionIdIsCurrentTransactionId(xid))
		return true;
	if (XidInMVCCSnapshot(xid, snap))
		return false;
	/* FLUSHED: known committed; FLUSHING: ended but callbacks not run yet, or running */
	return state == SLOT_FLUSHED || TransactionIdDidCommit(xid);
}

/* This database's aggregates the reader cannot see in rpc_metrics yet, one call of fn each. */
void
metrics_shm_pending(MetricsRowFn fn, void *arg)
{
	Snapshot	snap = ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
	uint32	   *counts = palloc(sizeof(uint32) * FF_SKETCH_NBUCKETS);
	MetricsRow	row;

	LWLockAcquire(mshm->lock, LW_SHARED);
	for (int i = 0; i < mshm->nslots; i++)
	{
		MetricsSlot *slot = &m_slots[i];

		if (slot->dboid != MyDatabaseId || slot->state == SLOT_FREE)
			continue;
		if ((slot->state == SLOT_FLUSHING || slot->state == SLOT_FLUSHED) &&
			flushed_rows_visible(slot->state, slot->flush_xid, snap))
			continue;
		slot_copy(slot, &row, counts);
		if (row.calls == 0)
			continue;
		row.sketch = ff_sketch_encode32(counts);
		fn(&row, arg);
	}
	LWLockRelease(mshm->lock);
	pfree(counts);
}

/* The recorder's part of the metrics ff_status() row (capacity, use, counters). */
void
metrics_shm_status(FfStatus *st)
{
	int			names_regular,
				names_overflow,
				ndbs,
				slots_used,
				pending = 0;
	int			here[NK_COUNT] = {0};
	MetricsNameKey key;
	MetricsName *db;

	LWLockAcquire(mshm->lock, LW_SHARED);
	names_regular = mshm->names_regular;
	names_overflow = mshm->names_overflow;
	ndbs = mshm->ndbs;
	slots_used = mshm->slots_used;
	name_key(&key, MyDatabaseId, "", 0);
	db = hash_search(m_names, &key, HASH_FIND, NULL);
	if (db != NULL)
		memcpy(here, db->nnames, sizeof(here));
	for (int i = 0; i < mshm->nslots; i++)
		if ((m_slots[i].state == SLOT_ACTIVE || m_slots[i].state == SLOT_FLUSHING) &&
			m_slots[i].dboid == MyDatabaseId)
			pending++;
	LWLockRelease(mshm->lock);
	ff_status_int(st, "max_rpcs", mshm->max_names);
	ff_status_int(st, "max_app_rpcs", mshm->max_app_names);
	ff_status_int(st, "max_databases", mshm->max_dbs);
	ff_status_int(st, "databases", ndbs);
	ff_status_int(st, "rpc_names", names_regular);
	ff_status_int(st, "overflow_names", names_overflow);
	ff_status_int(st, "service_names_this_db", here[NK_SERVICE]);
	ff_status_int(st, "app_names_this_db", here[NK_APP]);
	ff_status_int(st, "tracked_names_this_db", here[NK_TRACKED]);
	ff_status_int(st, "overflow_names_this_db", here[NK_OVERFLOW]);
	ff_status_int(st, "slots", mshm->nslots);
	ff_status_int(st, "slots_in_use", slots_used);
	ff_status_int(st, "pending_slots_this_db", pending);
	ff_status_int(st, "recorded_calls", (int64) pg_atomic_read_u64(&mshm->recorded));
	ff_status_int(st, "overflow_calls", (int64) pg_atomic_read_u64(&mshm->overflow_calls));
	ff_status_int(st, "dropped_calls", (int64) pg_atomic_read_u64(&mshm->dropped_calls));
	ff_status_int(st, "flushed_rows", (int64) pg_atomic_read_u64(&mshm->flushed_rows));
	ff_status_int(st, "evicted_names", (int64) pg_atomic_read_u64(&mshm->evicted_names));
	ff_status_int(st, "skipped_rows", (int64) pg_atomic_read_u64(&mshm->skipped_rows));
	ff_status_int(st, "shared_memory_bytes", (int64) metrics_shmem_size());
	ff_status_time(st, "last_flush", (TimestampTz) pg_atomic_read_u64(&mshm->last_flush));
}
