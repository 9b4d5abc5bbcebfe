/*
 * metrics_shm_int.h — what the two halves of the shared-memory RPC metrics recorder
 * share: metrics_shm.c (slots, recording, flush protocol, transaction callbacks,
 * shared-memory hooks) and metrics_names.c (the name table).  Internal: only those
 * two files include it; the SQL layer uses metrics_shm.h.
 *
 * The shared pointers and the memo are process globals with hidden visibility, so
 * the hot path reaches them as directly as it did when they were file statics, and
 * they are not exported from feed_fusion.so.  The lookups the recorder makes on
 * every call (name_hash, name_key, name_lookup) are static inline here for the same
 * reason.  Locking is described in metrics_shm.c's opening note; each function says
 * which mode of mshm->lock it needs.
 */
#ifndef FF_METRICS_SHM_INT_H
#define FF_METRICS_SHM_INT_H

#include "postgres.h"

#include "common/hashfn.h"
#include "port/atomics.h"
#include "storage/lwlock.h"
#include "storage/spin.h"
#include "utils/hsearch.h"

#include "metrics.h"
#include "metrics_shm.h"
#include "sketch.h"

/* Process globals shared by metrics_shm.c and metrics_names.c, not exported. */
#if defined(__GNUC__) || defined(__clang__)
#define FF_MX_INTERNAL __attribute__((visibility("hidden")))
#else
#define FF_MX_INTERNAL
#endif

#define OVERFLOW_RPC		"_overflow" /* absorbs service names beyond the cap */
#define OVERFLOW_APP_RPC	"_overflow_app"	/* absorbs app names beyond theirs */
#define TRACKED_RESERVE		16		/* per database: the extension's own names */
#define DB_FIXED_ENTRIES	(1 + TRACKED_RESERVE + 2)	/* database entry, tracked
														 * names, two overflow names */
#define NAME_IDLE_MINUTES	60		/* unused names are evicted after this */
#define MEMO_SIZE			1024	/* per-backend memo entries (power of two; 16 kB) */

/* Slot states */
#define SLOT_FREE		0
#define SLOT_ACTIVE		1
#define SLOT_FLUSHING	2			/* rows written by a transaction not yet ended */
#define SLOT_FLUSHED	3			/* that transaction committed; kept until no
									 * snapshot can still see it as running */

/* Name-table key: compared with memcmp, so the name is zero-padded. */
typedef struct MetricsNameKey
{
	Oid			dbid;
	char		name[FF_RPC_NAME_MAX + 1];
} MetricsNameKey;

/* Kinds of name-table entries */
#define NK_DB			0		/* a database's entry: key name "", counts its names */
#define NK_SERVICE		1		/* a name of service_role (or a superuser) */
#define NK_APP			2		/* a name of an app role (authenticated) */
#define NK_TRACKED		3		/* one of the extension's own tracked names */
#define NK_OVERFLOW		4		/* '_overflow' or '_overflow_app' */
#define NK_COUNT		5

/* Name-table entry (dynahash; entries never move while they exist). */
typedef struct MetricsName
{
	MetricsNameKey key;			/* hash key: must be first */
	int			nslots;			/* non-FREE slots referring here */
	int			cur_slot;		/* latest ACTIVE slot, or -1 */
	int64		last_minute;	/* last minute a call was recorded */
	int			kind;			/* NK_* */
	struct MetricsName *db;		/* its database's entry (NULL for NK_DB) */
	int			nnames[NK_COUNT];	/* NK_DB: names of each kind in the database */
} MetricsName;

/* One (database, name, minute) aggregate. */
typedef struct MetricsSlot
{
	slock_t		mutex;			/* guards the counters below the header */
	int			state;
	MetricsName *name;			/* its name entry (kept while nslots > 0) */
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

/* Header of the segment; the slots and their free-list links follow it. */
typedef struct MetricsShared
{
	LWLock	   *lock;
	int			max_names;		/* service names allowed per database */
	int			max_app_names;	/* app names allowed per database */
	int			max_dbs;		/* databases with names at once */
	int			names_cap;		/* entries in the name table */
	int			nslots;
	int			names_regular;	/* service, app and tracked names in use */
	int			names_overflow; /* overflow names in use */
	int			ndbs;			/* database entries in use */
	int			names_total;	/* all entries in use */
	uint64		names_gen;		/* bumped when names are evicted (memo validity) */
	int			free_head;		/* first free slot, -1 when full */
	int			slots_used;
	pg_atomic_uint64 recorded;
	pg_atomic_uint64 overflow_calls;
	pg_atomic_uint64 dropped_calls;
	pg_atomic_uint64 flushed_rows;
	pg_atomic_uint64 evicted_names;
	pg_atomic_uint64 skipped_rows;	/* rows a flush could not write (dropped) */
	pg_atomic_uint64 last_flush;	/* TimestampTz of the last committed flush */
} MetricsShared;

/* This backend's memo of name entries, valid while mshm->names_gen == memo_gen. */
typedef struct NameMemo
{
	uint32		hash;
	MetricsName *entry;			/* NULL: empty */
} NameMemo;

/* The segment's header, the name table, the slots and their free-list links (metrics_shm.c). */
extern FF_MX_INTERNAL MetricsShared *mshm;
extern FF_MX_INTERNAL HTAB *m_names;
extern FF_MX_INTERNAL MetricsSlot *m_slots;
extern FF_MX_INTERNAL int *m_next;

/* This backend's memo of name entries (metrics_names.c). */
extern FF_MX_INTERNAL NameMemo memo[MEMO_SIZE];
extern FF_MX_INTERNAL uint64 memo_gen;

/* metrics_names.c: the name table's hash function, creation and eviction. */
extern FF_MX_INTERNAL uint32 name_key_hash(const void *key, Size keysize);
extern FF_MX_INTERNAL MetricsName *name_find_or_create(const MetricsNameKey *key, uint32 h,
													   int64 minute, MetricsNameClass cls);
extern FF_MX_INTERNAL void names_evict_idle(int64 now_minute);

/* Hash of (database, name): the name table is shared by all databases. */
static inline uint32
name_hash(Oid db, const char *name, int len)
{
	return hash_combine(hash_bytes((const unsigned char *) name, len), (uint32) db);
}

/* Fill a zero-padded key, since the table compares whole keys. */
static inline void
name_key(MetricsNameKey *key, Oid db, const char *name, int len)
{
	Assert(len <= FF_RPC_NAME_MAX);
	memset(key, 0, sizeof(MetricsNameKey));	/* fixed size: inlined stores */
	key->dbid = db;
	memcpy(key->name, name, len);
}

/*
 * Entry of (db, name) or NULL, through this backend's memo (the hot path's lookup).
 * Lock held in any mode.
 */
static inline MetricsName *
name_lookup(Oid db, const char *name, int len, uint32 h)
{
	NameMemo   *m = &memo[h & (MEMO_SIZE - 1)];
	MetricsNameKey key;

	if (memo_gen != mshm->names_gen)
	{
		memset(memo, 0, sizeof(memo));
		memo_gen = mshm->names_gen;
	}
	/* the stored name is zero-padded: len + 1 bytes compare the terminator too */
	if (m->entry != NULL && m->hash == h && m->entry->key.dbid == db &&
		memcmp(m->entry->key.name, name, len + 1) == 0)
		return m->entry;
	name_key(&key, db, name, len);
	m->entry = hash_search_with_hash_value(m_names, &key, h, HASH_FIND, NULL);
	m->hash = h;
	return m->entry;
}

#endif							/* FF_METRICS_SHM_INT_H */
