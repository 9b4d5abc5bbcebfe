/*
 * flags.c — feature flags: per-backend cache with commit-time invalidation.
 *
 * What: flags_for(), flag_enabled() and the C API ff_flag_enabled_for() the feed
 *       uses (evaluation rules: docs/flags.md).
 *
 * Why / design:
 *   Each backend keeps the whole flag table in memory (it is small) and evaluates
 *   flags without any query.  The copy stays valid until the table changes:
 *   - the config-change trigger on feature_flags (INSERT/UPDATE/DELETE/TRUNCATE,
 *     ENABLE ALWAYS; context.c) queues a relcache invalidation for the table;
 *   - context.c's relcache callback bumps the table's generation, and the copy is
 *     current only while the generation it was read at is still the latest.
 *   Invalidations travel with the transaction: other backends receive them only
 *   after the commit is visible (each call first accepts pending messages: one
 *   shared-memory flag check when there are none, so even a backend inside an
 *   open transaction sees a commit at its next call); the writing backend applies them locally at its
 *   next CommandCounterIncrement (so its own change is seen at once), and an abort
 *   replays them locally too (so a cache filled from a rolled-back change is
 *   dropped).  Hot standbys get them from the commit record during WAL replay.
 *   ALTER/DROP of the table (and DROP/CREATE EXTENSION) send relcache invalidations
 *   of their own; the table's oid comes from context.c, which forgets it on any of
 *   those, so a re-created extension is picked up.
 *
 *   The fill is one sequential scan of feature_flags done in C under a fresh
 *   (latest) snapshot, not SQL: it needs no privilege on the table (anon has
 *   none), ignores search_path, is not subject to RLS, and only the evaluated
 *   booleans ever leave this file.  The latest snapshot (not the transaction's)
 *   matters: a REPEATABLE READ transaction that consumed an invalidation must not
 *   cache its old snapshot's rows as if they were current.  An invalidation that
 *   arrives while a fill runs leaves the new copy stale (generation check),
 *   so a race costs at most one extra fill, never a stale answer.
 *
 * Locking: AccessShareLock on feature_flags during a fill (held to end of
 *   transaction, as for any read).  All state is backend-local.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "feed_fusion.h"
#include "context.h"
#include "flags.h"
#include "status.h"

PG_FUNCTION_INFO_V1(ff_flags_for);
PG_FUNCTION_INFO_V1(ff_flag_enabled);
PG_FUNCTION_INFO_V1(ff_flags_cache_info);

/* One cached flag row: only what evaluation needs. */
typedef struct FlagEntry
{
	char	   *key;			/* NUL-terminated, valid key syntax */
	int			keylen;
	bool		enabled;
	int			rollout;		/* 0..100 */
	int8		constant;		/* -1: depends on the user; else the answer for everyone */
	int			nallow;
	int			ndeny;
	pg_uuid_t  *allow;			/* sorted, duplicates removed, NULLs dropped */
	pg_uuid_t  *deny;
} FlagEntry;

/* The cache (backend-local; lives in cache_cxt under CacheMemoryContext). */
static MemoryContext cache_cxt = NULL;
static FlagEntry *cache_flags = NULL;
static int	cache_nflags = 0;
static uint64 cache_gen = 0;	/* ff_config_generation() the copy is current for; 0: none */

/* Counters for ff_status() (this backend only). */
static uint64 stat_fills = 0;
static uint64 stat_hits = 0;

/* Is the copy current (no change to feature_flags reached us since it was read)? */
static inline bool
cache_current(void)
{
	return cache_gen != 0 && cache_gen == ff_config_generation(FF_REL_FEATURE_FLAGS);
}

/* qsort/bsearch comparator for uuids (byte order, as uuid_cmp). */
static int
uuid_cmp_raw(const void *a, const void *b)
{
	return memcmp(a, b, UUID_LEN);
}

/* qsort comparator for entries by key (keys are ASCII: byte order). */
static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const FlagEntry *) a)->key, ((const FlagEntry *) b)->key);
}

/* Copy the non-NULL uuids of a uuid[] into cxt, sorted and unique; returns count. */
static int
copy_uuid_array(Datum d, MemoryContext cxt, pg_uuid_t **out)
{
	ArrayType  *arr = DatumGetArrayTypeP(d);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			m = 0;
	pg_uuid_t  *res;

	if (ARR_ELEMTYPE(arr) != UUIDOID)
		elog(ERROR, "feature_flags user lists must be uuid[]");
	deconstruct_array(arr, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR, &elems, &nulls, &n);
	res = MemoryContextAlloc(cxt, sizeof(pg_uuid_t) * Max(n, 1));
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			res[m++] = *DatumGetUUIDP(elems[i]);
	if (m > 1)
	{
		int			u = 1;

		qsort(res, m, sizeof(pg_uuid_t), uuid_cmp_raw);
		for (int i = 1; i < m; i++)
			if (memcmp(&res[i], &res[u - 1], UUID_LEN) != 0)
				res[u++] = res[i];
		m = u;
	}
	*out = res;
	return m;
}

/* Attribute number of a required column of feature_flags, with its type checked. */
static AttrNumber
flag_column(TupleDesc desc, const char *name, Oid type)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
		{
			if (att->atttypid != type)
				break;
			return att->attnum;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("table \"feature_flags\" has no column \"%s\" of type %s",
					name, format_type_be(type))));
	return InvalidAttrNumber;	/* keep the compiler quiet */
}

/*
 * The answer when it is the same for every user and for anonymous (-1 otherwise):
 * lets flag_enabled skip resolving the current user, the common case.
 */
static int8
flag_constant(const FlagEntry *f)
{
	if ((!f->enabled || f->rollout == 0) && f->nallow == 0)
		return 0;				/* off for users (deny only says off), off for anon */
	if (f->enabled && f->rollout == 100 && f->ndeny == 0)
		return 1;				/* on for users (allow only says on), on for anon */
	return -1;
}

/*
 * Read feature_flags into a fresh cache.  One scan under the latest snapshot; the
 * copy is current only if no relevant invalidation arrived after the snapshot could
 * have been taken (the generation did not move).
 */
static void
fill_cache(void)
{
	Oid			relid = ff_extension_relid(FF_REL_FEATURE_FLAGS);
	Relation	rel;
	TupleDesc	desc;
	AttrNumber	a_key,
				a_enabled,
				a_rollout,
				a_allow,
				a_deny;
	MemoryContext newcxt;
	MemoryContext oldcxt;
	FlagEntry  *flags;
	int			nflags = 0;
	int			cap = 16;
	uint64		start;
	bool		parallel = IsInParallelMode();
	Snapshot	snap;
	TableScanDesc scan;
	TupleTableSlot *slot;

	/* Opening the table processes pending invalidations (they predate our snapshot). */
	rel = table_open(relid, AccessShareLock);
	if (rel->rd_rel->relkind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", RelationGetRelationName(rel))));
	desc = RelationGetDescr(rel);
	a_key = flag_column(desc, "key", TEXTOID);
	a_enabled = flag_column(desc, "enabled", BOOLOID);
	a_rollout = flag_column(desc, "rollout_percent", INT4OID);
	a_allow = flag_column(desc, "allow_users", UUIDARRAYOID);
	a_deny = flag_column(desc, "deny_users", UUIDARRAYOID);

	/*
	 * Built in a transaction-lived context, adopted by CacheMemoryContext only on
	 * success: an error half-way frees it with the transaction.
	 */
	newcxt = AllocSetContextCreate(CurrentMemoryContext, "feed_fusion flags cache",
								   ALLOCSET_SMALL_SIZES);
	flags = MemoryContextAlloc(newcxt, sizeof(FlagEntry) * cap);

	start = ff_config_generation(FF_REL_FEATURE_FLAGS);
	/* Parallel mode forbids a new snapshot: use the query's, and do not keep the copy. */
	snap = RegisterSnapshot(parallel ? GetActiveSnapshot() : GetLatestSnapshot());
	scan = table_beginscan(rel, snap, 0, NULL);
	slot = table_slot_create(rel, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		FlagEntry  *f;
		bool		isnull;
		Datum		d;
		text	   *key;
		int			len;

		CHECK_FOR_INTERRUPTS();
		if (nflags == cap)
		{
			cap *= 2;
			flags = repalloc(flags, sizeof(FlagEntry) * cap);
		}
		f = &flags[nflags];
		memset(f, 0, sizeof(FlagEntry));

		d = slot_getattr(slot, a_key, &isnull);
		if (isnull)
			continue;
		key = DatumGetTextPP(d);
		len = VARSIZE_ANY_EXHDR(key);
		if (!ff_flag_key_valid(VARDATA_ANY(key), len))
			continue;			/* the CHECK forbids it; never match such a row */
		f->key = MemoryContextStrdup(newcxt, text_to_cstring(key));
		f->keylen = len;
		d = slot_getattr(slot, a_enabled, &isnull);
		f->enabled = !isnull && DatumGetBool(d);
		d = slot_getattr(slot, a_rollout, &isnull);
		f->rollout = isnull ? 0 : Min(Max(DatumGetInt32(d), 0), 100);
		d = slot_getattr(slot, a_allow, &isnull);
		f->nallow = isnull ? 0 : copy_uuid_array(d, newcxt, &f->allow);
		d = slot_getattr(slot, a_deny, &isnull);
		f->ndeny = isnull ? 0 : copy_uuid_array(d, newcxt, &f->deny);
		f->constant = flag_constant(f);
		nflags++;
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snap);
	table_close(rel, NoLock);

	if (nflags > 1)
		qsort(flags, nflags, sizeof(FlagEntry), entry_cmp);

	/* Swap in the new copy. */
	oldcxt = cache_cxt;
	MemoryContextSetParent(newcxt, CacheMemoryContext);
	cache_cxt = newcxt;
	cache_flags = flags;
	cache_nflags = nflags;
	cache_gen = parallel ? 0 : start;	/* stale at once if the generation moved */
	stat_fills++;
	if (oldcxt)
		MemoryContextDelete(oldcxt);
}

/* Make sure the cache is usable, filling it when stale. */
static inline void
ensure_cache(void)
{
	AcceptInvalidationMessages();	/* commits since our last lock: cheap when none */
	if (cache_current())
		stat_hits++;
	else
		fill_cache();
}

/* Cached entry for key[0..len), or NULL. */
static const FlagEntry *
find_flag(const char *key, int len)
{
	int			lo = 0;
	int			hi = cache_nflags - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		const FlagEntry *f = &cache_flags[mid];
		int			c = memcmp(f->key, key, Min(f->keylen, len));

		if (c == 0)
			c = f->keylen - len;
		if (c == 0)
			return f;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

/* Is u in the sorted list? */
static inline bool
uuid_listed(const pg_uuid_t *list, int n, const pg_uuid_t *u)
{
	return n > 0 && bsearch(u, list, n, sizeof(pg_uuid_t), uuid_cmp_raw) != NULL;
}

/* Evaluation of one flag (docs/flags.md) for user (NULL: anonymous); h may carry a hasher to reuse. */
static bool
eval_flag(const FlagEntry *f, const pg_uuid_t *user, FlagHasher *h)
{
	if (user == NULL)
		return f->enabled && f->rollout == 100;
	if (uuid_listed(f->deny, f->ndeny, user))
		return false;
	if (uuid_listed(f->allow, f->nallow, user))
		return true;
	if (!f->enabled || f->rollout <= 0)
		return false;
	if (f->rollout >= 100)
		return true;			/* every bucket (0..99) is < 100 */
	if (h)
		return ff_flag_hasher_bucket(h, f->key, f->keylen) < f->rollout;
	return ff_flag_bucket_of(f->key, f->keylen, user) < f->rollout;
}

/* Reject NULL or malformed keys with SQLSTATE 22023. */
static void
check_key(const char *key, int len)
{
	if (!ff_flag_key_valid(key, len))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid feature flag key \"%s\"", pnstrdup(key, len)),
				 errdetail("Flag keys match ^[a-z][a-z0-9_]{0,62}$.")));
}

/* C API (feed): flag `key` for `user` (NULL: anonymous); unknown key or no extension → dflt. */
bool
ff_flag_enabled_for(const char *key, const pg_uuid_t *user, bool dflt)
{
	const FlagEntry *f;
	int			len = strlen(key);

	if (ff_extension_if_installed() == NULL)
		return dflt;
	ensure_cache();
	if (!ff_flag_key_valid(key, len) || (f = find_flag(key, len)) == NULL)
		return dflt;
	return eval_flag(f, user, NULL);
}

/* flags_for body: all flags as {key: bool} for p_user (NULL: current user). */
static Datum
flags_for_impl(PG_FUNCTION_ARGS)
{
	pg_uuid_t	me;
	const pg_uuid_t *target;
	JsonbParseState *state = NULL;
	JsonbValue *res;
	FlagHasher	hasher = {0};

	if (PG_ARGISNULL(0))
		target = ff_current_user_uuid(&me) ? &me : NULL;
	else
	{
		/* service_role may name anyone; others only themselves. */
		target = PG_GETARG_UUID_P(0);
		if (!ff_acts_as_service_role() &&
			(!ff_current_user_uuid(&me) || memcmp(target, &me, UUID_LEN) != 0))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to read the feature flags of another user"),
					 errhint("Only service_role may pass a p_user other than the current user.")));
	}

	ensure_cache();
	hasher.user = target;
	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < cache_nflags; i++)
	{
		const FlagEntry *f = &cache_flags[i];
		JsonbValue	k;
		JsonbValue	v;

		k.type = jbvString;
		k.val.string.len = f->keylen;
		k.val.string.val = f->key;
		v.type = jbvBool;
		v.val.boolean = eval_flag(f, target, target ? &hasher : NULL);
		pushJsonbValue(&state, WJB_KEY, &k);
		pushJsonbValue(&state, WJB_VALUE, &v);
	}
	ff_flag_hasher_done(&hasher);
	res = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	PG_RETURN_JSONB_P(JsonbValueToJsonb(res));
}

/* SQL: flags_for(p_user uuid DEFAULT NULL) RETURNS jsonb, recorded as an RPC. */
FF_TRACKED_RPC(ff_flags_for, "flags_for", flags_for_impl)

/* flag_enabled body: one flag for the current user; unknown key → p_default. */
static Datum
flag_enabled_impl(PG_FUNCTION_ARGS)
{
	text	   *key;
	const char *k;
	int			len;
	const FlagEntry *f;
	pg_uuid_t	me;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("feature flag key must not be NULL")));
	key = PG_GETARG_TEXT_PP(0);
	k = VARDATA_ANY(key);
	len = VARSIZE_ANY_EXHDR(key);
	check_key(k, len);

	ensure_cache();
	f = find_flag(k, len);
	if (f == NULL)
	{
		if (PG_ARGISNULL(1))
			PG_RETURN_NULL();
		PG_RETURN_BOOL(PG_GETARG_BOOL(1));
	}
	if (f->constant >= 0)
		PG_RETURN_BOOL(f->constant == 1);
	PG_RETURN_BOOL(eval_flag(f, ff_current_user_uuid(&me) ? &me : NULL, NULL));
}

/* SQL: flag_enabled(p_key text, p_default boolean DEFAULT false) RETURNS boolean. */
FF_TRACKED_RPC(ff_flag_enabled, "flag_enabled", flag_enabled_impl)

/* SQL: _ff_flags_cache_info() RETURNS jsonb — this backend's cache state for ff_status(). */
Datum
ff_flags_cache_info(PG_FUNCTION_ARGS)
{
	FfStatus	st;
	bool		current = cache_current();

	ff_status_begin(&st);
	ff_status_text(&st, "cache", "backend");
	ff_status_bool(&st, "valid", current);
	ff_status_int(&st, "flags", current ? cache_nflags : 0);
	ff_status_int(&st, "fills", (int64) stat_fills);
	ff_status_int(&st, "hits", (int64) stat_hits);
	ff_status_int(&st, "invalidations", (int64) (ff_config_generation(FF_REL_FEATURE_FLAGS) - 1));
	PG_RETURN_JSONB_P(ff_status_end(&st));
}
