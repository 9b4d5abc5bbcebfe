/*
 * feed_activity.c — per-entity activity bounds, kept by row triggers, read by the feed.
 *
 * What: _ff_entity_activity holds per entity an upper bound of the rank_key of its
 *       live posts (post_key) and of its events (event_key), -Infinity when it has
 *       none.  _ff_entity_activity_touch() is the row trigger on entities (a new
 *       entity gets a row of -Infinity), posts and events (an inserted or updated row
 *       raises its entity's bound to its rank_key).
 * Why:  the network source visits followed entities in order of these bounds and
 *       stops at the first one that cannot reach the page (feed_sources.c), so a
 *       viewer following thousands of quiet entities pays one lookup per follow, not
 *       index descents into every posts partition per follow and per page.  Bounds
 *       only grow: a deleted post or an ended event leaves an overestimate, which costs
 *       a visit, never an item.  An entity without a row counts as unknown and is
 *       always visited, so a load with triggers disabled is slower, never wrong.
 * Locking: the bound is read first and the row upserted only when it rises, so most
 *       updates of a post take no lock here; two transactions raising one entity's
 *       bound serialise on its row.  A subtransaction remembers the bounds it made
 *       sure of, so a bulk load pays one lookup per entity rather than per row.  The write runs as the extension owner under
 *       SECURITY_RESTRICTED_OPERATION (ff_run_as_owner), after ff_check_own_triggers.
 */
#include "postgres.h"

#include <math.h>

#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/uuid.h"

#include "context.h"
#include "feed.h"

PG_FUNCTION_INFO_V1(ff_entity_activity_touch);

typedef enum ActKind
{
	ACT_POST = 0,
	ACT_EVENT = 1,
	ACT_ENTITY = 2
} ActKind;

/* Saved plans: bound of a post/event column, raise it, and the new-entity row. */
static SPIPlanPtr plan_peek[2];
static SPIPlanPtr plan_raise[2];
static SPIPlanPtr plan_new;
static Oid	plans_relid = InvalidOid;	/* _ff_entity_activity the plans were made for */

/* One write the trigger asks for, carried into the owner's context. */
typedef struct ActWrite
{
	ActKind		kind;
	pg_uuid_t	entity;
	double		key;
	double		result;			/* the bound afterwards (>= key) */
} ActWrite;

/*
 * Bounds the current subtransaction has already made sure of, so a bulk load of many
 * posts per entity pays one lookup per entity, not per row.  Valid only inside the
 * subtransaction that recorded them (a rollback may undo a raise): a new transaction
 * or subtransaction starts an empty set.
 */
typedef struct EnsuredKey
{
	pg_uuid_t	entity;
	int			kind;
} EnsuredKey;
typedef struct Ensured
{
	EnsuredKey	k;
	double		bound;
} Ensured;
static HTAB *ensured = NULL;	/* in TopTransactionContext */
static LocalTransactionId ensured_lxid = InvalidLocalTransactionId;
static SubTransactionId ensured_subxid = InvalidSubTransactionId;

/* The set for the current subtransaction (created empty when it is new). */
static HTAB *
ensured_set(void)
{
	HASHCTL		ctl;

	if (ensured != NULL && ensured_lxid == MyProc->lxid &&
		ensured_subxid == GetCurrentSubTransactionId())
		return ensured;
	if (ensured != NULL && ensured_lxid == MyProc->lxid)
		hash_destroy(ensured);	/* same transaction: its memory is still there */
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(EnsuredKey);
	ctl.entrysize = sizeof(Ensured);
	ctl.hcxt = TopTransactionContext;
	ensured = hash_create("feed_fusion ensured bounds", 256, &ctl,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ensured_lxid = MyProc->lxid;
	ensured_subxid = GetCurrentSubTransactionId();
	return ensured;
}

/* Prepare and keep one plan. */
static SPIPlanPtr
keep_plan(const char *sql, int nargs, Oid *types)
{
	SPIPlanPtr	p = SPI_prepare(sql, nargs, types);

	if (p == NULL || SPI_keepplan(p) != 0)
		elog(ERROR, "feed_fusion: cannot prepare activity plan: %s",
			 SPI_result_code_string(SPI_result));
	return p;
}

/* (Re)build the plans when the activity table is new to this backend. */
static void
prepare_plans(Oid relid)
{
	static const char *const col[2] = {"post_key", "event_key"};
	Oid			types[2] = {UUIDOID, FLOAT8OID};
	char	   *tbl;

	if (plans_relid == relid)
		return;
	for (int i = 0; i < 2; i++)
	{
		if (plan_peek[i])
			SPI_freeplan(plan_peek[i]);
		if (plan_raise[i])
			SPI_freeplan(plan_raise[i]);
		plan_peek[i] = plan_raise[i] = NULL;
	}
	if (plan_new)
		SPI_freeplan(plan_new);
	plan_new = NULL;
	plans_relid = InvalidOid;

	tbl = ff_qualified("_ff_entity_activity");
	for (int i = 0; i < 2; i++)
	{
		plan_peek[i] = keep_plan(psprintf("SELECT a.%s FROM %s a WHERE a.entity_id = $1",
										  col[i], tbl), 1, types);
		plan_raise[i] = keep_plan(psprintf("INSERT INTO %s AS a (entity_id, %s) VALUES ($1, $2) "
										   "ON CONFLICT (entity_id) DO UPDATE SET %s = "
										   "GREATEST(a.%s, excluded.%s), raised_xid = pg_catalog.pg_current_xact_id()",
										   tbl, col[i], col[i], col[i], col[i]), 2, types);
	}
	plan_new = keep_plan(psprintf("INSERT INTO %s (entity_id) VALUES ($1) "
								  "ON CONFLICT (entity_id) DO NOTHING", tbl), 1, types);
	plans_relid = relid;
}

/* The current bound of `w`'s column, or NaN when the entity has no row. Caller is in SPI. */
static double
current_bound(const ActWrite *w)
{
	Datum		arg = UUIDPGetDatum(&w->entity);
	bool		isnull;
	double		v = NAN;

	if (SPI_execute_plan(plan_peek[w->kind], &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "feed_fusion: activity lookup failed");
	if (SPI_processed == 1)
		v = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return v;
}

/* The write itself, run as the extension owner. */
static void
activity_write(void *arg)
{
	ActWrite   *w = (ActWrite *) arg;
	Datum		vals[2];
	double		cur;
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "feed_fusion: SPI_connect failed");
	prepare_plans(ff_extension_relid(FF_REL_ENTITY_ACTIVITY));
	vals[0] = UUIDPGetDatum(&w->entity);
	if (w->kind == ACT_ENTITY)
		rc = SPI_execute_plan(plan_new, vals, NULL, false, 0);
	else
	{
		cur = current_bound(w);
		if (!isnan(cur) && cur >= w->key)
		{
			w->result = cur;
			SPI_finish();
			return;				/* already covered: no write, no row lock */
		}
		w->result = w->key;
		vals[1] = Float8GetDatum(w->key);
		rc = SPI_execute_plan(plan_raise[w->kind], vals, NULL, false, 0);
	}
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "feed_fusion: activity write failed: %s", SPI_result_code_string(rc));
	SPI_finish();
}

/* Value of column `name` of `tup`; *isnull set.  SQLSTATE 42703 if the table lacks it. */
static Datum
column(TriggerData *td, HeapTuple tup, const char *name, bool *isnull)
{
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	int			att = SPI_fnumber(desc, name);

	if (att <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("_ff_entity_activity_touch: table \"%s\" has no column \"%s\"",
						RelationGetRelationName(td->tg_relation), name)));
	return SPI_getbinval(tup, desc, att, isnull);
}

/* What the trigger was created for: its one argument, entity | post | event. */
static ActKind
trigger_kind(TriggerData *td)
{
	const char *a = td->tg_trigger->tgnargs == 1 ? td->tg_trigger->tgargs[0] : "";

	if (strcmp(a, "post") == 0)
		return ACT_POST;
	if (strcmp(a, "event") == 0)
		return ACT_EVENT;
	if (strcmp(a, "entity") == 0)
		return ACT_ENTITY;
	ereport(ERROR,
			(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
			 errmsg("_ff_entity_activity_touch needs one argument: entity, post or event")));
	return ACT_ENTITY;			/* not reached */
}

/*
 * _ff_entity_activity_touch(kind): AFTER INSERT OR UPDATE ... FOR EACH ROW on entities,
 * posts and events.  Raises the row's entity bound (posts: live rows only).
 */
Datum
ff_entity_activity_touch(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	HeapTuple	tup;
	ActWrite	w;
	EnsuredKey	k;
	Ensured    *e;
	bool		isnull;
	Datum		d;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!TRIGGER_FIRED_AFTER(td->tg_event) || TRIGGER_FIRED_BY_DELETE(td->tg_event) ||
		TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("_ff_entity_activity_touch must be fired AFTER INSERT OR UPDATE FOR EACH ROW")));
	tup = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	w.kind = trigger_kind(td);
	w.key = 0;
	if (w.kind == ACT_POST)
	{
		(void) column(td, tup, "deleted_at", &isnull);
		if (!isnull)
			return PointerGetDatum(NULL);	/* a deleted post raises nothing */
	}
	d = column(td, tup, w.kind == ACT_POST ? "author_entity_id" :
			   w.kind == ACT_EVENT ? "host_entity_id" : "id", &isnull);
	if (isnull)
		return PointerGetDatum(NULL);
	memcpy(&w.entity, DatumGetUUIDP(d), sizeof(pg_uuid_t));
	memset(&k, 0, sizeof(k));
	k.entity = w.entity;
	k.kind = w.kind;
	if (w.kind != ACT_ENTITY)
	{
		d = column(td, tup, "rank_key", &isnull);
		if (isnull)
			return PointerGetDatum(NULL);
		w.key = DatumGetFloat8(d);
		e = hash_search(ensured_set(), &k, HASH_FIND, NULL);
		if (e != NULL && e->bound >= w.key)
			return PointerGetDatum(NULL);	/* made sure of earlier in this subtransaction */
	}
	ff_check_own_triggers(ff_extension_relid(FF_REL_ENTITY_ACTIVITY));
	ff_run_as_owner(activity_write, &w);
	if (w.kind != ACT_ENTITY)
	{
		e = hash_search(ensured_set(), &k, HASH_ENTER, NULL);
		e->bound = w.result;
	}
	return PointerGetDatum(NULL);
}

/* ----------------------------------------------------------------------
 * Reader: the bounds of a viewer's followed entities, from a per-backend cache
 *
 * A new cache takes the whole table in one scan when the planner's estimate says it
 * fits (then a miss means "no row"); otherwise entries are filled on first use (one
 * `= ANY` query for the misses).  Either way they are kept exact
 * across transactions by deltas: every change to a row stamps raised_xid with its
 * transaction, and each page re-reads the rows with raised_xid >= the snapshot xmin of
 * the previous read — every transaction below that xmin had ended, so its committed
 * changes were visible then; later ones show up in a later delta.  A delta row
 * replaces the entry (it is the newer truth).  Too long a delta, or too many entries,
 * empties the cache instead.  Deleted entities leave an entry behind: harmless, nobody
 * follows them any more.
 * ---------------------------------------------------------------------- */

#define ACT_CACHE_MAX	131072	/* entries (~6 MB) before the cache is emptied */
#define ACT_DELTA_MAX	4096	/* changed rows a delta may bring before it empties it */

typedef struct ActEntry
{
	pg_uuid_t	id;				/* hash key */
	bool		known;			/* false: no row (always visited) */
	double		key[2];			/* post and event bounds */
} ActEntry;

static HTAB *act_cache = NULL;
static Oid	act_cache_relid = InvalidOid;
static bool act_cache_primed = false;	/* act_cache_xmin is meaningful */
static bool act_cache_complete = false; /* holds every row: a miss means "no row" */
static uint64 act_cache_xmin = 0;	/* changes by transactions below it are in */
static SPIPlanPtr plan_xmin,
			plan_delta,
			plan_fetch,
			plan_all;
static Oid	reader_relid = InvalidOid;

/* Empty (or create) the cache. */
static void
cache_reset(void)
{
	HASHCTL		ctl;

	if (act_cache)
		hash_destroy(act_cache);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(pg_uuid_t);
	ctl.entrysize = sizeof(ActEntry);
	act_cache = hash_create("feed_fusion activity bounds", 1024, &ctl, HASH_ELEM | HASH_BLOBS);
	act_cache_primed = false;
	act_cache_complete = false;
}

/* The reader's plans, for the activity table `relid`. */
static void
prepare_reader(Oid relid)
{
	Oid			t_xid8[1] = {XID8OID};
	Oid			t_ids[1] = {UUIDARRAYOID};
	char	   *tbl;

	if (reader_relid == relid)
		return;
	if (plan_xmin)
		SPI_freeplan(plan_xmin);
	if (plan_delta)
		SPI_freeplan(plan_delta);
	if (plan_fetch)
		SPI_freeplan(plan_fetch);
	if (plan_all)
		SPI_freeplan(plan_all);
	plan_xmin = plan_delta = plan_fetch = plan_all = NULL;
	reader_relid = InvalidOid;
	tbl = ff_qualified("_ff_entity_activity");
	plan_xmin = keep_plan("SELECT pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())",
						  0, NULL);
	plan_delta = keep_plan(psprintf("SELECT a.entity_id, a.post_key, a.event_key FROM %s a "
									"WHERE a.raised_xid >= $1 LIMIT %d", tbl, ACT_DELTA_MAX + 1),
						   1, t_xid8);
	plan_fetch = keep_plan(psprintf("SELECT a.entity_id, a.post_key, a.event_key FROM %s a "
									"WHERE a.entity_id = ANY ($1)", tbl), 1, t_ids);
	/* the whole table, when the planner's estimate says it fits (one scan per backend) */
	plan_all = keep_plan(psprintf("SELECT a.entity_id, a.post_key, a.event_key FROM %s a "
								  "WHERE (SELECT c.reltuples FROM pg_catalog.pg_class c "
								  "WHERE c.oid = %u) BETWEEN 0 AND %d LIMIT %d",
								  tbl, relid, ACT_CACHE_MAX / 2, ACT_CACHE_MAX / 2 + 1), 0, NULL);
	reader_relid = relid;
}

/* Put the rows of the last SPI query (entity_id, post_key, event_key) into the cache. */
static void
cache_store_rows(void)
{
	TupleDesc	td = SPI_tuptable->tupdesc;

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		bool		isnull;
		ActEntry   *e;

		e = hash_search(act_cache, DatumGetUUIDP(SPI_getbinval(tup, td, 1, &isnull)),
						HASH_ENTER, NULL);
		e->known = true;
		e->key[0] = DatumGetFloat8(SPI_getbinval(tup, td, 2, &isnull));
		e->key[1] = DatumGetFloat8(SPI_getbinval(tup, td, 3, &isnull));
	}
}

/*
 * Bring the cache up to the current snapshot: apply the rows changed since the last
 * read (replacing only entries we hold would be enough; entering them is as cheap).
 */
static void
cache_catch_up(void)
{
	uint64		xmin;
	bool		isnull;
	Datum		arg;

	if (SPI_execute_plan(plan_xmin, NULL, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "feed_fusion: snapshot xmin query failed");
	xmin = DatumGetUInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	if (act_cache_primed && hash_get_num_entries(act_cache) > 0)
	{
		arg = UInt64GetDatum(act_cache_xmin);
		if (SPI_execute_plan(plan_delta, &arg, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "feed_fusion: activity delta query failed");
		if (SPI_processed > ACT_DELTA_MAX)
			cache_reset();
		else
			cache_store_rows();
		SPI_freetuptable(SPI_tuptable);
	}
	if (hash_get_num_entries(act_cache) > ACT_CACHE_MAX)
		cache_reset();
	if (!act_cache_primed)
	{
		/* a new cache: take every row at once if the table is small enough */
		if (SPI_execute_plan(plan_all, NULL, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "feed_fusion: activity load failed");
		cache_store_rows();
		act_cache_complete = SPI_processed > 0 && SPI_processed <= ACT_CACHE_MAX / 2;
		SPI_freetuptable(SPI_tuptable);
	}
	act_cache_xmin = xmin;
	act_cache_primed = true;
}

/*
 * The cache entries of ids[n], looking up the missing ones with one query (an entity
 * without a row becomes an unknown entry).  Entries do not move until the next reset.
 */
static ActEntry **
cache_fill(Datum *ids, int n)
{
	ActEntry  **ent = palloc(sizeof(ActEntry *) * Max(n, 1));
	int		   *miss = palloc(sizeof(int) * Max(n, 1));
	Datum	   *missid = palloc(sizeof(Datum) * Max(n, 1));
	int			nmiss = 0;
	Datum		arg;

	for (int i = 0; i < n; i++)
	{
		ent[i] = hash_search(act_cache, DatumGetUUIDP(ids[i]), HASH_FIND, NULL);
		if (ent[i] == NULL)
		{
			miss[nmiss] = i;
			missid[nmiss++] = ids[i];
		}
	}
	if (nmiss > 0 && !act_cache_complete)
	{
		arg = PointerGetDatum(construct_array(missid, nmiss, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
		if (SPI_execute_plan(plan_fetch, &arg, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "feed_fusion: activity lookup failed");
		cache_store_rows();
		SPI_freetuptable(SPI_tuptable);
	}
	if (nmiss > 0)
	{
		for (int k = 0; k < nmiss; k++)
		{
			bool		found;
			ActEntry   *e = hash_search(act_cache, DatumGetUUIDP(missid[k]), HASH_ENTER, &found);

			if (!found)
			{
				/* no row: unknown, visited every time until a row shows up in a delta */
				e->known = false;
				e->key[0] = e->key[1] = INFINITY;
			}
			ent[miss[k]] = e;
		}
	}
	pfree(miss);
	pfree(missid);
	return ent;
}

/* Order candidate indexes by their bound (arg: the bounds), best first. */
static int
cand_cmp(const void *a, const void *b, void *arg)
{
	const double *keys = (const double *) arg;
	double		ka = keys[*(const int *) a];
	double		kb = keys[*(const int *) b];

	return (ka > kb) ? -1 : (ka < kb) ? 1 : 0;
}

/*
 * The viewer's network candidates (followed entities minus own, with their bounds; entities that have
 * neither posts nor events are left out) and, per table, the order to visit them in.
 * Runs inside the feed's SPI connection, as the extension owner.
 */
void
ff_feed_load_candidates(FeedQuery *q, const char *schema)
{
	Oid			relid = ff_extension_relid(FF_REL_ENTITY_ACTIVITY);
	Datum	   *ids;
	ActEntry  **ent;
	int			n = 0;
	MemoryContext old;

	if (act_cache == NULL || act_cache_relid != relid)
	{
		cache_reset();
		act_cache_relid = relid;
	}
	prepare_reader(relid);
	cache_catch_up();
	ids = palloc(sizeof(Datum) * Max(q->nfol, 1));
	for (int i = 0; i < q->nfol; i++)
		if (!ff_uuid_in(q->own_ids, q->nown, &q->fol[i]))
			ids[n++] = UUIDPGetDatum(&q->fol[i]);
	ent = cache_fill(ids, n);

	old = MemoryContextSwitchTo(q->mcxt);
	q->cand_id = palloc(sizeof(pg_uuid_t) * Max(n, 1));
	for (int w = 0; w < 2; w++)
	{
		q->cand_key[w] = palloc(sizeof(double) * Max(n, 1));
		q->cand_order[w] = palloc(sizeof(int) * Max(n, 1));
		q->ncand_order[w] = 0;
	}
	MemoryContextSwitchTo(old);
	q->ncand = 0;
	for (int i = 0; i < n; i++)
	{
		ActEntry   *e = ent[i];
		int			c = q->ncand;

		if (e->key[0] == -INFINITY && e->key[1] == -INFINITY)
			continue;
		memcpy(&q->cand_id[c], DatumGetUUIDP(ids[i]), sizeof(pg_uuid_t));
		for (int w = 0; w < 2; w++)
		{
			q->cand_key[w][c] = e->key[w];
			if (e->key[w] > -INFINITY)
				q->cand_order[w][q->ncand_order[w]++] = c;
		}
		q->ncand++;
	}
	for (int w = 0; w < 2; w++)
		qsort_arg(q->cand_order[w], q->ncand_order[w], sizeof(int), cand_cmp, q->cand_key[w]);
}
