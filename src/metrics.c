/*
 * metrics.c — RPC latency metrics (SPEC §7): _log_rpc, ff_tracked_call,
 * rpc_metrics_flush, the pending-rows SRF behind rpc_metrics_hourly, and status.
 *
 * What: every call lands in a per-(database, rpc, minute) aggregate — calls,
 *       errors, total and max ms, and a latency sketch (sketch.c).
 *   * Shared-memory mode (preloaded): aggregates live in a fixed table of slots in
 *     shared memory; a small name table (feed_fusion.metrics_max_rpcs names, plus a
 *     reserve for one '_overflow' name per database) maps names to their current
 *     slot.  Recording is a hash probe, one log() and a few adds — no table write,
 *     so it works in READ ONLY transactions and on hot standbys.  The background
 *     worker (bgworker.c) or rpc_metrics_flush() moves closed minutes into
 *     rpc_metrics; _ff_metrics_pending() shows what is not flushed yet so the view
 *     merges both.  Names beyond the cap go to '_overflow' (counted); when no slot
 *     is free a call is dropped (counted) rather than blocking or failing.
 *   * Table mode: each call inserts one aggregate row (one-sample sketch) into
 *     rpc_metrics; the view merges rows the same way.  ff_tracked_call cannot
 *     record failures there (no writes after an error) and skips recording where
 *     writes are impossible (read-only, standby, parallel mode).
 * Why:  percentiles stay cheap at any call volume and the hot path costs well
 *       under a microsecond.
 * Locking: one LWLock guards the name table, the free list and slot states.
 *       Recorders take it SHARED to find their (name, minute) slot and update the
 *       slot's counters under the slot's spinlock; creating names or slots takes it
 *       EXCLUSIVE.  A flush marks slots FLUSHING under EXCLUSIVE (recorders never
 *       touch a FLUSHING slot, they open a new one) and writes rows; its commit
 *       callback marks the slots FLUSHED, abort (top-level or savepoint) puts them
 *       back to ACTIVE.  Readers skip a FLUSHING/FLUSHED slot whose transaction
 *       their snapshot sees as committed, so nothing is counted twice or missed,
 *       even by an older REPEATABLE READ snapshot; FLUSHED slots are freed once
 *       the flushing xid is older than every backend's xmin.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "feed_fusion.h"
#include "context.h"
#include "metrics.h"
#include "sketch.h"

PG_FUNCTION_INFO_V1(ff_log_rpc);
PG_FUNCTION_INFO_V1(ff_log_rpc_at);
PG_FUNCTION_INFO_V1(ff_rpc_metrics_flush);
PG_FUNCTION_INFO_V1(ff_metrics_flush_all);
PG_FUNCTION_INFO_V1(ff_metrics_pending);
PG_FUNCTION_INFO_V1(ff_metrics_status);
PG_FUNCTION_INFO_V1(ff_metrics_selftest);
PG_FUNCTION_INFO_V1(ff_metrics_hour);

/* GUCs */
static bool ff_track_rpcs = true;
static int	ff_metrics_max_rpcs = 256;
static int	ff_metrics_slots = 1024;

#define OVERFLOW_RESERVE	16	/* name entries kept for '_overflow' rows */
#define NAME_IDLE_MINUTES	60	/* unused names are evicted after this */

/* Slot states */
#define SLOT_FREE		0
#define SLOT_ACTIVE		1
#define SLOT_FLUSHING	2		/* rows written by a transaction not yet ended */
#define SLOT_FLUSHED	3		/* that transaction committed; kept until no snapshot
								 * can still see it as running */

typedef struct MetricsName
{
	Oid			dboid;			/* InvalidOid: entry unused */
	uint32		hash;
	int			nslots;			/* non-FREE slots referring here */
	int			cur_slot;		/* latest ACTIVE slot, or -1 */
	int64		last_minute;	/* last minute a call was recorded */
	bool		overflow;		/* this is a database's '_overflow' entry */
	char		name[FF_RPC_NAME_MAX + 1];
} MetricsName;

typedef struct MetricsSlot
{
	slock_t		mutex;			/* guards the counters below the header */
	int			state;
	int			name_idx;
	Oid			dboid;
	int64		minute;			/* minutes since the PostgreSQL epoch (UTC) */
	TransactionId flush_xid;	/* top-level xid of the flushing transaction */
	int			flush_pid;
	uint64		calls;
	uint64		errors;
	double		total_ms;
	double		max_ms;
	uint32		counts[FF_SKETCH_NBUCKETS];
} MetricsSlot;

typedef struct MetricsShared
{
	LWLock	   *lock;
	int			max_names;		/* regular names allowed */
	int			names_cap;		/* entries in names[] (regular + reserve) */
	int			nslots;
	int			hash_size;		/* power of two, > 2 * names_cap */
	int			names_regular;	/* regular names in use */
	int			names_total;	/* all names in use */
	int			free_head;		/* first free slot, -1 when full */
	int			slots_used;
	pg_atomic_uint64 recorded;
	pg_atomic_uint64 overflow_calls;
	pg_atomic_uint64 dropped_calls;
	pg_atomic_uint64 flushed_rows;
	pg_atomic_uint64 evicted_names;
	pg_atomic_uint64 last_flush;	/* TimestampTz of the last committed flush */
	Size		off_hash;
	Size		off_names;
	Size		off_slots;
	Size		off_next;
} MetricsShared;

static MetricsShared *mshm = NULL;
static int *m_hash;
static MetricsName *m_names;
static MetricsSlot *m_slots;
static int *m_next;

#if PG_VERSION_NUM >= 150000
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* This backend's slots marked FLUSHING by the current transaction. */
static int *pending_slot = NULL;
static SubTransactionId *pending_subid = NULL;
static int	npending = 0;
static bool callbacks_registered = false;

/* Cached table-mode INSERT plan and the schema it was prepared for. */
static SPIPlanPtr insert_plan = NULL;
static char insert_plan_schema[NAMEDATALEN * 2 + 8];

/* ----------------------------------------------------------------------
 * Shared memory
 * ---------------------------------------------------------------------- */

/* Hash table size: next power of two above twice the name capacity. */
static int
hash_size_for(int names_cap)
{
	int			n = 16;

	while (n <= 2 * names_cap)
		n <<= 1;
	return n;
}

/* Bytes of shared memory for the configured capacities (postmaster and startup). */
static Size
metrics_shmem_size(void)
{
	int			names_cap = ff_metrics_max_rpcs + OVERFLOW_RESERVE;
	Size		sz = MAXALIGN(sizeof(MetricsShared));

	sz = add_size(sz, MAXALIGN(mul_size(hash_size_for(names_cap), sizeof(int))));
	sz = add_size(sz, MAXALIGN(mul_size(names_cap, sizeof(MetricsName))));
	sz = add_size(sz, MAXALIGN(mul_size(ff_metrics_slots, sizeof(MetricsSlot))));
	sz = add_size(sz, MAXALIGN(mul_size(ff_metrics_slots, sizeof(int))));
	return sz;
}

#if PG_VERSION_NUM >= 150000
/* shmem_request_hook: reserve our segment and our LWLock (PG 15+). */
static void
metrics_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(metrics_shmem_size());
	RequestNamedLWLockTranche("feed_fusion_metrics", 1);
}
#endif

/* shmem_startup_hook: create (or attach to) the segment; also after a crash restart. */
static void
metrics_shmem_startup(void)
{
	bool		found;
	int			names_cap = ff_metrics_max_rpcs + OVERFLOW_RESERVE;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	mshm = ShmemInitStruct("feed_fusion metrics", metrics_shmem_size(), &found);
	if (!found)
	{
		Size		off = MAXALIGN(sizeof(MetricsShared));

		memset(mshm, 0, sizeof(MetricsShared));
		mshm->lock = &(GetNamedLWLockTranche("feed_fusion_metrics"))->lock;
		mshm->max_names = ff_metrics_max_rpcs;
		mshm->names_cap = names_cap;
		mshm->nslots = ff_metrics_slots;
		mshm->hash_size = hash_size_for(names_cap);
		mshm->off_hash = off;
		off += MAXALIGN(sizeof(int) * mshm->hash_size);
		mshm->off_names = off;
		off += MAXALIGN(sizeof(MetricsName) * names_cap);
		mshm->off_slots = off;
		off += MAXALIGN(sizeof(MetricsSlot) * (Size) mshm->nslots);
		mshm->off_next = off;
		pg_atomic_init_u64(&mshm->recorded, 0);
		pg_atomic_init_u64(&mshm->overflow_calls, 0);
		pg_atomic_init_u64(&mshm->dropped_calls, 0);
		pg_atomic_init_u64(&mshm->flushed_rows, 0);
		pg_atomic_init_u64(&mshm->evicted_names, 0);
		pg_atomic_init_u64(&mshm->last_flush, 0);
	}
	m_hash = (int *) ((char *) mshm + mshm->off_hash);
	m_names = (MetricsName *) ((char *) mshm + mshm->off_names);
	m_slots = (MetricsSlot *) ((char *) mshm + mshm->off_slots);
	m_next = (int *) ((char *) mshm + mshm->off_next);
	if (!found)
	{
		int			i;

		for (i = 0; i < mshm->hash_size; i++)
			m_hash[i] = -1;
		memset(m_names, 0, sizeof(MetricsName) * mshm->names_cap);
		for (i = 0; i < mshm->names_cap; i++)
			m_names[i].cur_slot = -1;
		for (i = 0; i < mshm->nslots; i++)
		{
			SpinLockInit(&m_slots[i].mutex);
			m_slots[i].state = SLOT_FREE;
			m_next[i] = (i + 1 < mshm->nslots) ? i + 1 : -1;
		}
		mshm->free_head = 0;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* ----------------------------------------------------------------------
 * Name table (caller holds the lock; EXCLUSIVE for changes)
 * ---------------------------------------------------------------------- */

/* Hash of (database, name): the name table is shared by all databases. */
static uint32
name_hash(Oid db, const char *name, int len)
{
	return hash_combine(hash_bytes((const unsigned char *) name, len), (uint32) db);
}

/* Index of (db, name) in the name table, or -1. */
static int
name_lookup(Oid db, const char *name, uint32 h)
{
	int			mask = mshm->hash_size - 1;
	int			pos = h & mask;

	for (;;)
	{
		int			ni = m_hash[pos];

		if (ni < 0)
			return -1;
		if (m_names[ni].hash == h && m_names[ni].dboid == db &&
			strcmp(m_names[ni].name, name) == 0)
			return ni;
		pos = (pos + 1) & mask;
	}
}

/* Put name entry ni into the hash index (the index always has free cells). */
static void
hash_put(int ni)
{
	int			mask = mshm->hash_size - 1;
	int			pos = m_names[ni].hash & mask;

	while (m_hash[pos] >= 0)
		pos = (pos + 1) & mask;
	m_hash[pos] = ni;
}

/* Create entry (db, name); -1 when no entry is free.  EXCLUSIVE lock held. */
static int
name_create(Oid db, const char *name, uint32 h, bool overflow, int64 minute)
{
	int			ni;

	for (ni = 0; ni < mshm->names_cap; ni++)
		if (m_names[ni].dboid == InvalidOid)
			break;
	if (ni >= mshm->names_cap)
		return -1;
	m_names[ni].dboid = db;
	m_names[ni].hash = h;
	m_names[ni].nslots = 0;
	m_names[ni].cur_slot = -1;
	m_names[ni].last_minute = minute;
	m_names[ni].overflow = overflow;
	strlcpy(m_names[ni].name, name, sizeof(m_names[ni].name));
	hash_put(ni);
	mshm->names_total++;
	if (!overflow)
		mshm->names_regular++;
	return ni;
}

/*
 * Entry to record (db, name) under, creating it if allowed; once the regular
 * names are used up the database's '_overflow' entry is returned instead.
 */
static int
name_find_or_create(Oid db, const char *name, int len, uint32 h, int64 minute)
{
	int			ni = name_lookup(db, name, h);

	if (ni >= 0)
		return ni;
	if (mshm->names_regular < mshm->max_names && strcmp(name, FF_OVERFLOW_RPC) != 0)
		return name_create(db, name, h, false, minute);
	/* over the cap: the database's overflow bucket (from the reserve) */
	pg_atomic_fetch_add_u64(&mshm->overflow_calls, 1);
	h = name_hash(db, FF_OVERFLOW_RPC, strlen(FF_OVERFLOW_RPC));
	ni = name_lookup(db, FF_OVERFLOW_RPC, h);
	if (ni >= 0)
		return ni;
	return name_create(db, FF_OVERFLOW_RPC, h, true, minute);
}

/* Drop names idle for an hour with no slots, then rebuild the index.  EXCLUSIVE. */
static void
names_evict_idle(int64 now_minute)
{
	int			ni,
				evicted = 0;

	for (ni = 0; ni < mshm->names_cap; ni++)
	{
		MetricsName *n = &m_names[ni];

		if (n->dboid != InvalidOid && n->nslots == 0 &&
			n->last_minute < now_minute - NAME_IDLE_MINUTES)
		{
			if (!n->overflow)
				mshm->names_regular--;
			mshm->names_total--;
			n->dboid = InvalidOid;
			n->cur_slot = -1;
			evicted++;
		}
	}
	if (evicted == 0)
		return;
	pg_atomic_fetch_add_u64(&mshm->evicted_names, evicted);
	for (ni = 0; ni < mshm->hash_size; ni++)
		m_hash[ni] = -1;
	for (ni = 0; ni < mshm->names_cap; ni++)
		if (m_names[ni].dboid != InvalidOid)
			hash_put(ni);
}

/* ----------------------------------------------------------------------
 * Slots
 * ---------------------------------------------------------------------- */

static void slots_reclaim(void);

/* ACTIVE slot for (name ni, minute), allocating one; -1 when none is free.  EXCLUSIVE. */
static int
slot_find_or_create(int ni, int64 minute)
{
	MetricsName *n = &m_names[ni];
	int			s = n->cur_slot;
	int			i;

	if (s >= 0 && m_slots[s].state == SLOT_ACTIVE && m_slots[s].minute == minute)
		return s;
	/* a late call for an older minute, or a minute a flush just took */
	for (i = 0; i < mshm->nslots; i++)
		if (m_slots[i].state == SLOT_ACTIVE && m_slots[i].name_idx == ni &&
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
	m_slots[s].name_idx = ni;
	m_slots[s].dboid = n->dboid;
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

/* Return a slot to the free list.  EXCLUSIVE. */
static void
slot_release(int s)
{
	MetricsName *n = &m_names[m_slots[s].name_idx];

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
	int			i;

	for (i = 0; i < mshm->nslots; i++)
		if (m_slots[i].state == SLOT_FLUSHED &&
			TransactionIdPrecedes(m_slots[i].flush_xid, horizon))
			slot_release(i);
}

/* Add one call to a slot (lock held in any mode; the slot spinlock orders recorders). */
static inline void
slot_add(MetricsSlot *slot, int bucket, double ms, bool ok)
{
	SpinLockAcquire(&slot->mutex);
	slot->calls++;
	if (!ok)
		slot->errors++;
	slot->total_ms += ms;
	if (ms > slot->max_ms)
		slot->max_ms = ms;
	if (slot->counts[bucket] < PG_UINT32_MAX)
		slot->counts[bucket]++;
	SpinLockRelease(&slot->mutex);
}

/* Minutes since the PostgreSQL epoch, rounded down. */
static inline int64
minute_of(TimestampTz ts)
{
	int64		m = ts / USECS_PER_MINUTE;

	if (ts < 0 && ts % USECS_PER_MINUTE != 0)
		m--;
	return m;
}

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
			return minute_of(base_wall + us);
	}
	base_wall = GetCurrentTimestamp();
	base_mono = mono;
	return minute_of(base_wall);
}

/*
 * Record one call in shared memory.  Never raises an error (it runs inside
 * PG_CATCH for failed RPCs): when nothing can be allocated the call is counted
 * as dropped.
 */
static void
shm_record(Oid db, const char *name, int64 minute, double ms, bool ok)
{
	int			len = strlen(name);
	uint32		h = name_hash(db, name, len);
	int			bucket = ff_sketch_index(ms);
	int			ni,
				s;

	LWLockAcquire(mshm->lock, LW_SHARED);
	ni = name_lookup(db, name, h);
	if (ni >= 0)
	{
		MetricsName *n = &m_names[ni];

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

	LWLockAcquire(mshm->lock, LW_EXCLUSIVE);
	ni = name_find_or_create(db, name, len, h, minute);
	s = ni >= 0 ? slot_find_or_create(ni, minute) : -1;
	if (s >= 0)
	{
		if (m_names[ni].last_minute < minute)
			m_names[ni].last_minute = minute;
		slot_add(&m_slots[s], bucket, ms, ok);
	}
	LWLockRelease(mshm->lock);
	if (s >= 0)
		pg_atomic_fetch_add_u64(&mshm->recorded, 1);
	else
		pg_atomic_fetch_add_u64(&mshm->dropped_calls, 1);
}

/* ----------------------------------------------------------------------
 * Table writes (table mode and flush)
 * ---------------------------------------------------------------------- */

/* Owner of function fn (the extension owner): table writes run as it. */
static Oid
function_owner(Oid fn)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("feed_fusion: function %u not found", fn)));
	owner = ((Form_pg_proc) GETSTRUCT(tup))->proowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * Insert one aggregate row into schema.rpc_metrics, as `owner` (InvalidOid:
 * as the current user).  The caller has done SPI_connect.
 */
static void
insert_row(const char *schema, Oid owner, const char *rpc, int64 minute, uint64 calls,
		   uint64 errors, double total_ms, double max_ms, bytea *sketch)
{
	Datum		vals[7];
	Oid			save_uid;
	int			save_sec;
	volatile int rc = 0;

	if (insert_plan == NULL || strcmp(insert_plan_schema, schema) != 0)
	{
		Oid			types[7] = {TEXTOID, TIMESTAMPTZOID, INT8OID, INT8OID, FLOAT8OID, FLOAT8OID, BYTEAOID};
		char	   *sql = psprintf("INSERT INTO %s (rpc, bucket_start, calls, errors, total_ms, max_ms, sketch) "
								   "VALUES ($1, $2, $3, $4, $5, $6, $7)",
								   quote_qualified_identifier(schema, "rpc_metrics"));
		SPIPlanPtr	plan = SPI_prepare(sql, 7, types);

		if (plan == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("feed_fusion: cannot prepare rpc_metrics insert: %s",
							SPI_result_code_string(SPI_result))));
		SPI_keepplan(plan);
		if (insert_plan)
			SPI_freeplan(insert_plan);
		insert_plan = plan;
		strlcpy(insert_plan_schema, schema, sizeof(insert_plan_schema));
	}
	vals[0] = CStringGetTextDatum(rpc);
	vals[1] = TimestampTzGetDatum(minute * USECS_PER_MINUTE);
	vals[2] = Int64GetDatum((int64) calls);
	vals[3] = Int64GetDatum((int64) errors);
	vals[4] = Float8GetDatum(total_ms);
	vals[5] = Float8GetDatum(max_ms);
	vals[6] = PointerGetDatum(sketch);

	GetUserIdAndSecContext(&save_uid, &save_sec);
	if (OidIsValid(owner))
		SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		rc = SPI_execute_plan(insert_plan, vals, NULL, false, 0);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_uid, save_sec);
	}
	PG_END_TRY();
	if (rc != SPI_OK_INSERT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("feed_fusion: rpc_metrics insert failed: %s", SPI_result_code_string(rc))));
}

/* Table mode: one call becomes one aggregate row (errors propagate to the caller). */
static void
table_record(const char *schema, Oid owner, const char *rpc, int64 minute, double ms, bool ok)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("feed_fusion: SPI_connect failed")));
	insert_row(schema, owner, rpc, minute, 1, ok ? 0 : 1, ms, ms, ff_sketch_single(ms));
	SPI_finish();
}

/*
 * Table mode for ff_tracked_call: record a success in a subtransaction and
 * swallow any failure, so tracking never makes an RPC fail.  Skipped where no
 * write is possible.  A query cancel still propagates.
 */
static void
table_record_quiet(FunctionCallInfo fcinfo, const char *rpc, double ms)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;

	if (XactReadOnly || RecoveryInProgress() || IsInParallelMode() || !IsTransactionState() ||
		fcinfo == NULL || fcinfo->flinfo == NULL)
		return;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		table_record(ff_extension()->schema, function_owner(fcinfo->flinfo->fn_oid), rpc,
					 minute_of(GetCurrentTimestamp()), ms, true);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(edata);
		FreeErrorData(edata);
	}
	PG_END_TRY();
}

/* ----------------------------------------------------------------------
 * Input validation and the SQL entry points
 * ---------------------------------------------------------------------- */

/* Raise 42501 unless the caller is service_role (or a member, or superuser). */
static void
require_service_role(const char *what)
{
	if (ff_acts_as_service_role())
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for %s", what),
			 errdetail("Only service_role may call it.")));
}

/*
 * Validate _log_rpc arguments (22023 per SPEC §7); the rpc name is copied into
 * rpc[FF_RPC_NAME_MAX + 1] (no allocation on the hot path).
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
	if (isnan(*ms) || isinf(*ms) || *ms < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("duration must be a finite number of milliseconds >= 0, got %g", *ms)));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_ok must not be NULL")));
	*ok = PG_GETARG_BOOL(2);
}

/* Record one validated call at `ts`, in shared memory or as a table row. */
static void
log_call(FunctionCallInfo fcinfo, const char *rpc, double ms, bool ok, TimestampTz ts)
{
	if (mshm != NULL)
		shm_record(MyDatabaseId, rpc, minute_of(ts), ms, ok);
	else
		table_record(ff_extension()->schema, function_owner(fcinfo->flinfo->fn_oid), rpc,
					 minute_of(ts), ms, ok);
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
	if (mshm != NULL)
	{
		INSTR_TIME_SET_CURRENT(now);
		shm_record(MyDatabaseId, rpc, minute_at(now), ms, ok);
		PG_RETURN_VOID();
	}
	log_call(fcinfo, rpc, ms, ok, GetCurrentTimestamp());
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
	require_service_role("_ff_log_rpc_at");
	log_call(fcinfo, rpc, ms, ok, PG_GETARG_TIMESTAMPTZ(3));
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

	if (!ff_track_rpcs || rpc == NULL || rpc[0] == '\0' || strlen(rpc) > FF_RPC_NAME_MAX)
		return impl(fcinfo);

	INSTR_TIME_SET_CURRENT(start);
	if (mshm != NULL)
	{
		PG_TRY();
		{
			result = impl(fcinfo);
		}
		PG_CATCH();
		{
			/* shared memory only: no table write is possible after an error */
			INSTR_TIME_SET_CURRENT(end);
			INSTR_TIME_SUBTRACT(end, start);
			shm_record(MyDatabaseId, rpc, minute_of(GetCurrentTimestamp()),
					   INSTR_TIME_GET_MILLISEC(end), false);
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	else
		result = impl(fcinfo);
	INSTR_TIME_SET_CURRENT(stop);
	end = stop;
	INSTR_TIME_SUBTRACT(end, start);
	ms = INSTR_TIME_GET_MILLISEC(end);
	if (ms < 0)
		ms = 0;

	if (mshm != NULL)
		shm_record(MyDatabaseId, rpc, minute_at(stop), ms, true);
	else
		table_record_quiet(fcinfo, rpc, ms);
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

/* Commit frees flushed slots, abort puts them back, PREPARE is refused. */
static void
metrics_xact_callback(XactEvent event, void *arg)
{
	int			i;

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
			for (i = 0; i < npending; i++)
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
			for (i = 0; i < npending; i++)
			{
				int			s = pending_slot[i];

				if (m_slots[s].state == SLOT_FLUSHING && m_slots[s].flush_pid == MyProcPid)
				{
					m_slots[s].state = SLOT_ACTIVE;
					m_slots[s].flush_xid = InvalidTransactionId;
					m_slots[s].flush_pid = 0;
				}
			}
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
	int			i,
				kept = 0;

	if (npending == 0 || mshm == NULL)
		return;
	if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		for (i = 0; i < npending; i++)
			if (pending_subid[i] == mySubid)
				pending_subid[i] = parentSubid;
	}
	else if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		LWLockAcquire(mshm->lock, LW_EXCLUSIVE);
		for (i = 0; i < npending; i++)
		{
			int			s = pending_slot[i];

			if (pending_subid[i] == mySubid)
			{
				if (m_slots[s].state == SLOT_FLUSHING && m_slots[s].flush_pid == MyProcPid)
				{
					m_slots[s].state = SLOT_ACTIVE;
					m_slots[s].flush_xid = InvalidTransactionId;
					m_slots[s].flush_pid = 0;
				}
				continue;
			}
			pending_slot[kept] = s;
			pending_subid[kept] = pending_subid[i];
			kept++;
		}
		LWLockRelease(mshm->lock);
		npending = kept;
	}
}

/* Per-process setup for flushing: callbacks and the pending list. */
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

/* A flushed row, copied out of shared memory. */
typedef struct FlushRow
{
	char		rpc[FF_RPC_NAME_MAX + 1];
	int64		minute;
	uint64		calls;
	uint64		errors;
	double		total_ms;
	double		max_ms;
	bytea	   *sketch;
} FlushRow;

/* Move this database's closed (or all) minutes into schema.rpc_metrics. */
static int64
metrics_flush(const char *schema, Oid owner, bool include_open)
{
	TransactionId xid;
	SubTransactionId subid = GetCurrentSubTransactionId();
	int64		now_minute = minute_of(GetCurrentTimestamp());
	int			first = npending;
	int			i,
				n;
	FlushRow   *rows;
	uint32	   *counts;

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
	flush_setup();
	xid = GetTopTransactionId();

	LWLockAcquire(mshm->lock, LW_EXCLUSIVE);
	for (i = 0; i < mshm->nslots; i++)
	{
		MetricsSlot *slot = &m_slots[i];

		if (slot->state != SLOT_ACTIVE || slot->dboid != MyDatabaseId ||
			(!include_open && slot->minute >= now_minute))
			continue;
		slot->state = SLOT_FLUSHING;
		slot->flush_xid = xid;
		slot->flush_pid = MyProcPid;
		if (m_names[slot->name_idx].cur_slot == i)
			m_names[slot->name_idx].cur_slot = -1;
		pending_slot[npending] = i;
		pending_subid[npending] = subid;
		npending++;
	}
	slots_reclaim();
	names_evict_idle(now_minute);
	LWLockRelease(mshm->lock);

	/* FLUSHING slots are never written by recorders, so they are read unlocked. */
	n = npending - first;
	if (n == 0)
		return 0;
	rows = palloc(sizeof(FlushRow) * n);
	counts = palloc(sizeof(uint32) * FF_SKETCH_NBUCKETS);
	for (i = 0; i < n; i++)
	{
		MetricsSlot *slot = &m_slots[pending_slot[first + i]];

		SpinLockAcquire(&slot->mutex);	/* pairs with a recorder's last release */
		rows[i].minute = slot->minute;
		rows[i].calls = slot->calls;
		rows[i].errors = slot->errors;
		rows[i].total_ms = slot->total_ms;
		rows[i].max_ms = slot->max_ms;
		memcpy(counts, slot->counts, sizeof(uint32) * FF_SKETCH_NBUCKETS);
		SpinLockRelease(&slot->mutex);
		strlcpy(rows[i].rpc, m_names[slot->name_idx].name, sizeof(rows[i].rpc));
		rows[i].sketch = ff_sketch_encode32(counts);
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("feed_fusion: SPI_connect failed")));
	for (i = 0; i < n; i++)
		insert_row(schema, owner, rows[i].rpc, rows[i].minute, rows[i].calls, rows[i].errors,
				   rows[i].total_ms, rows[i].max_ms, rows[i].sketch);
	SPI_finish();
	return n;
}

/* Flush entry for the background worker: schema looked up, runs as the worker's user. */
int64
ff_metrics_flush_current_db(bool include_open)
{
	const char *schema;

	if (mshm == NULL)
		return 0;
	if (ff_extension_if_installed() == NULL)
		return -1;
	schema = ff_extension()->schema;
	return metrics_flush(schema, InvalidOid, include_open);
}

/* rpc_metrics_flush(): service_role moves closed minutes into rpc_metrics now. */
Datum
ff_rpc_metrics_flush(PG_FUNCTION_ARGS)
{
	require_service_role("rpc_metrics_flush");
	if (mshm == NULL)
		PG_RETURN_INT64(0);		/* table mode: every call is already a row */
	PG_RETURN_INT64(metrics_flush(ff_extension()->schema, function_owner(fcinfo->flinfo->fn_oid), false));
}

/* _ff_metrics_flush_all(): also the open minute (what a clean shutdown does). */
Datum
ff_metrics_flush_all(PG_FUNCTION_ARGS)
{
	require_service_role("_ff_metrics_flush_all");
	if (mshm == NULL)
		PG_RETURN_INT64(0);
	PG_RETURN_INT64(metrics_flush(ff_extension()->schema, function_owner(fcinfo->flinfo->fn_oid), true));
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

/*
 * _ff_metrics_pending(): this database's not-yet-flushed aggregates, one row per
 * (rpc, minute) slot, in rpc_metrics' shape.  Empty in table mode.
 */
Datum
ff_metrics_pending(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Snapshot	snap;
	uint32	   *counts;
	int			i;

	require_service_role("_ff_metrics_pending");
	InitMaterializedSRF(fcinfo, 0);
	if (mshm == NULL)
		return (Datum) 0;
	snap = ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
	counts = palloc(sizeof(uint32) * FF_SKETCH_NBUCKETS);

	LWLockAcquire(mshm->lock, LW_SHARED);
	for (i = 0; i < mshm->nslots; i++)
	{
		MetricsSlot *slot = &m_slots[i];
		Datum		values[7];
		bool		nulls[7] = {false};
		uint64		calls,
					errors;
		double		total_ms,
					max_ms;
		int64		minute;

		if (slot->dboid != MyDatabaseId || slot->state == SLOT_FREE)
			continue;
		if ((slot->state == SLOT_FLUSHING || slot->state == SLOT_FLUSHED) &&
			flushed_rows_visible(slot->state, slot->flush_xid, snap))
			continue;
		SpinLockAcquire(&slot->mutex);
		calls = slot->calls;
		errors = slot->errors;
		total_ms = slot->total_ms;
		max_ms = slot->max_ms;
		minute = slot->minute;
		memcpy(counts, slot->counts, sizeof(uint32) * FF_SKETCH_NBUCKETS);
		SpinLockRelease(&slot->mutex);
		if (calls == 0)
			continue;
		values[0] = CStringGetTextDatum(m_names[slot->name_idx].name);
		values[1] = TimestampTzGetDatum(minute * USECS_PER_MINUTE);
		values[2] = Int64GetDatum((int64) calls);
		values[3] = Int64GetDatum((int64) errors);
		values[4] = Float8GetDatum(total_ms);
		values[5] = Float8GetDatum(max_ms);
		values[6] = PointerGetDatum(ff_sketch_encode32(counts));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	LWLockRelease(mshm->lock);
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
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"mode\": \"%s\", \"track_rpcs\": %s, \"sketch_relative_accuracy\": %g, "
					 "\"sketch_buckets\": %d",
					 mshm ? "shared_memory" : "table", ff_track_rpcs ? "true" : "false",
					 FF_SKETCH_ALPHA, FF_SKETCH_NBUCKETS);
	if (mshm != NULL)
	{
		int			names_regular,
					names_total,
					slots_used,
					pending = 0,
					i;
		uint64		last_flush = pg_atomic_read_u64(&mshm->last_flush);
		const char *dbs = GetConfigOption("feed_fusion.database", true, false);

		LWLockAcquire(mshm->lock, LW_SHARED);
		names_regular = mshm->names_regular;
		names_total = mshm->names_total;
		slots_used = mshm->slots_used;
		for (i = 0; i < mshm->nslots; i++)
			if ((m_slots[i].state == SLOT_ACTIVE || m_slots[i].state == SLOT_FLUSHING) &&
				m_slots[i].dboid == MyDatabaseId)
				pending++;
		LWLockRelease(mshm->lock);
		appendStringInfo(&buf, ", \"flush_interval_s\": " INT64_FORMAT ", \"maintenance_interval_s\": " INT64_FORMAT
						 ", \"worker_databases\": ",
						 worker_setting_int("feed_fusion.metrics_flush_interval"),
						 worker_setting_int("feed_fusion.maintenance_interval"));
		escape_json(&buf, dbs ? dbs : "");
		appendStringInfo(&buf, ", \"max_rpcs\": %d, \"rpc_names\": %d, \"overflow_names\": %d, "
						 "\"slots\": %d, \"slots_in_use\": %d, \"pending_slots_this_db\": %d, "
						 "\"recorded_calls\": " UINT64_FORMAT ", \"overflow_calls\": " UINT64_FORMAT
						 ", \"dropped_calls\": " UINT64_FORMAT ", \"flushed_rows\": " UINT64_FORMAT
						 ", \"evicted_names\": " UINT64_FORMAT ", \"shared_memory_bytes\": %zu, \"last_flush\": ",
						 mshm->max_names, names_regular, names_total - names_regular,
						 mshm->nslots, slots_used, pending,
						 pg_atomic_read_u64(&mshm->recorded),
						 pg_atomic_read_u64(&mshm->overflow_calls),
						 pg_atomic_read_u64(&mshm->dropped_calls),
						 pg_atomic_read_u64(&mshm->flushed_rows),
						 pg_atomic_read_u64(&mshm->evicted_names),
						 metrics_shmem_size());
		if (last_flush == 0)
			appendStringInfoString(&buf, "null");
		else
			escape_json(&buf, timestamptz_to_str((TimestampTz) last_flush));
	}
	else
		appendStringInfoString(&buf, ", \"errors_recorded\": false");
	appendStringInfoChar(&buf, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
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

/* GUCs always; shared memory only when preloaded (the worker is bgworker.c's). */
void
ff_metrics_init(void)
{
	DefineCustomBoolVariable("feed_fusion.track_rpcs",
							 "Record latency and errors of feed_fusion's own RPCs.",
							 NULL, &ff_track_rpcs, true, PGC_USERSET, 0, NULL, NULL, NULL);
	/* PGC_POSTMASTER variables can only be defined while preloading */
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomIntVariable("feed_fusion.metrics_max_rpcs",
							"Distinct RPC names kept in shared memory; more go to '_overflow'.",
							NULL, &ff_metrics_max_rpcs, 256, 1, 100000, PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("feed_fusion.metrics_slots",
							"Per-(rpc, minute) aggregates kept in shared memory (about 4 kB each).",
							NULL, &ff_metrics_slots, 1024, 16, 1000000, PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

#if PG_VERSION_NUM >= 150000
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = metrics_shmem_request;
#else
	RequestAddinShmemSpace(metrics_shmem_size());
	RequestNamedLWLockTranche("feed_fusion_metrics", 1);
#endif
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = metrics_shmem_startup;
}
