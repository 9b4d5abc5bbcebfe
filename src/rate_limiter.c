/*
 * rate_limiter.c — token-bucket rate limiting (SPEC §6): check_rate_limit,
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
 *       'standard', so unknown scopes cannot mint fresh buckets); rate_limit_take
 *       uses p_key as given; both share one namespace per database, so
 *       rate_limit_reset('standard:u:<uuid>') clears a user's standard bucket.
 * Cache: profiles are read once per backend into a hash table; a statement-level
 *       trigger on rate_limit_profiles sends a relcache invalidation at commit, and a
 *       relcache callback (also fired by DDL or DROP EXTENSION) marks the cache stale.
 * Locking: shared-memory mode: ratelimit_shm.c's partition locks.  Table mode: the
 *       row lock of the upsert (callers on one key serialize until their commit).
 *       Reads and writes of the tables run as the tables' owner (as RI triggers do),
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
#include "ratelimit.h"

PG_FUNCTION_INFO_V1(check_rate_limit);
PG_FUNCTION_INFO_V1(rate_limit_take);
PG_FUNCTION_INFO_V1(rate_limit_reset);
PG_FUNCTION_INFO_V1(ff_rate_limiter_info);
PG_FUNCTION_INFO_V1(ff_rate_limit_profiles_changed);

#define RL_PROFILE_NAMELEN	64
#define RL_GC_EVERY			64		/* table mode: sweep every N takes per backend ... */
#define RL_GC_BLOCKS		8		/* ... this many blocks of rate_limit_counters ... */
#define RL_GC_GRACE_NS		(INT64CONST(60) * 1000000000)	/* ... for rows full for 1 min */

/* A cached profile. */
typedef struct RlProfile
{
	char		name[RL_PROFILE_NAMELEN];
	RlLimits	lim;
	bool		valid;			/* false: period out of range (error when used) */
} RlProfile;

/* Per-backend state for the extension schema last seen. */
static Oid	st_nsp = InvalidOid;
static uint64 st_inval_gen = 1;	/* bumped by the invalidation callbacks */
static uint64 st_rels_gen = 0;	/* generation the relids/owners below were read at */
static uint64 st_profiles_gen = 0;	/* generation the profile cache was read at */
static Oid	st_profiles_rel = InvalidOid;
static Oid	st_counters_rel = InvalidOid;
static Oid	st_profiles_owner = InvalidOid;
static Oid	st_counters_owner = InvalidOid;
static HTAB *st_profiles = NULL;
static MemoryContext st_mcxt = NULL;
static SPIPlanPtr plan_take = NULL;
static SPIPlanPtr plan_peek = NULL;
static SPIPlanPtr plan_reset = NULL;
static SPIPlanPtr plan_gc = NULL;
static uint32 st_takes = 0;
static BlockNumber st_gc_block = InvalidBlockNumber;	/* sweep cursor; starts at random */

/* Function oid → schema oid, a tiny cache flushed on any pg_proc change. */
#define RL_FN_CACHE 4
static Oid	fn_cache_oid[RL_FN_CACHE];
static Oid	fn_cache_nsp[RL_FN_CACHE];
static int	fn_cache_next = 0;
static bool callbacks_registered = false;

/* Register the GUC and (when preloaded) the shared-memory hooks. */
void
ff_rate_limiter_init(void)
{
	rl_shm_register();
}

/* Relcache callback: any change to our tables (or a full reset) makes the state stale. */
static void
rl_relcache_cb(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == st_profiles_rel || relid == st_counters_rel)
		st_inval_gen++;
}

/* Syscache callback on pg_proc: a function may have moved or gone. */
static void
rl_proc_cb(Datum arg, int cacheid, uint32 hashvalue)
{
	int			i;

	for (i = 0; i < RL_FN_CACHE; i++)
		fn_cache_oid[i] = InvalidOid;
	st_inval_gen++;
}

/* Schema of the called function (= the extension schema), cached by function oid. */
static Oid
rl_fn_nsp(FunctionCallInfo fcinfo)
{
	Oid			fn = fcinfo->flinfo->fn_oid;
	Oid			nsp;
	int			i;

	if (!callbacks_registered)
	{
		CacheRegisterRelcacheCallback(rl_relcache_cb, (Datum) 0);
		CacheRegisterSyscacheCallback(PROCOID, rl_proc_cb, (Datum) 0);
		callbacks_registered = true;
	}
	for (i = 0; i < RL_FN_CACHE; i++)
		if (fn_cache_oid[i] == fn)
			return fn_cache_nsp[i];
	nsp = get_func_namespace(fn);
	if (!OidIsValid(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("feed_fusion: function %u not found", fn)));
	fn_cache_oid[fn_cache_next] = fn;
	fn_cache_nsp[fn_cache_next] = nsp;
	fn_cache_next = (fn_cache_next + 1) % RL_FN_CACHE;
	return nsp;
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

/* Owner of a relation (the role our table access runs as). */
static Oid
rl_rel_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("feed_fusion: relation %u not found", relid)));
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/* Make the per-backend state match schema `nsp` and the latest invalidations. */
static void
rl_ensure_state(Oid nsp)
{
	if (nsp != st_nsp)
	{
		rl_free_plans();
		st_nsp = nsp;
		st_rels_gen = st_profiles_gen = 0;
	}
	if (st_rels_gen != st_inval_gen)
	{
		uint64		gen = st_inval_gen;

		st_profiles_rel = get_relname_relid("rate_limit_profiles", nsp);
		st_counters_rel = get_relname_relid("rate_limit_counters", nsp);
		if (!OidIsValid(st_profiles_rel) || !OidIsValid(st_counters_rel))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("feed_fusion: rate limiter tables are missing in schema \"%s\"",
							get_namespace_name(nsp))));
		st_profiles_owner = rl_rel_owner(st_profiles_rel);
		st_counters_owner = rl_rel_owner(st_counters_rel);
		st_rels_gen = gen;
	}
}

/* Run SPI work as `owner` (restored on return; on error by transaction abort). */
typedef struct RlAsOwner
{
	Oid			save_uid;
	int			save_sec;
} RlAsOwner;

/* Switch to the table owner, as RI triggers do for their checks. */
static void
rl_become_owner(RlAsOwner *s, Oid owner)
{
	GetUserIdAndSecContext(&s->save_uid, &s->save_sec);
	SetUserIdAndSecContext(owner, s->save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
}

/* Back to the caller's identity. */
static void
rl_restore_user(RlAsOwner *s)
{
	SetUserIdAndSecContext(s->save_uid, s->save_sec);
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

/* Load rate_limit_profiles into the backend cache (as the table owner). */
static void
rl_load_profiles(void)
{
	uint64		gen = st_inval_gen;
	HASHCTL		ctl;
	RlAsOwner	as;
	char	   *sql;
	uint64		i;

	if (st_mcxt == NULL)
		st_mcxt = AllocSetContextCreate(CacheMemoryContext, "feed_fusion rate limiter profiles",
										ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(st_mcxt);
	st_profiles = NULL;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = RL_PROFILE_NAMELEN;
	ctl.entrysize = sizeof(RlProfile);
	ctl.hcxt = st_mcxt;
	st_profiles = hash_create("feed_fusion rate limit profiles", 16, &ctl,
							  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	sql = psprintf("SELECT name, capacity, period FROM %s",
				   quote_qualified_identifier(get_namespace_name(st_nsp), "rate_limit_profiles"));
	rl_become_owner(&as, st_profiles_owner);
	if (SPI_connect() != SPI_OK_CONNECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR), errmsg("feed_fusion: SPI_connect failed")));
	if (SPI_execute(sql, true, 0) != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("feed_fusion: could not read rate_limit_profiles")));
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
	rl_restore_user(&as);
	st_profiles_gen = gen;		/* an invalidation during the load keeps it stale */
}

/* Profile `scope`, else 'standard' (else the seeded 60 per minute); *name gets the one used. */
static RlLimits
rl_profile(const char *scope, const char **name)
{
	RlProfile  *p = NULL;

	if (st_profiles_gen != st_inval_gen || st_profiles == NULL)
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
	char	   *counters = quote_qualified_identifier(get_namespace_name(st_nsp),
													  "rate_limit_counters");
	SPIPlanPtr	plan = SPI_prepare(psprintf(fmt, counters, counters), nargs, types);

	if (plan == NULL || SPI_keepplan(plan) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("feed_fusion: could not prepare rate limiter statement: %s",
						SPI_result_code_string(SPI_result))));
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
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR), errmsg("feed_fusion: rate limiter read failed")));
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
	Relation	rel = table_open(st_counters_rel, AccessShareLock);

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
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR), errmsg("feed_fusion: rate limiter sweep failed")));
}

/* Table mode: one GCRA call on `key` through rate_limit_counters. */
static void
rl_tbl_take(const char *what, const char *key, int64 now, const RlLimits *lim, int32 cost,
			RlResult *res)
{
	Datum		keyd = CStringGetTextDatum(key);
	RlAsOwner	as;

	if (cost > 0)
		rl_require_writable(what);
	rl_become_owner(&as, st_counters_owner);
	if (SPI_connect() != SPI_OK_CONNECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR), errmsg("feed_fusion: SPI_connect failed")));
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
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("feed_fusion: rate limiter update failed")));
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
	rl_restore_user(&as);
}

/* One call on the key (len bytes, not necessarily NUL-terminated) in the active mode. */
static void
rl_take(const char *what, const char *key, int len, const RlLimits *lim, int32 cost, RlResult *res)
{
	int64		now = rl_now_ns();

	if (rl_shm_available())
		rl_shm_take(rl_shm_hash(key, len), now, lim, cost, res);
	else
		rl_tbl_take(what, pnstrdup(key, len), now, lim, cost, res);
}

/* service_role only (superuser too): raise 42501 otherwise. */
static void
rl_require_service_role(const char *fn)
{
	if (ff_acts_as_service_role())
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for function %s", fn),
			 errdetail("Only service_role may call it.")));
}

/* NULL argument → 22004 (never allow on bad input). */
static void
rl_not_null(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("rate limit %s must not be NULL", name)));
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
	Oid			nsp = rl_fn_nsp(fcinfo);
	char	   *scope;
	char	   *key;
	const char *profile;
	int32		cost;
	RlLimits	lim;
	RlResult	res;

	rl_not_null(fcinfo, 0, "scope");
	rl_not_null(fcinfo, 1, "cost");
	scope = text_to_cstring(PG_GETARG_TEXT_PP(0));
	cost = PG_GETARG_INT32(1);
	rl_ensure_state(nsp);
	lim = rl_profile(scope, &profile);
	if (cost < 0 || cost > lim.capacity)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rate limit cost must be between 0 and the capacity (%d) of profile \"%s\", got %d",
						lim.capacity, profile, cost)));
	key = psprintf("%s:%s", profile, ff_current_subject());
	rl_take("check_rate_limit", key, strlen(key), &lim, cost, &res);
	PG_RETURN_BOOL(res.allowed);
}

/* Per-call-site state of rate_limit_take's one-row value-per-call SRF. */
typedef struct RlSrf
{
	TupleDesc	tupdesc;
	bool		pending;		/* row returned, end-of-set not yet returned */
} RlSrf;

/* Executor shutdown/rescan: the next call starts a new set. */
static void
rl_srf_shutdown(Datum arg)
{
	((RlSrf *) DatumGetPointer(arg))->pending = false;
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
	text	   *key;
	Oid			nsp;
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
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		TupleDesc	td;

		if (get_call_result_type(fcinfo, NULL, &td) != TYPEFUNC_COMPOSITE)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("rate_limit_take: return type must be a row type")));
		srf = palloc0(sizeof(RlSrf));
		srf->tupdesc = BlessTupleDesc(td);
		fcinfo->flinfo->fn_extra = srf;
		MemoryContextSwitchTo(old);
	}
	if (srf->pending)
	{
		srf->pending = false;
		UnregisterExprContextCallback(rsi->econtext, rl_srf_shutdown, PointerGetDatum(srf));
		rsi->isDone = ExprEndResult;
		PG_RETURN_NULL();
	}

	rl_require_service_role("rate_limit_take");
	rl_not_null(fcinfo, 0, "key");
	rl_not_null(fcinfo, 1, "capacity");
	rl_not_null(fcinfo, 2, "period");
	rl_not_null(fcinfo, 3, "cost");
	rl_check_limits(PG_GETARG_INT32(1), PG_GETARG_INTERVAL_P(2), PG_GETARG_INT32(3), &lim);
	nsp = rl_fn_nsp(fcinfo);
	if (!rl_shm_available())
		rl_ensure_state(nsp);
	key = PG_GETARG_TEXT_PP(0);
	rl_take("rate_limit_take", VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), &lim, PG_GETARG_INT32(3), &res);

	values[0] = BoolGetDatum(res.allowed);
	values[1] = Int32GetDatum(res.remaining);
	values[2] = Int64GetDatum(rl_ceil_ms(res.retry_after_ns));
	values[3] = Int64GetDatum(rl_ceil_ms(res.reset_after_ns));
	srf->pending = true;
	RegisterExprContextCallback(rsi->econtext, rl_srf_shutdown, PointerGetDatum(srf));
	rsi->isDone = ExprMultipleResult;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(srf->tupdesc, values, nulls)));
}

/* SQL: rate_limit_reset(p_key text) RETURNS boolean — true when the bucket was not full. */
Datum
rate_limit_reset(PG_FUNCTION_ARGS)
{
	Oid			nsp;
	char	   *key;
	int64		now = rl_now_ns();
	bool		live = false;

	rl_require_service_role("rate_limit_reset");
	rl_not_null(fcinfo, 0, "key");
	key = text_to_cstring(PG_GETARG_TEXT_PP(0));
	nsp = rl_fn_nsp(fcinfo);
	if (rl_shm_available())
		PG_RETURN_BOOL(rl_shm_reset(rl_shm_hash(key, strlen(key)), now));

	rl_ensure_state(nsp);
	rl_require_writable("rate_limit_reset");
	{
		Oid			types[1] = {TEXTOID};
		Datum		v = CStringGetTextDatum(key);
		RlAsOwner	as;
		uint64		i;

		rl_become_owner(&as, st_counters_owner);
		if (SPI_connect() != SPI_OK_CONNECT)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR), errmsg("feed_fusion: SPI_connect failed")));
		if (plan_reset == NULL)
			plan_reset = rl_prepare("DELETE FROM %s WHERE key OPERATOR(pg_catalog.=) $1 RETURNING tat", 1, types);
		if (SPI_execute_plan(plan_reset, &v, NULL, false, 0) != SPI_OK_DELETE_RETURNING)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("feed_fusion: rate limiter reset failed")));
		for (i = 0; i < SPI_processed; i++)
		{
			bool		isnull;
			int64		tat = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
														  SPI_tuptable->tupdesc, 1, &isnull));

			live = live || (!isnull && tat > now);
		}
		SPI_finish();
		rl_restore_user(&as);
	}
	PG_RETURN_BOOL(live);
}

/* SQL: _ff_rate_limiter_info(OUT mode text, OUT detail jsonb) — for ff_status(). */
Datum
ff_rate_limiter_info(PG_FUNCTION_ARGS)
{
	TupleDesc	td;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	char	   *detail;

	if (get_call_result_type(fcinfo, NULL, &td) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("_ff_rate_limiter_info: return type must be a row type")));
	if (rl_shm_available())
	{
		values[0] = CStringGetTextDatum("shared_memory");
		detail = rl_shm_detail_json();
	}
	else
	{
		RlAsOwner	as;
		Oid			types[1] = {INT8OID};
		Datum		v = Int64GetDatum(rl_now_ns());
		MemoryContext caller = CurrentMemoryContext;

		rl_ensure_state(rl_fn_nsp(fcinfo));
		values[0] = CStringGetTextDatum("table");
		rl_become_owner(&as, st_counters_owner);
		if (SPI_connect() != SPI_OK_CONNECT)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR), errmsg("feed_fusion: SPI_connect failed")));
		if (SPI_execute_with_args(psprintf("SELECT pg_catalog.jsonb_build_object('rows', pg_catalog.count(*), "
										   "'live_keys', pg_catalog.count(*) FILTER (WHERE tat OPERATOR(pg_catalog.>) $1), "
										   "'algorithm', 'gcra', 'sweep_every_calls', %d, "
										   "'sweep_blocks', %d, 'sweep_grace_s', %d)::pg_catalog.text FROM %s",
										   RL_GC_EVERY, RL_GC_BLOCKS,
										   (int) (RL_GC_GRACE_NS / 1000000000),
										   quote_qualified_identifier(get_namespace_name(st_nsp),
																	  "rate_limit_counters")),
								  1, types, &v, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("feed_fusion: could not read rate_limit_counters")));
		detail = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		detail = MemoryContextStrdup(caller, detail);
		SPI_finish();
		rl_restore_user(&as);
	}
	values[1] = DirectFunctionCall1(jsonb_in, CStringGetDatum(detail));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(td, values, nulls)));
}

/* Trigger on rate_limit_profiles: every backend re-reads profiles after this commits. */
Datum
ff_rate_limit_profiles_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("_ff_rate_limit_profiles_changed must be called as a trigger")));
	CacheInvalidateRelcache(td->tg_relation);
	PG_RETURN_POINTER(NULL);
}
