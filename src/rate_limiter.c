/*
 * rate_limiter.c — token-bucket rate limiting: check_rate_limit,
 * rate_limit_take, rate_limit_reset and the limiter's ff_status() row.
 *
 * What: GCRA (see ratelimit.h: one theoretical-arrival timestamp per key, exact
 *       token-bucket semantics, a denied call takes nothing, cost 0 peeks).
 *       Shared-memory mode (preloaded) keeps keys in ratelimit_shm.c; table mode
 *       keeps one row per live key in rate_limit_counters and decides each call with
 *       ONE atomic statement through a saved SPI plan:
 *         INSERT ... ON CONFLICT (key) DO UPDATE SET tat = greatest(tat, now) + n*T
 *         WHERE greatest(tat, now) - now + n*T <= P'  RETURNING tat
 *       (no row returned = denied; the row lock it took lets a second read report
 *       remaining/retry_after exactly).  Every RL_GC_EVERY calls a backend sweeps the
 *       next few blocks (TID range scan, SKIP LOCKED) of rows whose bucket has been full
 *       for a minute, so the table holds the keys active in the last minute, not every
 *       key ever seen; updates touch no indexed column and stay HOT.
 * Why:  check_rate_limit runs in front of every RPC, so the hot path is C: the
 *       subject comes from identity.c, the profile from a per-backend cache, the
 *       bucket from shared memory (no SPI, no WAL) or from one saved plan.
 * Keys: check_rate_limit uses '<profile>:<subject>' (profile after the fallback to
 *       'standard', so unknown scopes cannot mint fresh buckets; the subject is a
 *       user or a canonical IP address, so the key is short); rate_limit_take
 *       uses p_key as given; both share one namespace per database, so
 *       rate_limit_reset('standard:u:<uuid>') clears a user's standard bucket.
 *       Keys of any length work in both modes: shared memory hashes every key, and
 *       table mode stores a key over RL_TBL_KEY_MAX bytes as "#sha256:<hex digest>"
 *       (rl_tbl_key), since a btree entry must stay under ~2.7 kB.
 * Cache: profiles are read once per backend into a hash table, current while
 *       ff_config_generation(rate_limit_profiles) has not moved (context.c: the
 *       config-change trigger's invalidation arrives with the commit; DDL and DROP
 *       EXTENSION move it too).  Per statement nothing is looked up again: each
 *       executor start hands a C function a fresh fn_extra, so what fn_extra would
 *       hold lives per backend instead — rate_limit_take's blessed result row type
 *       (keyed on the function oid, current while ff_proc_generation() has not
 *       moved), the service_role answer and the subject (identity.c), the profile.
 * Locking: shared-memory mode: ratelimit_shm.c's partition locks.  Table mode: the
 *       row lock of the upsert (callers on one key serialize until their commit).
 *       Reads and writes of the tables run as the extension owner (ff_run_as_owner),
 *       so anon/authenticated need no privileges on them; that SQL names every
 *       operator, function and type with pg_catalog, so a caller's search_path cannot
 *       substitute its own objects into statements that run with the owner's rights.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "storage/bufmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "feed_fusion.h"
#include "context.h"
#include "ratelimit.h"
#include "status.h"

PG_FUNCTION_INFO_V1(check_rate_limit);
PG_FUNCTION_INFO_V1(rate_limit_take);
PG_FUNCTION_INFO_V1(rate_limit_reset);
PG_FUNCTION_INFO_V1(ff_rate_limiter_info);

#define RL_PROFILE_NAMELEN	64
#define RL_GC_EVERY			64		/* table mode: sweep every N takes per backend ... */
#define RL_GC_BLOCKS		8		/* ... this many blocks of rate_limit_counters ... */
#define RL_GC_GRACE_NS		(INT64CONST(60) * 1000000000)	/* ... for rows full for 1 min */
#define RL_TBL_KEY_MAX		200		/* table mode: longer keys are stored as a digest ... */
#define RL_TBL_DIGEST_PREFIX "#sha256:"	/* ... "#sha256:<64 hex>" (as are keys with this prefix) */
#define RL_HASH_CHUNK		(1024 * 1024)	/* bytes hashed between interrupt checks */

/* A cached profile. */
typedef struct RlProfile
{
	char		name[RL_PROFILE_NAMELEN];
	RlLimits	lim;
	bool		valid;			/* false: period out of range (error when used) */
} RlProfile;

/* Per-backend state: plans for the schema they were prepared in, the profile cache. */
static Oid	st_nsp = InvalidOid;	/* schema the saved plans name */
static uint64 st_profiles_gen = 0;	/* generation the profile cache was read at */
static HTAB *st_profiles = NULL;
static MemoryContext st_mcxt = NULL;
static SPIPlanPtr plan_take = NULL;
static SPIPlanPtr plan_peek = NULL;
static SPIPlanPtr plan_reset = NULL;
static SPIPlanPtr plan_gc = NULL;
static uint32 st_takes = 0;
static BlockNumber st_gc_block = InvalidBlockNumber;	/* sweep cursor; starts at random */

/* Register the client-address settings, and (when preloaded) the store's GUC and hooks. */
void
ff_rate_limiter_init(void)
{
	ff_identity_init();			/* in every process: table mode loads us on first use */
	rl_shm_register();
}

/* Free the saved plans (only at the start of a call, never from a callback). */
static void
rl_free_plans(void)
{
	SPIPlanPtr *plans[] = {&plan_take, &plan_peek, &plan_reset, &plan_gc};
	int			i;

	for (i = 0; i < lengthof(plans); i++)
		if (*plans[i])
		{
			SPI_freeplan(*plans[i]);
			*plans[i] = NULL;
		}
}

/* Drop plans prepared for another schema (the extension was re-created elsewhere). */
static void
rl_ensure_state(void)
{
	Oid			nsp = ff_extension()->nsp;

	if (nsp != st_nsp)
	{
		rl_free_plans();
		st_nsp = nsp;
		st_profiles_gen = 0;
	}
}

/* Interval → ns with 30-day months (as EXTRACT(epoch)); false when ≤ 0 or > 10 years. */
static bool
rl_interval_ns(const Interval *iv, int64 *out)
{
	int128		us = (int128) iv->time + (int128) iv->day * USECS_PER_DAY +
		(int128) iv->month * DAYS_PER_MONTH * USECS_PER_DAY;
	int128		ns = us * 1000;

	if (ns <= 0 || ns > RL_MAX_PERIOD_NS)
		return false;
	*out = (int64) ns;
	return true;
}

/* Limits for (capacity, period ns): T = ceil(P / C), P' = C * T. */
static void
rl_make_limits(int32 capacity, int64 period_ns, RlLimits *lim)
{
	lim->capacity = capacity;
	lim->interval_ns = (period_ns + capacity - 1) / capacity;
	lim->tolerance_ns = lim->interval_ns * capacity;
}

/* Validate caller-supplied limits (22023) and build them. */
static void
rl_check_limits(int32 capacity, const Interval *period, int32 cost, RlLimits *lim)
{
	int64		period_ns;

	if (capacity <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rate limit capacity must be positive, got %d", capacity)));
	if (!rl_interval_ns(period, &period_ns))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rate limit period must be positive and at most 10 years")));
	if (cost < 0 || cost > capacity)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rate limit cost must be between 0 and the capacity (%d), got %d",
						capacity, cost)));
	rl_make_limits(capacity, period_ns, lim);
}

/* Read rate_limit_profiles into st_profiles (inside SPI, as the extension owner). */
static void
rl_read_profiles(void *arg)
{
	uint64		i;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("SELECT name, capacity, period FROM %s",
							 ff_qualified("rate_limit_profiles")), true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read rate_limit_profiles");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		n1,
					n2,
					n3;
		char	   *name = TextDatumGetCString(SPI_getbinval(t, d, 1, &n1));
		int32		cap = DatumGetInt32(SPI_getbinval(t, d, 2, &n2));
		Interval   *per = DatumGetIntervalP(SPI_getbinval(t, d, 3, &n3));
		RlProfile  *p;
		bool		found;
		int64		period_ns;

		if (n1 || n2 || n3 || strlen(name) >= RL_PROFILE_NAMELEN)
			continue;
		p = hash_search(st_profiles, name, HASH_ENTER, &found);
		p->valid = cap > 0 && rl_interval_ns(per, &period_ns);
		if (p->valid)
			rl_make_limits(cap, period_ns, &p->lim);
	}
	SPI_finish();
}

/* Load rate_limit_profiles into the backend cache. */
static void
rl_load_profiles(void)
{
	uint64		gen = ff_config_generation(FF_REL_RATE_LIMIT_PROFILES);
	HASHCTL		ctl;

	if (st_mcxt == NULL)
		st_mcxt = AllocSetContextCreate(CacheMemoryContext, "feed_fusion rate limiter profiles",
										ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(st_mcxt);
	st_profiles = NULL;
	st_profiles_gen = 0;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = RL_PROFILE_NAMELEN;
	ctl.entrysize = sizeof(RlProfile);
	ctl.hcxt = st_mcxt;
	st_profiles = hash_create("feed_fusion rate limit profiles", 16, &ctl,
							  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	ff_run_as_owner(rl_read_profiles, NULL);
	st_profiles_gen = gen;		/* an invalidation during the load keeps it stale */
}

/* Profile `scope`, else 'standard' (else the seeded 60 per minute); *name gets the one used. */
static RlLimits
rl_profile(const char *scope, const char **name)
{
	RlProfile  *p = NULL;

	AcceptInvalidationMessages();	/* committed profile changes: cheap when none */
	if (st_profiles == NULL || st_profiles_gen != ff_config_generation(FF_REL_RATE_LIMIT_PROFILES))
		rl_load_profiles();
	if (strlen(scope) < RL_PROFILE_NAMELEN)
		p = hash_search(st_profiles, scope, HASH_FIND, NULL);
	if (p == NULL)
		p = hash_search(st_profiles, "standard", HASH_FIND, NULL);
	if (p == NULL)
	{
		RlLimits	lim;

		*name = "standard";
		rl_make_limits(60, INT64CONST(60) * 1000000000, &lim);
		return lim;
	}
	if (!p->valid)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rate limit profile \"%s\" has a period over 10 years", p->name)));
	*name = p->name;
	return p->lim;
}

/* Prepare and keep one table-mode plan. */
static SPIPlanPtr
rl_prepare(const char *fmt, int nargs, Oid *types)
{
	char	   *counters = ff_qualified("rate_limit_counters");
	SPIPlanPtr	plan = SPI_prepare(psprintf(fmt, counters, counters), nargs, types);

	if (plan == NULL || SPI_keepplan(plan) != 0)
		elog(ERROR, "could not prepare rate limiter statement: %s",
			 SPI_result_code_string(SPI_result));
	return plan;
}

/* Raise 25006 when table mode would have to write in a read-only transaction. */
static void
rl_require_writable(const char *what)
{
	if (XactReadOnly)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("%s cannot record the call in a read-only transaction", what),
				 errdetail("feed_fusion is not in shared_preload_libraries, so the rate limiter "
						   "keeps its buckets in the table rate_limit_counters."),
				 errhint("Call it in a read-write transaction, or preload feed_fusion to use "
						 "the shared-memory limiter.")));
}

/* TAT stored for `key` (0 = none), read through the peek plan. Caller is in SPI. */
static int64
rl_tbl_read(Datum key)
{
	Oid			types[1] = {TEXTOID};
	bool		isnull;
	Datum		d;

	if (plan_peek == NULL)
		plan_peek = rl_prepare("SELECT tat FROM %s WHERE key OPERATOR(pg_catalog.=) $1", 1, types);
	if (SPI_execute_plan(plan_peek, &key, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "rate limiter read failed");
	if (SPI_processed == 0)
		return 0;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetInt64(d);
}

/*
 * Sweep: delete the rows of buckets that have been full for RL_GC_GRACE_NS, in the
 * next RL_GC_BLOCKS blocks of rate_limit_counters (a TID range scan; the cursor walks
 * the table and wraps).  Rows another session holds are skipped, never waited for.
 * Caller is in SPI, as the table owner.
 */
static void
rl_tbl_gc(int64 now)
{
	Oid			types[3] = {TIDOID, TIDOID, INT8OID};
	Datum		vals[3];
	ItemPointerData from,
				to;
	BlockNumber nblocks;
	Relation	rel = table_open(ff_extension_relid(FF_REL_RATE_LIMIT_COUNTERS), AccessShareLock);

	nblocks = RelationGetNumberOfBlocks(rel);
	table_close(rel, AccessShareLock);
	if (st_gc_block >= nblocks)
		st_gc_block = 0;
	ItemPointerSet(&from, st_gc_block, 0);
	ItemPointerSet(&to, st_gc_block + RL_GC_BLOCKS, 0);
	st_gc_block += RL_GC_BLOCKS;
	vals[0] = PointerGetDatum(&from);
	vals[1] = PointerGetDatum(&to);
	vals[2] = Int64GetDatum(now - RL_GC_GRACE_NS);
	if (plan_gc == NULL)
		plan_gc = rl_prepare("DELETE FROM %s WHERE ctid OPERATOR(pg_catalog.=) ANY (ARRAY("
							 "SELECT ctid FROM %s WHERE ctid OPERATOR(pg_catalog.>=) $1 "
							 "AND ctid OPERATOR(pg_catalog.<) $2 AND tat OPERATOR(pg_catalog.<=) $3 "
							 "FOR UPDATE SKIP LOCKED))", 3, types);
	if (SPI_execute_plan(plan_gc, vals, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "rate limiter sweep failed");
}

/* Arguments of one table-mode call, passed through ff_run_as_owner. */
typedef struct RlTblCall
{
	Datum		key;			/* text */
	int64		now;
	const RlLimits *lim;
	int32		cost;
	RlResult   *res;
} RlTblCall;

/* Table mode, as the extension owner: one GCRA call through rate_limit_counters. */
static void
rl_tbl_take_as_owner(void *arg)
{
	RlTblCall  *c = (RlTblCall *) arg;
	Datum		keyd = c->key;
	int64		now = c->now;
	const RlLimits *lim = c->lim;
	int32		cost = c->cost;
	RlResult   *res = c->res;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (cost == 0)
		(void) rl_gcra(rl_tbl_read(keyd), now, lim, 0, res);
	else
	{
		Oid			types[4] = {TEXTOID, INT8OID, INT8OID, INT8OID};
		Datum		vals[4];

		if (plan_take == NULL)
			plan_take = rl_prepare("INSERT INTO %s AS c (key, tat) VALUES ($1, $2 OPERATOR(pg_catalog.+) $3) "
								   "ON CONFLICT (key) DO UPDATE "
								   "SET tat = greatest(c.tat, $2) OPERATOR(pg_catalog.+) $3 "
								   "WHERE greatest(c.tat, $2) OPERATOR(pg_catalog.-) $2 "
								   "OPERATOR(pg_catalog.+) $3 OPERATOR(pg_catalog.<=) $4 RETURNING c.tat",
								   4, types);
		vals[0] = keyd;
		vals[1] = Int64GetDatum(now);
		vals[2] = Int64GetDatum((int64) cost * lim->interval_ns);
		vals[3] = Int64GetDatum(lim->tolerance_ns);
		if (SPI_execute_plan(plan_take, vals, NULL, false, 0) != SPI_OK_INSERT_RETURNING)
			elog(ERROR, "rate limiter update failed");
		if (SPI_processed == 1)
		{
			bool		isnull;
			int64		new_tat = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
															  SPI_tuptable->tupdesc, 1, &isnull));
			int64		after = new_tat - now;

			res->allowed = true;
			res->retry_after_ns = 0;
			res->reset_after_ns = after;
			res->remaining = after >= lim->tolerance_ns ? 0 :
				(int32) ((lim->tolerance_ns - after) / lim->interval_ns);
		}
		else
		{
			/* Denied: we hold the row lock, so this read is the state that denied us. */
			(void) rl_gcra(rl_tbl_read(keyd), now, lim, cost, res);
			if (res->allowed)
			{
				res->allowed = false;	/* clock moved on meanwhile: still a denial */
				res->retry_after_ns = 1;
			}
		}
		if (++st_takes % RL_GC_EVERY == 0)
		{
			if (st_gc_block == InvalidBlockNumber)
				st_gc_block = (BlockNumber) (MyProcPid * 31) % 1024;	/* spread backends */
			rl_tbl_gc(now);
		}
	}
	SPI_finish();
}

/*
 * The text rate_limit_counters stores for a key (len bytes): the key itself when it is
 * at most RL_TBL_KEY_MAX bytes, else "#sha256:" + hex SHA-256 of the key, so a key of
 * any length fits the primary key's btree (whose entries must stay under ~2.7 kB) and
 * every caller (take, peek, reset) finds the same row.  A short key that itself starts
 * with "#sha256:" is stored as its digest too, so the stored form is one-to-one (up to
 * SHA-256 collisions): no key can land on a long key's row.
 */
static text *
rl_tbl_key(const char *key, int len)
{
	const int	plen = sizeof(RL_TBL_DIGEST_PREFIX) - 1;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char		stored[sizeof(RL_TBL_DIGEST_PREFIX) - 1 + PG_SHA256_DIGEST_LENGTH * 2];
	pg_cryptohash_ctx *ctx;
	int			off;

	if (len <= RL_TBL_KEY_MAX && !(len >= plen && memcmp(key, RL_TBL_DIGEST_PREFIX, plen) == 0))
		return cstring_to_text_with_len(key, len);
	ctx = pg_cryptohash_create(PG_SHA256);
	if (ctx == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	if (pg_cryptohash_init(ctx) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not hash a rate limit key: %s", pg_cryptohash_error(ctx))));
	for (off = 0; off < len; off += RL_HASH_CHUNK)
	{
		CHECK_FOR_INTERRUPTS();
		if (pg_cryptohash_update(ctx, (const uint8 *) key + off, Min(len - off, RL_HASH_CHUNK)) < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not hash a rate limit key: %s", pg_cryptohash_error(ctx))));
	}
	if (pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not hash a rate limit key: %s", pg_cryptohash_error(ctx))));
	pg_cryptohash_free(ctx);
	memcpy(stored, RL_TBL_DIGEST_PREFIX, plen);
	hex_encode((const char *) digest, sizeof(digest), stored + plen);
	return cstring_to_text_with_len(stored, sizeof(stored));
}

/* Table mode: one GCRA call on `key` (read-write transactions only when it takes). */
static void
rl_tbl_take(const char *what, const char *key, int len, int64 now, const RlLimits *lim, int32 cost,
			RlResult *res)
{
	RlTblCall	c = {PointerGetDatum(rl_tbl_key(key, len)), now, lim, cost, res};

	if (cost > 0)
		rl_require_writable(what);
	rl_ensure_state();
	ff_check_own_triggers(ff_extension_relid(FF_REL_RATE_LIMIT_COUNTERS));
	ff_run_as_owner(rl_tbl_take_as_owner, &c);
}

/* One call on the key (len bytes, not necessarily NUL-terminated) in the active mode. */
static void
rl_take(const char *what, const char *key, int len, const RlLimits *lim, int32 cost, RlResult *res)
{
	int64		now = rl_now_ns();

	if (rl_shm_available())
		rl_shm_take(rl_shm_hash(key, len), now, lim, cost, res);
	else
		rl_tbl_take(what, key, len, now, lim, cost, res);
}

/* NULL argument → 22004 (never allow on bad input). */
static void
rl_not_null(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
}

/* ns → ms, rounded up (so waiting that long is always enough). */
static inline int64
rl_ceil_ms(int64 ns)
{
	return ns <= 0 ? 0 : (ns + 999999) / 1000000;
}

/* SQL: check_rate_limit(p_scope text DEFAULT 'standard', p_cost int DEFAULT 1) RETURNS boolean */
Datum
check_rate_limit(PG_FUNCTION_ARGS)
{
	char	   *scope;
	const char *profile;
	const char *subject;
	char		buf[RL_PROFILE_NAMELEN + 64];
	char	   *key = buf;
	size_t		plen,
				slen;
	int32		cost;
	RlLimits	lim;
	RlResult	res;

	rl_not_null(fcinfo, 0, "p_scope");
	rl_not_null(fcinfo, 1, "p_cost");
	scope = text_to_cstring(PG_GETARG_TEXT_PP(0));
	cost = PG_GETARG_INT32(1);
	rl_ensure_state();
	lim = rl_profile(scope, &profile);
	if (cost < 0 || cost > lim.capacity)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rate limit cost must be between 0 and the capacity (%d) of profile \"%s\", got %d",
						lim.capacity, profile, cost)));
	/* key = '<profile>:<subject>', on the stack when it fits (it always does today) */
	subject = ff_current_subject();
	plen = strlen(profile);
	slen = strlen(subject);
	if (plen + 1 + slen >= sizeof(buf))
		key = palloc(plen + 1 + slen + 1);
	memcpy(key, profile, plen);
	key[plen] = ':';
	memcpy(key + plen + 1, subject, slen + 1);
	rl_take("check_rate_limit", key, (int) (plen + 1 + slen), &lim, cost, &res);
	PG_RETURN_BOOL(res.allowed);
}

/* Per-call-site state of rate_limit_take's one-row value-per-call SRF. */
typedef struct RlSrf
{
	bool		pending;		/* row returned, end-of-set not yet returned */
} RlSrf;

/* rate_limit_take's blessed result row type, per backend (see the design note). */
static Oid	st_take_fn = InvalidOid;
static uint64 st_take_gen = 0;
static TupleDesc st_take_td = NULL;

/* Executor shutdown/rescan: the next call starts a new set. */
static void
rl_srf_shutdown(Datum arg)
{
	((RlSrf *) DatumGetPointer(arg))->pending = false;
}

/*
 * The result row type of the calling rate_limit_take: built and blessed once per
 * backend, not once per statement (get_call_result_type decodes the OUT arguments
 * of the pg_proc row each time), again only after a pg_proc invalidation.
 */
static TupleDesc
rl_take_tupdesc(FunctionCallInfo fcinfo)
{
	Oid			fn = fcinfo->flinfo->fn_oid;
	uint64		gen = ff_proc_generation();	/* before reading: a change meanwhile is seen next time */
	TupleDesc	td;
	MemoryContext old;

	if (st_take_td != NULL && st_take_fn == fn && st_take_gen == gen)
		return st_take_td;
	if (get_call_result_type(fcinfo, NULL, &td) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("rate_limit_take: return type must be a row type")));
	old = MemoryContextSwitchTo(CacheMemoryContext);
	td = BlessTupleDesc(CreateTupleDescCopy(td));
	MemoryContextSwitchTo(old);
	if (st_take_td != NULL)
		FreeTupleDesc(st_take_td);	/* only ever used within one call */
	st_take_td = td;
	st_take_fn = fn;
	st_take_gen = gen;
	return td;
}

/*
 * SQL: rate_limit_take(p_key, p_capacity, p_period, p_cost DEFAULT 1)
 *   RETURNS TABLE(allowed, remaining, retry_after_ms, reset_after_ms) — service_role.
 * A one-row value-per-call SRF without funcapi's per-call memory context (cheaper).
 */
Datum
rate_limit_take(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsi = (ReturnSetInfo *) fcinfo->resultinfo;
	RlSrf	   *srf = (RlSrf *) fcinfo->flinfo->fn_extra;
	TupleDesc	td;
	text	   *key;
	RlLimits	lim;
	RlResult	res;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (rsi == NULL || !IsA(rsi, ReturnSetInfo) || (rsi->allowedModes & SFRM_ValuePerCall) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("rate_limit_take must be called in a context that accepts a set")));
	if (srf == NULL)
	{
		srf = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(RlSrf));
		fcinfo->flinfo->fn_extra = srf;
	}
	if (srf->pending)
	{
		srf->pending = false;
		UnregisterExprContextCallback(rsi->econtext, rl_srf_shutdown, PointerGetDatum(srf));
		rsi->isDone = ExprEndResult;
		PG_RETURN_NULL();
	}

	(void) rl_take_tupdesc(fcinfo);	/* a bad result type fails before taking anything */
	ff_require_service_role("rate_limit_take");
	rl_not_null(fcinfo, 0, "p_key");
	rl_not_null(fcinfo, 1, "p_capacity");
	rl_not_null(fcinfo, 2, "p_period");
	rl_not_null(fcinfo, 3, "p_cost");
	rl_check_limits(PG_GETARG_INT32(1), PG_GETARG_INTERVAL_P(2), PG_GETARG_INT32(3), &lim);
	key = PG_GETARG_TEXT_PP(0);
	rl_take("rate_limit_take", VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), &lim, PG_GETARG_INT32(3), &res);

	values[0] = BoolGetDatum(res.allowed);
	values[1] = Int32GetDatum(res.remaining);
	values[2] = Int64GetDatum(rl_ceil_ms(res.retry_after_ns));
	values[3] = Int64GetDatum(rl_ceil_ms(res.reset_after_ns));
	srf->pending = true;
	RegisterExprContextCallback(rsi->econtext, rl_srf_shutdown, PointerGetDatum(srf));
	rsi->isDone = ExprMultipleResult;
	td = rl_take_tupdesc(fcinfo);	/* again: table mode's SPI may have replaced it */
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(td, values, nulls)));
}

/* Table-mode reset, as the extension owner: delete the key's row; *live when it was not full. */
static void
rl_tbl_reset_as_owner(void *arg)
{
	RlTblCall  *c = (RlTblCall *) arg;
	Oid			types[1] = {TEXTOID};
	uint64		i;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (plan_reset == NULL)
		plan_reset = rl_prepare("DELETE FROM %s WHERE key OPERATOR(pg_catalog.=) $1 RETURNING tat", 1, types);
	if (SPI_execute_plan(plan_reset, &c->key, NULL, false, 0) != SPI_OK_DELETE_RETURNING)
		elog(ERROR, "rate limiter reset failed");
	c->res->allowed = false;
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int64		tat = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
													  SPI_tuptable->tupdesc, 1, &isnull));

		if (!isnull && tat > c->now)
			c->res->allowed = true; /* "was live" */
	}
	SPI_finish();
}

/* SQL: rate_limit_reset(p_key text) RETURNS boolean — true when the bucket was not full. */
Datum
rate_limit_reset(PG_FUNCTION_ARGS)
{
	text	   *key;
	int64		now = rl_now_ns();
	RlResult	res;
	RlTblCall	c;

	ff_require_service_role("rate_limit_reset");
	rl_not_null(fcinfo, 0, "p_key");
	key = PG_GETARG_TEXT_PP(0);
	if (rl_shm_available())
		PG_RETURN_BOOL(rl_shm_reset(rl_shm_hash(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key)), now));

	rl_ensure_state();
	rl_require_writable("rate_limit_reset");
	memset(&c, 0, sizeof(c));
	c.key = PointerGetDatum(rl_tbl_key(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key)));
	c.now = now;
	c.res = &res;
	ff_check_own_triggers(ff_extension_relid(FF_REL_RATE_LIMIT_COUNTERS));
	ff_run_as_owner(rl_tbl_reset_as_owner, &c);
	PG_RETURN_BOOL(res.allowed);
}

/* Rows and live keys of rate_limit_counters (as the extension owner). */
typedef struct RlCounts
{
	int64		now;
	int64		rows;
	int64		live;
} RlCounts;

/* Count the table-mode state for ff_status(). */
static void
rl_tbl_count_as_owner(void *arg)
{
	RlCounts   *c = (RlCounts *) arg;
	Oid			types[1] = {INT8OID};
	Datum		v = Int64GetDatum(c->now);
	bool		isnull;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(psprintf("SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER "
									   "(WHERE tat OPERATOR(pg_catalog.>) $1) FROM %s",
									   ff_qualified("rate_limit_counters")),
							  1, types, &v, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read rate_limit_counters");
	c->rows = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	c->live = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	SPI_finish();
}

/* SQL: _ff_rate_limiter_info(OUT mode text, OUT detail jsonb) — for ff_status(). */
Datum
ff_rate_limiter_info(PG_FUNCTION_ARGS)
{
	TupleDesc	td;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	FfStatus	st;

	if (get_call_result_type(fcinfo, NULL, &td) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	ff_status_begin(&st);
	ff_status_text(&st, "algorithm", "gcra");
	if (rl_shm_available())
	{
		values[0] = CStringGetTextDatum("shared_memory");
		rl_shm_status(&st);
	}
	else
	{
		RlCounts	c = {rl_now_ns(), 0, 0};

		values[0] = CStringGetTextDatum("table");
		ff_run_as_owner(rl_tbl_count_as_owner, &c);
		ff_status_int(&st, "rows", c.rows);
		ff_status_int(&st, "live_keys", c.live);
		ff_status_int(&st, "sweep_every_calls", RL_GC_EVERY);
		ff_status_int(&st, "sweep_blocks", RL_GC_BLOCKS);
		ff_status_int(&st, "sweep_grace_s", RL_GC_GRACE_NS / 1000000000);
	}
	values[1] = JsonbPGetDatum(ff_status_end(&st));
	td = rl_take_tupdesc(fcinfo);	/* again: table mode's SPI may have replaced it */
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(td, values, nulls)));
}
