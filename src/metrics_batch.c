/*
 * metrics_batch.c — table mode (feed_fusion not preloaded): each backend gathers
 * its tracked calls in memory and writes them to rpc_metrics in batches.
 *
 * What: a per-backend table (dynahash in TopMemoryContext) of (rpc, minute)
 *       aggregates — calls, errors, total and max ms, dense sketch counts — the
 *       same rows the shared-memory recorder produces.  ff_tracked_call adds every
 *       call, successes and failures alike (adding never writes).  The batch is
 *       written, as one aggregate row per entry, through metrics.c's owner-rights
 *       writer:
 *         (a) by a tracked call in a transaction that already has an xid (it
 *             commits with a WAL flush anyway), at most once a second;
 *         (b) by any tracked call once its oldest entry is
 *             feed_fusion.track_flush_interval seconds old (the only writes a
 *             read-only workload causes: one per backend per interval);
 *         (c) by rpc_metrics_flush() / _ff_metrics_flush_all();
 *         (d) at a clean backend exit, outside a transaction, in its own one.
 *       (a) and (b) only at transaction nest level 1 and where writes are
 *       possible (not read-only, not in recovery, not in parallel mode); they run
 *       in a subtransaction and swallow errors, so tracking never fails an RPC.
 * Why:  SPEC §7: tracking never turns a read RPC into a writing transaction (no
 *       xid, no WAL flush per call).  Loss bound: a backend that crashes or is
 *       terminated loses its unwritten batch (at most the interval's calls of a
 *       busy backend; an idle backend keeps its batch until its next tracked
 *       call, flush or exit; one running only read-only transactions until its
 *       next writable one or its exit).  Beyond FF_BATCH_MAX_ENTRIES entries,
 *       calls are dropped and counted (ff_status()).
 * Exactness: written entries leave the batch but are kept "in flight", tagged
 *       with the subtransaction that wrote them, until the top transaction ends:
 *       commit forgets them, abort (of the top or of that subtransaction) adds
 *       them back to the batch, so a rollback loses nothing and nothing counts
 *       twice.  rpc_metrics_hourly merges the batch (_ff_metrics_pending()), so a
 *       session sees its own calls at once; other sessions see them once written.
 * Locking: none; all state is this backend's.  The inserts are metrics.c's.
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "context.h"
#include "metrics_batch.h"
#include "sketch.h"
#include "status.h"

#define XID_WRITE_GAP_US	1000000 /* (a): at most one write a second */

/* Hash key: zero-padded, since dynahash compares whole keys. */
typedef struct BatchKey
{
	char		rpc[FF_RPC_NAME_MAX + 1];
	int64		minute;
} BatchKey;

/* One (rpc, minute) aggregate of this backend. */
typedef struct BatchEntry
{
	BatchKey	key;			/* hash key: must be first */
	uint64		calls;
	uint64		errors;
	double		total_ms;
	double		max_ms;
	uint32		counts[FF_SKETCH_NBUCKETS];
} BatchEntry;

/* Rows written by a transaction still running, with the subtransaction that wrote them. */
typedef struct InFlight
{
	struct InFlight *next;
	SubTransactionId subid;
	int			nrows;
	MetricsRow *rows;			/* sketches copied into TopMemoryContext */
} InFlight;

static int	track_flush_interval = 5;	/* seconds, (b) */

static HTAB *batch = NULL;
static BatchEntry *last_entry = NULL;	/* memo of the hot path's lookup */
static InFlight *in_flight = NULL;
static bool callbacks_registered = false;
static instr_time oldest;		/* when the batch last became non-empty */
static instr_time last_write;	/* of (a)/(b)/(c); zero: never */
static bool written_once = false;
static bool writing = false;	/* a write is running (no nested write) */

/* Counters for ff_status(). */
static uint64 st_writes = 0;
static uint64 st_rows_written = 0;
static uint64 st_dropped = 0;
static uint64 st_write_failures = 0;
static uint64 st_restored = 0;
static TimestampTz st_last_write = 0;

static void batch_xact_cb(XactEvent event, void *arg);
static void batch_subxact_cb(SubXactEvent event, SubTransactionId mySubid,
							 SubTransactionId parentSubid, void *arg);
static void batch_exit_cb(int code, Datum arg);

/* Create the batch and hook transaction end and backend exit, once per backend. */
static void
batch_init(void)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(BatchKey);
	ctl.entrysize = sizeof(BatchEntry);
	ctl.hcxt = TopMemoryContext;
	batch = hash_create("feed_fusion metrics batch", 16, &ctl,
						HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	if (!callbacks_registered)
	{
		RegisterXactCallback(batch_xact_cb, NULL);
		RegisterSubXactCallback(batch_subxact_cb, NULL);
		before_shmem_exit(batch_exit_cb, (Datum) 0);
		callbacks_registered = true;
	}
}

/* Entry of (rpc, minute), created empty if there is room; NULL when the batch is full. */
static BatchEntry *
batch_entry(const char *rpc, int64 minute)
{
	BatchKey	key;
	BatchEntry *e;
	bool		found;

	if (last_entry != NULL && last_entry->key.minute == minute && strcmp(last_entry->key.rpc, rpc) == 0)
		return last_entry;
	if (batch == NULL)
		batch_init();
	memset(&key, 0, sizeof(key));
	strlcpy(key.rpc, rpc, sizeof(key.rpc));
	key.minute = minute;
	e = hash_search(batch, &key, HASH_FIND, NULL);
	if (e == NULL)
	{
		if (hash_get_num_entries(batch) >= FF_BATCH_MAX_ENTRIES)
			return NULL;
		e = hash_search(batch, &key, HASH_ENTER, &found);
		memset((char *) e + sizeof(BatchKey), 0, sizeof(BatchEntry) - sizeof(BatchKey));
	}
	last_entry = e;
	return e;
}

/* Add an aggregate (calls, errors, sums, sketch counts) to entry e; sums saturate. */
static void
entry_add(BatchEntry *e, uint64 calls, uint64 errors, double total_ms, double max_ms)
{
	e->calls = ff_sketch_add_count(e->calls, calls);
	e->errors = ff_sketch_add_count(e->errors, errors);
	e->total_ms = Min(e->total_ms + total_ms, 1e308);
	if (max_ms > e->max_ms)
		e->max_ms = max_ms;
}

/* The hot path: one call into its (rpc, minute) aggregate, no write, no raise. */
void
metrics_batch_record(const char *rpc, int64 minute, double ms, bool ok, instr_time now)
{
	BatchEntry *e;
	int			idx;

	if (batch == NULL || hash_get_num_entries(batch) == 0)
		oldest = now;
	e = batch_entry(rpc, minute);
	if (e == NULL)
	{
		st_dropped++;
		return;
	}
	entry_add(e, 1, ok ? 0 : 1, ms, ms);
	idx = ff_sketch_index(ms);
	if (e->counts[idx] < PG_UINT32_MAX)
		e->counts[idx]++;
}

/* The batch as rows (sketches encoded) in the current memory context; *n rows. */
static MetricsRow *
batch_rows(int *n)
{
	HASH_SEQ_STATUS seq;
	BatchEntry *e;
	MetricsRow *rows;
	int			i = 0;

	*n = batch ? (int) hash_get_num_entries(batch) : 0;
	if (*n == 0)
		return NULL;
	rows = palloc(sizeof(MetricsRow) * *n);
	hash_seq_init(&seq, batch);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		MetricsRow *r = &rows[i++];

		strlcpy(r->rpc, e->key.rpc, sizeof(r->rpc));
		r->minute = e->key.minute;
		r->calls = e->calls;
		r->errors = e->errors;
		r->total_ms = e->total_ms;
		r->max_ms = e->max_ms;
		r->sketch = ff_sketch_encode32(e->counts);
	}
	return rows;
}

/* Empty the batch (its entries were written). */
static void
batch_clear(void)
{
	HASH_SEQ_STATUS seq;
	BatchEntry *e;

	last_entry = NULL;
	hash_seq_init(&seq, batch);
	while ((e = hash_seq_search(&seq)) != NULL)
		(void) hash_search(batch, &e->key, HASH_REMOVE, NULL);
}

/* Keep written rows until the transaction ends, tagged with the writing subtransaction. */
static void
in_flight_add(const MetricsRow *rows, int n)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	InFlight   *f = palloc(sizeof(InFlight));

	f->subid = GetCurrentSubTransactionId();
	f->nrows = n;
	f->rows = palloc(sizeof(MetricsRow) * n);
	for (int i = 0; i < n; i++)
	{
		f->rows[i] = rows[i];
		f->rows[i].sketch = (bytea *) pg_detoast_datum_copy((struct varlena *) rows[i].sketch);
	}
	f->next = in_flight;
	in_flight = f;
	MemoryContextSwitchTo(old);
}

/* Add a written row back to the batch (its transaction rolled back). */
static void
batch_restore_row(const MetricsRow *r)
{
	int			idx[FF_SKETCH_NBUCKETS];
	uint64		cnt[FF_SKETCH_NBUCKETS];
	int			npairs;
	BatchEntry *e = batch_entry(r->rpc, r->minute);

	if (e == NULL)
	{
		st_dropped = ff_sketch_add_count(st_dropped, r->calls);
		return;
	}
	entry_add(e, r->calls, r->errors, r->total_ms, r->max_ms);
	ff_sketch_decode(r->sketch, idx, cnt, &npairs);	/* our own encoding: valid */
	for (int k = 0; k < npairs; k++)
		e->counts[idx[k]] = (uint32) Min((uint64) e->counts[idx[k]] + cnt[k], (uint64) PG_UINT32_MAX);
	st_restored = ff_sketch_add_count(st_restored, r->calls);
}

/* Free one in-flight group. */
static void
in_flight_free(InFlight *f)
{
	for (int i = 0; i < f->nrows; i++)
		pfree(f->rows[i].sketch);
	pfree(f->rows);
	pfree(f);
}

/*
 * Forget (restore = false) or give back to the batch (restore = true) the
 * in-flight groups of subtransaction subid, or all of them when subid is invalid.
 */
static void
in_flight_end(SubTransactionId subid, bool restore)
{
	InFlight  **link = &in_flight;

	while (*link != NULL)
	{
		InFlight   *f = *link;

		if (subid != InvalidSubTransactionId && f->subid != subid)
		{
			link = &f->next;
			continue;
		}
		*link = f->next;
		if (restore)
		{
			if (batch == NULL || hash_get_num_entries(batch) == 0)
				INSTR_TIME_SET_CURRENT(oldest);
			for (int i = 0; i < f->nrows; i++)
				batch_restore_row(&f->rows[i]);
		}
		in_flight_free(f);
	}
}

/* Top transaction end: commit (or prepare) keeps the written rows, abort restores them. */
static void
batch_xact_cb(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			in_flight_end(InvalidSubTransactionId, false);
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			in_flight_end(InvalidSubTransactionId, true);
			break;
		default:
			break;
	}
}

/* Subtransaction end: its rows pass to the parent on commit, back to the batch on abort. */
static void
batch_subxact_cb(SubXactEvent event, SubTransactionId mySubid,
				 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		in_flight_end(mySubid, true);
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		for (InFlight *f = in_flight; f != NULL; f = f->next)
			if (f->subid == mySubid)
				f->subid = parentSubid;
	}
}

/* Insert the whole batch now (errors propagate); rows written. */
static int64
batch_write(void)
{
	MetricsRow *rows;
	int			n;
	volatile int skipped = 0;

	if (writing)
		return 0;
	rows = batch_rows(&n);
	if (n == 0)
		return 0;
	writing = true;
	PG_TRY();
	{
		skipped = ff_metrics_insert_rows(rows, n, true);
	}
	PG_FINALLY();
	{
		writing = false;
	}
	PG_END_TRY();
	in_flight_add(rows, n);
	batch_clear();
	st_writes++;
	st_rows_written += n - skipped;
	st_last_write = GetCurrentTimestamp();
	INSTR_TIME_SET_CURRENT(last_write);
	written_once = true;
	return n - skipped;
}

/* batch_write for run_in_subxact. */
static void
batch_write_cb(void *arg)
{
	(void) batch_write();
}

/* Microseconds from `from` to `to` (monotonic). */
static int64
us_between(instr_time from, instr_time to)
{
	INSTR_TIME_SUBTRACT(to, from);
	return (int64) INSTR_TIME_GET_MICROSEC(to);
}

/* Can this transaction take a write now (at nest level 1, writable)? */
static bool
can_write_here(void)
{
	return IsTransactionState() && GetCurrentTransactionNestLevel() == 1 &&
		!XactReadOnly && !IsInParallelMode() && !RecoveryInProgress();
}

/* After a tracked success: write by rule (a) or (b) when due and possible, errors swallowed. */
void
metrics_batch_maybe_write(instr_time now)
{
	bool		due;
	ErrorData  *edata;

	if (batch == NULL || hash_get_num_entries(batch) == 0)
		return;
	/* (b) the oldest entry is due; (a) this transaction writes anyway */
	due = us_between(oldest, now) >= (int64) track_flush_interval * USECS_PER_SEC;
	if (!due && TransactionIdIsValid(GetTopTransactionIdIfAny()))
		due = !written_once || us_between(last_write, now) >= XID_WRITE_GAP_US;
	if (!due || !can_write_here())
		return;
	edata = ff_metrics_run_in_subxact(batch_write_cb, NULL);
	if (edata != NULL)
	{
		/* kept for the next attempt, which waits a full interval */
		st_write_failures++;
		INSTR_TIME_SET_CURRENT(oldest);
		FreeErrorData(edata);
	}
}

/* Rule (c): the caller (metrics_flush) has checked that this transaction can write. */
int64
metrics_batch_flush(void)
{
	return batch_write();
}

/* Clean exit outside a transaction: write what is left in a transaction of its own. */
static void
batch_exit_cb(int code, Datum arg)
{
	/* an ERROR here is FATAL (proc_exit): only try where nothing should fail */
	if (code != 0 || batch == NULL || hash_get_num_entries(batch) == 0 ||
		IsTransactionOrTransactionBlock() || MyBackendType != B_BACKEND ||
		IsParallelWorker() || !OidIsValid(MyDatabaseId) || RecoveryInProgress())
		return;
	StartTransactionCommand();
	if (!XactReadOnly && ff_extension_if_installed() != NULL)
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		(void) batch_write();
		PopActiveSnapshot();
	}
	CommitTransactionCommand();
}

/* This backend's unwritten calls, so its own rpc_metrics_hourly shows them at once. */
void
metrics_batch_pending(MetricsRowFn fn, void *arg)
{
	MetricsRow *rows;
	int			n;

	rows = batch_rows(&n);
	for (int i = 0; i < n; i++)
		fn(&rows[i], arg);
}

/* ff_status() 'metrics' detail in table mode: this backend's batch and its writes. */
void
metrics_batch_status(FfStatus *st)
{
	uint64		calls = 0;
	int64		entries = batch ? hash_get_num_entries(batch) : 0;
	int64		inflight = 0;

	if (batch != NULL)
	{
		HASH_SEQ_STATUS seq;
		BatchEntry *e;

		hash_seq_init(&seq, batch);
		while ((e = hash_seq_search(&seq)) != NULL)
			calls = ff_sketch_add_count(calls, e->calls);
	}
	for (InFlight *f = in_flight; f != NULL; f = f->next)
		inflight += f->nrows;
	ff_status_int(st, "track_flush_interval_s", track_flush_interval);
	ff_status_int(st, "batch_max_entries", FF_BATCH_MAX_ENTRIES);
	ff_status_int(st, "pending_entries_this_backend", entries);
	ff_status_int(st, "pending_calls_this_backend", (int64) calls);
	ff_status_int(st, "in_flight_rows_this_backend", inflight);
	ff_status_int(st, "batch_writes", (int64) st_writes);
	ff_status_int(st, "rows_written", (int64) st_rows_written);
	ff_status_int(st, "restored_calls", (int64) st_restored);
	ff_status_int(st, "dropped_calls", (int64) st_dropped);
	ff_status_int(st, "write_failures", (int64) st_write_failures);
	ff_status_time(st, "last_write", st_last_write);
}

/* _PG_init: the interval of rule (b), superuser-settable (it sets how often reads write). */
void
metrics_batch_register(void)
{
	DefineCustomIntVariable("feed_fusion.track_flush_interval",
							"Table mode: longest time (s) a backend keeps tracked calls before writing them.",
							"Calls are also written by transactions that already write, by rpc_metrics_flush() and at a clean exit.",
							&track_flush_interval, 5, 1, 3600, PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
}
