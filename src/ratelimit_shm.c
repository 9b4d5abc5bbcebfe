/*
 * ratelimit_shm.c — the rate limiter's shared-memory store.
 *
 * What: a fixed-size table of key hash → GCRA theoretical arrival time (TAT),
 *       sized by feed_fusion.rate_limit_max_keys (PGC_POSTMASTER), saved to
 *       pg_stat/feed_fusion_rate_limiter.stat on clean shutdown and read back at
 *       start (as pg_stat_statements does), so a restart hands nobody a fresh burst.
 * Why:  a check costs one hash, one uncontended LWLock and a few integer ops;
 *       no WAL, no table, works in READ ONLY transactions and on standbys.
 * Layout: the table is split into P partitions (P = a power of two ≤ 128, with at
 *       least 1024 keys each, so a tiny table is one partition and exactly global).
 *       A key's 64-bit hash picks its partition (high bits) and a chain head (low
 *       bits).  Each partition holds `cap` entries densely in entries[0..count) —
 *       {hash, tat, next} = 24 bytes — plus a power-of-two array of int32 chain
 *       heads (4–8 bytes per key): 28–32 bytes per key in total.
 *       Keys are hashed with hash_bytes_extended and a per-cluster random seed
 *       (saved with the state) mixed with the database OID, so databases never share
 *       buckets and callers cannot aim collisions at another key.  Two distinct keys
 *       share a bucket only on a 64-bit hash collision (~N²/2^65).
 * Eviction: a full bucket (TAT <= now) carries no state; when a partition has no
 *       free entry, all such entries are swept first; if every entry is live, the key
 *       whose bucket will be full soonest (smallest TAT: the least state to lose) is
 *       evicted and counted in `evictions` (shown in ff_status()).  The smallest TATs
 *       are found by one scan that keeps RL_NCAND candidates for the next evictions
 *       (see rl_make_room), so a flood of new keys costs O(1) amortised per key.
 * Locking: one LWLock per partition (named tranche "feed_fusion_rate_limiter"),
 *       held exclusively for a take/reset (tens of ns; a sweep/eviction scans only
 *       its own partition).  Sessions on keys of different partitions never wait on
 *       each other.  Eviction counters are atomics; the save at shutdown runs in the
 *       postmaster after every backend has exited, the load before any has started.
 */
#include "postgres.h"

#include <time.h>
#include <unistd.h>

#include "common/hashfn.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "feed_fusion.h"
#include "ratelimit.h"
#include "status.h"

#define RL_TRANCHE			"feed_fusion_rate_limiter"
#define RL_MAX_PARTITIONS	128
#define RL_MIN_PER_PARTITION 1024
#define RL_DUMP_FILE		PGSTAT_STAT_PERMANENT_DIRECTORY "/feed_fusion_rate_limiter.stat"
#define RL_FILE_MAGIC		0x46465231	/* "FFR1" */
#define RL_FILE_VERSION		1

/* One key: its hash, its TAT, and the next entry in its hash chain (-1 ends). */
typedef struct RlEntry
{
	uint64		hash;
	int64		tat;
	int32		next;
} RlEntry;

#define RL_NCAND			32	/* eviction candidates kept per partition */

/* One lock partition; its heads and entries follow in the same shared segment. */
typedef struct RlPartition
{
	int32		count;			/* entries in use: entries[0..count) */
	int32		ncand;			/* eviction candidates (smallest TATs at last scan) */
	int32		cand_pos;		/* next candidate to try */
	Size		heads_off;		/* offsets from the RlShared base */
	Size		entries_off;
	pg_atomic_uint64 evictions;
	uint64		cand_hash[RL_NCAND];
	int64		cand_tat[RL_NCAND];
} RlPartition;

/* The whole store. */
typedef struct RlShared
{
	uint64		seed;			/* key-hash seed, kept across restarts */
	int32		nparts;
	int32		cap;			/* entries per partition */
	uint32		bucket_mask;	/* heads per partition - 1 */
	int32		loaded;			/* keys read back from the dump at start */
	Size		total_size;
	LWLockPadded *locks;
	RlPartition parts[FLEXIBLE_ARRAY_MEMBER];
} RlShared;

static int	rl_max_keys = 100000;
static RlShared *rl = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Geometry for a given max_keys: partitions, entries per partition, heads. */
static void
rl_geometry(int max_keys, int *nparts, int *cap, uint32 *nheads)
{
	int			p = 1;
	uint32		h = 1;

	while (p < RL_MAX_PARTITIONS && max_keys / (p * 2) >= RL_MIN_PER_PARTITION)
		p *= 2;
	*nparts = p;
	*cap = (max_keys + p - 1) / p;
	while (h < (uint32) *cap)
		h <<= 1;
	*nheads = h;
}

/* Bytes of shared memory for the store (header, partitions, heads, entries). */
static Size
rl_shmem_size(void)
{
	int			nparts,
				cap;
	uint32		nheads;
	Size		sz;

	rl_geometry(rl_max_keys, &nparts, &cap, &nheads);
	sz = MAXALIGN(add_size(offsetof(RlShared, parts), mul_size(nparts, sizeof(RlPartition))));
	sz = add_size(sz, mul_size(nparts, MAXALIGN(mul_size(nheads, sizeof(int32)))));
	sz = add_size(sz, mul_size(nparts, MAXALIGN(mul_size(cap, sizeof(RlEntry)))));
	return sz;
}

/* Chain heads of a partition. */
static inline int32 *
rl_heads(RlPartition *part)
{
	return (int32 *) ((char *) rl + part->heads_off);
}

/* Entries of a partition. */
static inline RlEntry *
rl_entries(RlPartition *part)
{
	return (RlEntry *) ((char *) rl + part->entries_off);
}

/* Partition of a hash (high bits; chain heads use the low bits). */
static inline int
rl_part_of(uint64 hash)
{
	return (int) ((hash >> 40) & (uint64) (rl->nparts - 1));
}

/* Index of the entry for `hash` in `part`, or -1. Caller holds the lock. */
static int32
rl_find(RlPartition *part, uint64 hash)
{
	RlEntry    *e = rl_entries(part);
	int32		i = rl_heads(part)[hash & rl->bucket_mask];

	while (i >= 0 && e[i].hash != hash)
		i = e[i].next;
	return i;
}

/* Pointer to the link that points at entry i (chain head or a `next`). */
static int32 *
rl_link_to(RlPartition *part, int32 i)
{
	RlEntry    *e = rl_entries(part);
	int32	   *p = &rl_heads(part)[e[i].hash & rl->bucket_mask];

	while (*p != i)
		p = &e[*p].next;
	return p;
}

/* Remove entry i, moving the last entry into its slot to keep entries dense. */
static void
rl_delete(RlPartition *part, int32 i)
{
	RlEntry    *e = rl_entries(part);
	int32		last = part->count - 1;

	*rl_link_to(part, i) = e[i].next;
	if (i != last)
	{
		int32	   *p = rl_link_to(part, last);

		e[i] = e[last];
		*p = i;
	}
	part->count--;
}

/* Append a new entry (caller made room). */
static void
rl_insert(RlPartition *part, uint64 hash, int64 tat)
{
	RlEntry    *e = rl_entries(part);
	int32	   *head = &rl_heads(part)[hash & rl->bucket_mask];
	int32		i = part->count++;

	e[i].hash = hash;
	e[i].tat = tat;
	e[i].next = *head;
	*head = i;
}

/* Sweep every full bucket (TAT <= now) out of a partition; true if any was dropped. */
static bool
rl_sweep(RlPartition *part, int64 now)
{
	RlEntry    *e = rl_entries(part);
	int32		before = part->count;
	int32		i;

	/* Descending, so the entry moved into a hole was already checked (and live). */
	for (i = part->count - 1; i >= 0; i--)
		if (e[i].tat <= now)
			rl_delete(part, i);
	return part->count < before;
}

/* Refill the partition's victim candidates: its RL_NCAND smallest TATs, ascending. */
static void
rl_collect_candidates(RlPartition *part)
{
	RlEntry    *e = rl_entries(part);
	int32		n = 0,
				i,
				j;

	for (i = 0; i < part->count; i++)
	{
		if (n == RL_NCAND && e[i].tat >= part->cand_tat[n - 1])
			continue;
		j = (n < RL_NCAND) ? n++ : n - 1;
		while (j > 0 && part->cand_tat[j - 1] > e[i].tat)
		{
			part->cand_tat[j] = part->cand_tat[j - 1];
			part->cand_hash[j] = part->cand_hash[j - 1];
			j--;
		}
		part->cand_tat[j] = e[i].tat;
		part->cand_hash[j] = e[i].hash;
	}
	part->ncand = n;
	part->cand_pos = 0;
}

/*
 * Make room for one entry in a full partition.  Victims come from a short list of the
 * partition's smallest TATs, built by one scan and used up over the next RL_NCAND
 * calls (a candidate whose TAT changed since, i.e. was used, is skipped), so a
 * partition full of live keys costs O(partition / RL_NCAND) per new key, not a scan.
 * A candidate whose bucket is full again is simply dropped; otherwise it is evicted
 * and counted.  Before new candidates are collected, every full bucket is swept.
 */
static void
rl_make_room(RlPartition *part, int64 now)
{
	RlEntry    *e = rl_entries(part);

	for (;;)
	{
		while (part->cand_pos < part->ncand)
		{
			int			c = part->cand_pos++;
			int32		i = rl_find(part, part->cand_hash[c]);

			if (i < 0 || e[i].tat != part->cand_tat[c])
				continue;
			if (e[i].tat > now)
				pg_atomic_fetch_add_u64(&part->evictions, 1);
			rl_delete(part, i);
			return;
		}
		if (rl_sweep(part, now))
		{
			part->ncand = part->cand_pos = 0;
			return;
		}
		rl_collect_candidates(part);
	}
}

/* Wall clock in ns since 2000-01-01 UTC. */
int64
rl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64) ts.tv_sec - FF_UNIX_TO_PG_EPOCH_SECS) * INT64CONST(1000000000) + ts.tv_nsec;
}

/* True when the shared store exists (loaded via shared_preload_libraries). */
bool
rl_shm_available(void)
{
	return rl != NULL;
}

/* Seeded 64-bit hash of a key, private to the current database. */
uint64
rl_shm_hash(const char *key, int len)
{
	uint64		seed = rl->seed ^ ((uint64) MyDatabaseId * UINT64CONST(0x9E3779B97F4A7C15));

	return hash_bytes_extended((const unsigned char *) key, len, seed);
}

/* One GCRA call on the key with this hash; exact under concurrency (partition lock). */
void
rl_shm_take(uint64 hash, int64 now, const RlLimits *lim, int32 cost, RlResult *res)
{
	int			p = rl_part_of(hash);
	RlPartition *part = &rl->parts[p];
	LWLock	   *lock = &rl->locks[p].lock;
	int32		i;
	int64		tat,
				new_tat;

	LWLockAcquire(lock, LW_EXCLUSIVE);
	i = rl_find(part, hash);
	tat = i >= 0 ? rl_entries(part)[i].tat : 0;
	new_tat = rl_gcra(tat, now, lim, cost, res);
	if (new_tat != tat)
	{
		if (i >= 0)
			rl_entries(part)[i].tat = new_tat;
		else
		{
			if (part->count >= rl->cap)
				rl_make_room(part, now);
			rl_insert(part, hash, new_tat);
		}
	}
	LWLockRelease(lock);
}

/* Forget a key; true when its bucket was not full (there was something to reset). */
bool
rl_shm_reset(uint64 hash, int64 now)
{
	int			p = rl_part_of(hash);
	RlPartition *part = &rl->parts[p];
	LWLock	   *lock = &rl->locks[p].lock;
	bool		live = false;
	int32		i;

	LWLockAcquire(lock, LW_EXCLUSIVE);
	i = rl_find(part, hash);
	if (i >= 0)
	{
		live = rl_entries(part)[i].tat > now;
		rl_delete(part, i);
	}
	LWLockRelease(lock);
	return live;
}

/* ff_status() detail: geometry, live keys, evictions, bytes per key. */
void
rl_shm_status(FfStatus *st)
{
	int64		now = rl_now_ns();
	int64		live = 0,
				stored = 0;
	uint64		evictions = 0;
	int			p,
				i;

	for (p = 0; p < rl->nparts; p++)
	{
		RlPartition *part = &rl->parts[p];
		RlEntry    *e = rl_entries(part);

		LWLockAcquire(&rl->locks[p].lock, LW_SHARED);
		stored += part->count;
		for (i = 0; i < part->count; i++)
			if (e[i].tat > now)
				live++;
		LWLockRelease(&rl->locks[p].lock);
		evictions += pg_atomic_read_u64(&part->evictions);
	}
	ff_status_int(st, "max_keys", rl_max_keys);
	ff_status_int(st, "capacity", (int64) rl->nparts * rl->cap);
	ff_status_int(st, "partitions", rl->nparts);
	ff_status_int(st, "live_keys", live);
	ff_status_int(st, "stored_keys", stored);
	ff_status_int(st, "evictions", (int64) evictions);
	ff_status_int(st, "loaded_at_start", rl->loaded);
	ff_status_int(st, "shmem_bytes", (int64) rl->total_size);
	ff_status_float(st, "bytes_per_key", (double) rl->total_size / ((double) rl->nparts * rl->cap));
}

/* Write every live key to the dump file (postmaster, clean shutdown only). */
static void
rl_shmem_shutdown(int code, Datum arg)
{
	FILE	   *f;
	int64		now;
	int			p,
				i;
	uint32		hdr[2] = {RL_FILE_MAGIC, RL_FILE_VERSION};
	int64		n = 0;

	if (code != 0 || rl == NULL)
		return;					/* after a crash the state is not trusted */
	now = rl_now_ns();
	for (p = 0; p < rl->nparts; p++)
		for (i = 0; i < rl->parts[p].count; i++)
			if (rl_entries(&rl->parts[p])[i].tat > now)
				n++;
	f = AllocateFile(RL_DUMP_FILE ".tmp", PG_BINARY_W);
	if (f == NULL)
		goto error;
	if (fwrite(hdr, sizeof(hdr), 1, f) != 1 ||
		fwrite(&rl->seed, sizeof(uint64), 1, f) != 1 ||
		fwrite(&n, sizeof(int64), 1, f) != 1)
		goto error;
	for (p = 0; p < rl->nparts; p++)
	{
		RlEntry    *e = rl_entries(&rl->parts[p]);

		for (i = 0; i < rl->parts[p].count; i++)
			if (e[i].tat > now &&
				(fwrite(&e[i].hash, sizeof(uint64), 1, f) != 1 ||
				 fwrite(&e[i].tat, sizeof(int64), 1, f) != 1))
				goto error;
	}
	if (FreeFile(f))
	{
		f = NULL;
		goto error;
	}
	(void) durable_rename(RL_DUMP_FILE ".tmp", RL_DUMP_FILE, LOG);
	return;

error:
	ereport(LOG,
			(errcode_for_file_access(),
			 errmsg("could not write rate limiter state file \"%s\": %m",
					RL_DUMP_FILE ".tmp")));
	if (f)
		FreeFile(f);
	unlink(RL_DUMP_FILE ".tmp");
}

/* Read the dump written at the last clean shutdown (postmaster, before backends). */
static void
rl_load(void)
{
	FILE	   *f = AllocateFile(RL_DUMP_FILE, PG_BINARY_R);
	uint32		hdr[2];
	uint64		seed;
	int64		n,
				k,
				now = rl_now_ns();

	if (f == NULL)
	{
		if (errno != ENOENT)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not read rate limiter state file \"%s\": %m",
							RL_DUMP_FILE)));
		return;
	}
	if (fread(hdr, sizeof(hdr), 1, f) != 1 || hdr[0] != RL_FILE_MAGIC || hdr[1] != RL_FILE_VERSION ||
		fread(&seed, sizeof(seed), 1, f) != 1 || fread(&n, sizeof(n), 1, f) != 1 || n < 0)
	{
		ereport(LOG,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("ignoring invalid rate limiter state file \"%s\"", RL_DUMP_FILE)));
		FreeFile(f);
		unlink(RL_DUMP_FILE);
		return;
	}
	rl->seed = seed;
	for (k = 0; k < n; k++)
	{
		uint64		hash;
		int64		tat;
		RlPartition *part;

		if (fread(&hash, sizeof(hash), 1, f) != 1 || fread(&tat, sizeof(tat), 1, f) != 1)
			break;
		if (tat <= now)
			continue;
		part = &rl->parts[rl_part_of(hash)];
		if (rl_find(part, hash) >= 0)
			continue;
		if (part->count >= rl->cap)
			rl_make_room(part, now);
		rl_insert(part, hash, tat);
		rl->loaded++;
	}
	FreeFile(f);
	/* Consumed: a later crash must not resurrect this old state. */
	unlink(RL_DUMP_FILE);
}

/* Ask for our shared memory and partition locks (shmem_request_hook). */
static void
rl_shmem_request(void)
{
	int			nparts,
				cap;
	uint32		nheads;

	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	rl_geometry(rl_max_keys, &nparts, &cap, &nheads);
	RequestAddinShmemSpace(rl_shmem_size());
	RequestNamedLWLockTranche(RL_TRANCHE, nparts);
}

/* Create or attach the store; the postmaster also loads the dump and arms the save. */
static void
rl_shmem_startup(void)
{
	bool		found;
	Size		size = rl_shmem_size();

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	rl = ShmemInitStruct("feed_fusion rate limiter", size, &found);
	if (!found)
	{
		int			nparts,
					cap,
					p;
		uint32		nheads;
		Size		off;

		rl_geometry(rl_max_keys, &nparts, &cap, &nheads);
		memset(rl, 0, offsetof(RlShared, parts));
		rl->nparts = nparts;
		rl->cap = cap;
		rl->bucket_mask = nheads - 1;
		rl->total_size = size;
		rl->locks = GetNamedLWLockTranche(RL_TRANCHE);
		if (!pg_strong_random(&rl->seed, sizeof(rl->seed)))
			rl->seed = (uint64) GetCurrentTimestamp() ^ ((uint64) MyProcPid << 32);
		off = MAXALIGN(offsetof(RlShared, parts) + nparts * sizeof(RlPartition));
		for (p = 0; p < nparts; p++)
		{
			RlPartition *part = &rl->parts[p];

			part->count = 0;
			part->ncand = part->cand_pos = 0;
			pg_atomic_init_u64(&part->evictions, 0);
			part->heads_off = off;
			off += MAXALIGN(nheads * sizeof(int32));
			part->entries_off = off;
			off += MAXALIGN(cap * sizeof(RlEntry));
			memset(rl_heads(part), 0xff, nheads * sizeof(int32));	/* all -1 */
		}
		Assert(off == size);
	}
	LWLockRelease(AddinShmemInitLock);

	if (!IsUnderPostmaster)
	{
		on_shmem_exit(rl_shmem_shutdown, (Datum) 0);
		if (!found)
			rl_load();
	}
}

/* GUC and hooks; called from ff_rate_limiter_init() in every process. */
void
rl_shm_register(void)
{
	/* PGC_POSTMASTER variables can only be defined while preloading. */
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomIntVariable("feed_fusion.rate_limit_max_keys",
							"Keys the shared-memory rate limiter can hold (about 32 bytes each).",
							"When every key is live the one whose bucket will be full soonest is evicted.",
							&rl_max_keys,
							100000, 16, 64 * 1024 * 1024,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = rl_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = rl_shmem_startup;
}
