/*
 * feed_sources.c — the feed's source streams, read straight from rank_key indexes.
 *
 * What: saved SPI plans for every query the feed runs, and FeedStream, a keyset-paged
 *       window over one table's index in (rank_key DESC, id DESC) order (profile:
 *       created_at DESC, id DESC): ff_stream_head() returns the next unconsumed item,
 *       fetching a bounded batch `(key, id) < (last_key, last_id) ... LIMIT batch`
 *       when the window is empty.  Filters (hides, cart, deleted, ended, inactive,
 *       own entities, reels flag, created_at <= as_of) are applied in the query, at
 *       read time, so an item hidden after a cursor was issued never appears.
 * Why:  rank_key orders items by score at every moment, so each source is an index
 *       range scan whose cost follows the page, not the table.  posts is partitioned
 *       by month: since rank_key <= epoch(created_at)/172800 (base_score <= 1), every
 *       item older than `lo` has rank_key < epoch(lo)/172800, so a query bounded by
 *       created_at >= lo (runtime partition pruning on a generic plan) is exact for
 *       all rows with rank_key >= epoch(lo)/172800; rows below are dropped and the
 *       look-back widens (x4, then unbounded) only when a window yields nothing.
 *       Network with followed entities: by default the per-entity index scans
 *       (LATERAL over posts_author_rank_idx) of only those followed entities whose
 *       activity bound (feed_activity.c) can reach the batch, visited best bound
 *       first in doubling chunks (merge_rounds); or the global order filtered by the
 *       followed set (feed_fusion.feed_network_strategy).  Hides and the
 *       followed/own exclusion of discover are checked in C against sets read once
 *       per page; a skipped row still moves the stream's position.
 * Locking: none beyond the AccessShareLocks the queries take.  Plans are cached per
 *       backend and rebuilt when the extension's schema changes; plancache handles
 *       invalidation on DDL.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "feed_fusion.h"
#include "context.h"
#include "feed.h"

int			ff_feed_network_strategy = 0;
int			ff_feed_merge_max_follows = 100000;

static SPIPlanPtr plans[FP_COUNT];
static char *plans_schema = NULL;

#define HOME_NARGS 8
static Oid	home_types[HOME_NARGS] = {FLOAT8OID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID,
	UUIDARRAYOID, UUIDOID, INT4OID, BOOLOID};

#define PROF_NARGS 6
static Oid	prof_types[PROF_NARGS] = {TIMESTAMPTZOID, INT8OID, UUIDOID, TIMESTAMPTZOID,
	UUIDOID, INT4OID};

#define KIND_EXPR "CASE p.kind WHEN 'reel' THEN 1 ELSE 0 END"

/* Drop cached plans when the extension now lives in another schema. */
void
ff_feed_plans_reset_if_needed(const char *schema)
{
	int			i;

	if (plans_schema != NULL && strcmp(plans_schema, schema) == 0)
		return;
	for (i = 0; i < FP_COUNT; i++)
	{
		if (plans[i])
			SPI_freeplan(plans[i]);
		plans[i] = NULL;
	}
	if (plans_schema)
		pfree(plans_schema);
	plans_schema = MemoryContextStrdup(TopMemoryContext, schema);
}

/* SQL text of plan `id`, with every name qualified by `schema`. */
static char *
plan_sql(FeedPlanId id, const char *schema, int *nargs, Oid **types)
{
	char	   *posts = quote_qualified_identifier(schema, "posts");
	char	   *events = quote_qualified_identifier(schema, "events");
	char	   *listings = quote_qualified_identifier(schema, "listings");
	char	   *hides = quote_qualified_identifier(schema, "feed_hides");
	char	   *cart = quote_qualified_identifier(schema, "shopping_cart_items");
	char	   *follows = quote_qualified_identifier(schema, "follows");
	char	   *entities = quote_qualified_identifier(schema, "entities");
	*nargs = HOME_NARGS;
	*types = home_types;
	switch (id)
	{
		case FP_NET_POSTS_MERGE:
			return psprintf("SELECT x.id, x.kc, x.author_entity_id, x.rank_key, x.created_at "
							"FROM unnest($5::uuid[]) AS f(eid) CROSS JOIN LATERAL ("
							" SELECT p.id, " KIND_EXPR " AS kc, p.author_entity_id, p.rank_key, p.created_at"
							" FROM %s p WHERE p.author_entity_id = f.eid AND p.deleted_at IS NULL"
							" AND (p.rank_key, p.id) < ($1, $2) AND p.created_at >= $3 AND p.created_at <= $4"
							" ORDER BY p.rank_key DESC, p.id DESC LIMIT $7) x "
							"ORDER BY x.rank_key DESC, x.id DESC LIMIT $7", posts);
		case FP_NET_POSTS_FILTER:
			return psprintf("SELECT p.id, " KIND_EXPR ", p.author_entity_id, p.rank_key, p.created_at "
							"FROM %s p WHERE p.deleted_at IS NULL"
							" AND (p.rank_key, p.id) < ($1, $2) AND p.created_at >= $3 AND p.created_at <= $4"
							" AND (p.author_entity_id = ANY (SELECT unnest($5::uuid[]))) IS TRUE"
							" ORDER BY p.rank_key DESC, p.id DESC LIMIT $7", posts);
		case FP_NET_EVENTS_MERGE:
			return psprintf("SELECT x.id, 3, x.host_entity_id, x.rank_key, x.created_at "
							"FROM unnest($5::uuid[]) AS f(eid) CROSS JOIN LATERAL ("
							" SELECT e.id, e.host_entity_id, e.rank_key, e.created_at"
							" FROM %s e WHERE e.host_entity_id = f.eid"
							" AND (e.rank_key, e.id) < ($1, $2) AND e.created_at <= $4 AND e.ends_at > $4"
							" ORDER BY e.rank_key DESC, e.id DESC LIMIT $7) x "
							"ORDER BY x.rank_key DESC, x.id DESC LIMIT $7", events);
		case FP_NET_EVENTS_FILTER:
			return psprintf("SELECT e.id, 3, e.host_entity_id, e.rank_key, e.created_at "
							"FROM %s e WHERE (e.rank_key, e.id) < ($1, $2) AND e.created_at <= $4 AND e.ends_at > $4"
							" AND (e.host_entity_id = ANY (SELECT unnest($5::uuid[]))) IS TRUE"
							" ORDER BY e.rank_key DESC, e.id DESC LIMIT $7", events);
		case FP_DISC_POSTS:
			return psprintf("SELECT p.id, " KIND_EXPR ", p.author_entity_id, p.rank_key, p.created_at "
							"FROM %s p WHERE p.deleted_at IS NULL"
							" AND (p.rank_key, p.id) < ($1, $2) AND p.created_at >= $3 AND p.created_at <= $4"
							" AND ($8 OR p.kind <> 'reel')"
														" ORDER BY p.rank_key DESC, p.id DESC LIMIT $7", posts);
		case FP_DISC_EVENTS:
			return psprintf("SELECT e.id, 3, e.host_entity_id, e.rank_key, e.created_at "
							"FROM %s e WHERE (e.rank_key, e.id) < ($1, $2) AND e.created_at <= $4 AND e.ends_at > $4"
														" ORDER BY e.rank_key DESC, e.id DESC LIMIT $7", events);
		case FP_LISTINGS:
			return psprintf("SELECT l.id, 2, l.seller_entity_id, l.rank_key, l.created_at "
							"FROM %s l WHERE l.status = 'active'"
							" AND (l.rank_key, l.id) < ($1, $2) AND l.created_at <= $4"
							" AND (l.seller_entity_id = ANY (SELECT unnest($5::uuid[]))) IS NOT TRUE"
							" AND NOT EXISTS (SELECT 1 FROM %s c WHERE c.user_id = $6 AND c.listing_id = l.id)"
							" ORDER BY l.rank_key DESC, l.id DESC LIMIT $7", listings, cart);
		case FP_PROF_POSTS:
			*nargs = PROF_NARGS;
			*types = prof_types;
			return psprintf("SELECT p.id, " KIND_EXPR ", p.author_entity_id, p.rank_key, p.created_at "
							"FROM %s p WHERE p.author_entity_id = $3 AND p.deleted_at IS NULL"
							" AND p.created_at <= $1 AND (p.created_at, p.id) < ($1, $2) AND p.created_at <= $4"
							" AND NOT EXISTS (SELECT 1 FROM %s h WHERE h.user_id = $5 AND h.item_kind = 'post' AND h.item_id = p.id)"
							" ORDER BY p.created_at DESC, p.id DESC LIMIT $6", posts, hides);
		case FP_PROF_LISTINGS:
			*nargs = PROF_NARGS;
			*types = prof_types;
			return psprintf("SELECT l.id, 2, l.seller_entity_id, l.rank_key, l.created_at "
							"FROM %s l WHERE l.seller_entity_id = $3 AND l.status = 'active'"
							" AND (l.created_at, l.id) < ($1, $2) AND l.created_at <= $4"
							" AND NOT EXISTS (SELECT 1 FROM %s h WHERE h.user_id = $5 AND h.item_kind = 'listing' AND h.item_id = l.id)"
							" ORDER BY l.created_at DESC, l.id DESC LIMIT $6", listings, hides);
		case FP_PROF_EVENTS:
			*nargs = PROF_NARGS;
			*types = prof_types;
			return psprintf("SELECT e.id, 3, e.host_entity_id, e.rank_key, e.created_at "
							"FROM %s e WHERE e.host_entity_id = $3"
							" AND (e.created_at, e.id) < ($1, $2) AND e.created_at <= $4 AND e.ends_at > $4"
							" AND NOT EXISTS (SELECT 1 FROM %s h WHERE h.user_id = $5 AND h.item_kind = 'event' AND h.item_id = e.id)"
							" ORDER BY e.created_at DESC, e.id DESC LIMIT $6", events, hides);
		case FP_LANE:
			{
				static Oid	t[1] = {TEXTOID};

				*nargs = 1;
				*types = t;
				return psprintf("SELECT l.lane, l.w_network, l.w_discover, l.w_listings, l.listing_cap,"
								" l.window_size, l.dedup_delta, l.honors_shop_blend, l.serves_anonymous"
								" FROM %s l WHERE l.lane = $1 OR $1 = ANY (l.aliases)"
								" ORDER BY l.lane = $1 DESC, l.lane LIMIT 1",
								quote_qualified_identifier(schema, "feed_lanes"));
			}
		case FP_SECRET:
			*nargs = 0;
			return psprintf("SELECT s.secret FROM %s s WHERE s.id = 1", quote_qualified_identifier(schema, "_ff_feed_secret"));
		case FP_VIEWER:
			{
				static Oid	t[1] = {UUIDOID};

				*nargs = 1;
				*types = t;
				return psprintf("SELECT ARRAY(SELECT fo.entity_id FROM %s fo WHERE fo.follower_user_id = $1 ORDER BY 1),"
								" ARRAY(SELECT en.id FROM %s en WHERE en.owner_user_id = $1 ORDER BY 1)",
								follows, entities);
			}
		case FP_NBA:
			{
				static Oid	t[1] = {UUIDOID};

				*nargs = 1;
				*types = t;
				return psprintf("SELECT pe.id IS NOT NULL, coalesce(pe.avatar_url, '') = '', coalesce(pe.bio, '') = '',"
								" EXISTS (SELECT 1 FROM %s li JOIN %s en ON en.id = li.seller_entity_id"
								"         WHERE en.owner_user_id = $1),"
								" (SELECT count(*) FROM (SELECT 1 FROM %s fo WHERE fo.follower_user_id = $1 LIMIT 3) z)::int,"
								" EXISTS (SELECT 1 FROM %s u WHERE u.user_id = $1"
								"         AND u.occurred_at > pg_catalog.statement_timestamp() - interval '8 days'),"
								" (SELECT max(u.occurred_at) FROM %s u WHERE u.user_id = $1),"
								" pe.created_at"
								" FROM (SELECT 1) d LEFT JOIN %s pe ON pe.owner_user_id = $1 AND pe.kind = 'person'",
								listings, entities, follows, quote_qualified_identifier(schema, "usage_events"),
								quote_qualified_identifier(schema, "usage_events"), entities);
			}
		case FP_HIDES:
			{
				static Oid	t[1] = {UUIDOID};

				*nargs = 1;
				*types = t;
				return psprintf("SELECT CASE h.item_kind WHEN 'post' THEN %d WHEN 'listing' THEN %d ELSE %d END,"
								" h.item_id FROM %s h WHERE h.user_id = $1",
								FF_TBL_POSTS, FF_TBL_LISTINGS, FF_TBL_EVENTS, hides);
			}
		case FP_COUNT:
			break;
	}
	elog(ERROR, "unknown feed plan %d", (int) id);
	return NULL;
}

/*
 * feed_lanes has the 0.1.1 columns (lane behaviour as data); a database still at
 * 0.1.0 gets a clear 55000 until ALTER EXTENSION feed_fusion UPDATE has run.
 */
static void
check_lanes_schema(void)
{
	if (get_attnum(ff_extension_relid(FF_REL_FEED_LANES), "serves_anonymous") == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"feed_fusion\" must be updated before the feed can be served"),
				 errdetail("Table feed_lanes has no column serves_anonymous: the database is at an "
						   "older version of feed_fusion than its library."),
				 errhint("Run ALTER EXTENSION feed_fusion UPDATE.")));
}

/* The saved plan `id`, prepared (generic, read-only) on first use in this backend. */
SPIPlanPtr
ff_feed_plan(FeedPlanId id, const char *schema)
{
	if (plans[id] == NULL)
	{
		int			nargs;
		Oid		   *types;
		char	   *sql;
		SPIPlanPtr	p;

		if (id == FP_LANE)
			check_lanes_schema();
		sql = plan_sql(id, schema, &nargs, &types);
		p = SPI_prepare_cursor(sql, nargs, types, CURSOR_OPT_GENERIC_PLAN);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(p) != 0)
			elog(ERROR, "SPI_keepplan failed");
		plans[id] = p;
	}
	return plans[id];
}

/* Position a stream right after `pos` (the source's last consumed item). */
void
ff_stream_init(FeedStream *s, FeedPlanId plan, uint8 tbl, const FeedPos *pos,
			   const FeedQuery *q, int batch)
{
	memset(s, 0, sizeof(*s));
	s->plan = plan;
	s->tbl = tbl;
	s->profile = (plan == FP_PROF_POSTS || plan == FP_PROF_LISTINGS || plan == FP_PROF_EVENTS);
	s->partitioned = (plan == FP_NET_POSTS_MERGE || plan == FP_NET_POSTS_FILTER || plan == FP_DISC_POSTS);
	s->batch = Max(batch, 2);
	s->horizon = 7.0;			/* 14 days of created_at */
	if (pos == NULL || !pos->started)
	{
		s->bound_key = INFINITY;
		s->bound_ts = q->as_of;
		s->bound_id = PG_INT64_MAX;
	}
	else
	{
		/*
		 * Stream order is (key DESC, id DESC, tbl ASC): an item of a later table
		 * with exactly the position's (key, id) is still pending, so its bound is
		 * inclusive, i.e. (key, id + 1) exclusive.
		 */
		s->bound_key = pos->key;
		s->bound_ts = pos->ts;
		s->bound_id = pos->id;
		if (tbl > pos->tbl && s->bound_id < PG_INT64_MAX)
			s->bound_id++;
	}
	if (pos != NULL && pos->dry)
		s->exhausted = true;
}

/* Is item `id` of table `tbl` among the viewer's hides? (binary search) */
static bool
is_hidden(const FeedQuery *q, uint8 tbl, int64 id)
{
	const int64 *h = q->hidden[tbl];
	int			lo = 0,
				hi = q->nhidden[tbl] - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (h[mid] == id)
			return true;
		if (h[mid] < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}

/* Run one source query; appends its rows to out[*n] (room for SPI_processed rows). */
static void
run_query(SPIPlanPtr plan, Datum *vals, char *nulls, FeedQuery *q, uint8 tbl,
		  FeedItem *out, int *n, int max)
{
	int			rc = SPI_execute_plan(plan, vals, nulls, true, max);
	TupleDesc	td;

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "source query failed: %s", SPI_result_code_string(rc));
	q->nqueries++;
	q->nrows += (int) SPI_processed;
	td = SPI_tuptable->tupdesc;
	for (uint64 i = 0; i < SPI_processed && *n < max; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		bool		isnull;
		FeedItem   *it = &out[(*n)++];

		it->id = DatumGetInt64(SPI_getbinval(tup, td, 1, &isnull));
		it->kind = (uint8) DatumGetInt32(SPI_getbinval(tup, td, 2, &isnull));
		memcpy(&it->entity, DatumGetUUIDP(SPI_getbinval(tup, td, 3, &isnull)), sizeof(pg_uuid_t));
		it->key = DatumGetFloat8(SPI_getbinval(tup, td, 4, &isnull));
		it->created_at = DatumGetTimestampTz(SPI_getbinval(tup, td, 5, &isnull));
		it->tbl = tbl;
	}
	SPI_freetuptable(SPI_tuptable);
}

/* Stream order inside one table: (key DESC, id DESC). */
static inline bool
item_before(const FeedItem *a, const FeedItem *b)
{
	return a->key > b->key || (a->key == b->key && a->id > b->id);
}

/* Merge sorted b[nb] into sorted a[*na], keeping the first `max` (a has room for max). */
static void
merge_topk(FeedItem *a, int *na, const FeedItem *b, int nb, int max)
{
	FeedItem   *tmp = palloc(sizeof(FeedItem) * max);
	int			i = 0,
				j = 0,
				k = 0;

	while (k < max && (i < *na || j < nb))
	{
		if (j >= nb || (i < *na && item_before(&a[i], &b[j])))
			tmp[k++] = a[i++];
		else
			tmp[k++] = b[j++];
	}
	memcpy(a, tmp, sizeof(FeedItem) * k);
	*na = k;
	pfree(tmp);
}

/*
 * Network merge over followed entities in rounds (threshold algorithm): visit the
 * candidates in order of their activity bound, a chunk at a time (the chunk doubles);
 * once `batch` rows are in hand, only entities whose bound reaches the last of them
 * can still place an item, and the first that cannot ends the scan, since bounds are
 * sorted.  Entities whose bound is above the stream's position are all visited (their
 * next item is anywhere below it).  Same rows as one query over every followed entity.
 */
static void
merge_rounds(FeedStream *s, FeedQuery *q, SPIPlanPtr plan, Datum *vals, char *nulls,
			 double lo_key, FeedItem *out, int *nout)
{
	int			w = (s->plan == FP_NET_POSTS_MERGE) ? 0 : 1;
	const int  *ord = q->cand_order[w];
	const double *bound = q->cand_key[w];
	int			n = q->ncand_order[w];
	int			i = 0,
				chunk = Min(s->batch, 8);
	FeedItem   *round = palloc(sizeof(FeedItem) * s->batch);
	Datum	   *ids = palloc(sizeof(Datum) * Max(n, 1));

	*nout = 0;
	while (i < n)
	{
		double		floor_key = (*nout >= s->batch) ? out[*nout - 1].key : lo_key;
		int			j = i,
					got = 0;

		if (bound[ord[i]] < floor_key)
			break;
		while (j < n && bound[ord[j]] >= floor_key &&
			   (j - i < chunk || bound[ord[j]] >= s->bound_key))
		{
			ids[j - i] = UUIDPGetDatum(&q->cand_id[ord[j]]);
			j++;
		}
		vals[4] = PointerGetDatum(construct_array(ids, j - i, UUIDOID, UUID_LEN, false,
												  TYPALIGN_CHAR));
		run_query(plan, vals, nulls, q, s->tbl, round, &got, s->batch);
		merge_topk(out, nout, round, got, s->batch);
		pfree(DatumGetPointer(vals[4]));
		i = j;
		chunk *= 2;
	}
	pfree(ids);
	pfree(round);
}

/*
 * Run one batch for the stream; returns the rows read inside the look-back window
 * (hidden ones included: they advance the position but are not kept).
 */
static int
stream_fetch(FeedStream *s, FeedQuery *q, const char *schema)
{
	SPIPlanPtr	plan = ff_feed_plan(s->plan, schema);
	Datum		vals[HOME_NARGS];
	char		nulls[HOME_NARGS];
	double		lo_key = -INFINITY;
	bool		bounded = false;
	int			i,
				nrows = 0,
				inwin = 0,
				kept = 0;
	FeedItem   *rows;

	memset(nulls, ' ', sizeof(nulls));
	if (s->profile)
	{
		vals[0] = TimestampTzGetDatum(s->bound_ts);
		vals[1] = Int64GetDatum(s->bound_id);
		vals[2] = UUIDPGetDatum(&q->subject);
		vals[3] = TimestampTzGetDatum(q->as_of);
		vals[4] = UUIDPGetDatum(&q->viewer);
		nulls[4] = q->has_viewer ? ' ' : 'n';
		vals[5] = Int32GetDatum(s->batch);
	}
	else
	{
		TimestampTz lo = DT_NOBEGIN;

		if (s->partitioned && s->horizon < 1000.0)
		{
			double		ref = Min(s->bound_key, q->as_of_key);
			double		lo_sec = (ref - s->horizon) * FF_DECAY_SECONDS;

			/* floor to whole seconds, then derive the exact key bound from it */
			lo_sec = floor(lo_sec);
			lo = (TimestampTz) ((lo_sec - (double) FF_UNIX_TO_PG_EPOCH_SECS) * USECS_PER_SEC);
			lo_key = lo_sec / FF_DECAY_SECONDS;
			bounded = true;
		}
		vals[0] = Float8GetDatum(s->bound_key);
		vals[1] = Int64GetDatum(s->bound_id);
		vals[2] = TimestampTzGetDatum(lo);
		vals[3] = TimestampTzGetDatum(q->as_of);
		switch (s->plan)
		{
			case FP_NET_POSTS_FILTER:
			case FP_NET_EVENTS_FILTER:
				vals[4] = q->followed;
				break;
			case FP_LISTINGS:
				vals[4] = q->own;
				break;
			default:
				vals[4] = q->own;	/* unused; merge plans set it per round */
				break;
		}
		vals[5] = UUIDPGetDatum(&q->viewer);
		nulls[5] = q->has_viewer ? ' ' : 'n';
		vals[6] = Int32GetDatum(s->batch);
		vals[7] = BoolGetDatum(q->reels_ok);
	}
	rows = palloc(sizeof(FeedItem) * s->batch);
	if (s->plan == FP_NET_POSTS_MERGE || s->plan == FP_NET_EVENTS_MERGE)
		merge_rounds(s, q, plan, vals, nulls, lo_key, rows, &nrows);
	else
		run_query(plan, vals, nulls, q, s->tbl, rows, &nrows, s->batch);

	if (s->buf == NULL || s->cap < nrows)
	{
		if (s->buf)
			pfree(s->buf);
		s->cap = Max(nrows, s->batch);
		s->buf = MemoryContextAlloc(q->mcxt, sizeof(FeedItem) * s->cap);
	}
	s->n = 0;
	s->next = 0;
	for (i = 0; i < nrows; i++)
	{
		FeedItem   *it = &rows[i];

		if (bounded && it->key < lo_key)
			break;				/* older partitions may hold items above this one */
		inwin++;
		/* the position moves past hidden items too */
		s->bound_key = it->key;
		s->bound_ts = it->created_at;
		s->bound_id = it->id;
		if (q->nhidden[s->tbl] > 0 && is_hidden(q, s->tbl, it->id))
			continue;
		if ((s->plan == FP_DISC_POSTS || s->plan == FP_DISC_EVENTS) &&
			(ff_uuid_in(q->fol, q->nfol, &it->entity) || ff_uuid_in(q->own_ids, q->nown, &it->entity)))
			continue;			/* discover: not from followed or own entities */
		s->buf[kept++] = *it;
	}
	pfree(rows);
	s->n = kept;
	if (!bounded && nrows < s->batch)
		s->exhausted = true;	/* the whole remaining range was read */
	return inwin;
}

/* The next unconsumed item of the stream, or NULL when it has run dry. */
FeedItem *
ff_stream_head(FeedStream *s, FeedQuery *q, const char *schema)
{
	while (s->next >= s->n)
	{
		if (s->exhausted)
			return NULL;
		if (s->n > 0 || s->buf != NULL)
			s->batch = Min(s->batch * 2, 256);
		if (stream_fetch(s, q, schema) == 0 && !s->exhausted)
		{
			/* nothing in the look-back window: widen it (finally unbounded) */
			s->horizon *= 4.0;
		}
	}
	return &s->buf[s->next];
}

/* The followed entities minus own ones as a uuid[] (for the filter strategy's queries). */
Datum
ff_feed_followed_array(FeedQuery *q)
{
	Datum	   *ids = palloc(sizeof(Datum) * Max(q->nfol, 1));
	int			n = 0;

	for (int i = 0; i < q->nfol; i++)
		if (!ff_uuid_in(q->own_ids, q->nown, &q->fol[i]))
			ids[n++] = UUIDPGetDatum(&q->fol[i]);
	return PointerGetDatum(construct_array(ids, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
}

/* int64 comparison for qsort. */
static int
int64_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/* The viewer's hidden items, per table, sorted: read once per page, checked in C. */
void
ff_feed_load_hides(FeedQuery *q, const char *schema)
{
	Datum		arg = UUIDPGetDatum(&q->viewer);
	int			rc;
	int			n[3] = {0, 0, 0};

	rc = SPI_execute_plan(ff_feed_plan(FP_HIDES, schema), &arg, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "hides query failed: %s", SPI_result_code_string(rc));
	for (int t = 0; t < 3; t++)
		q->hidden[t] = MemoryContextAlloc(q->mcxt, sizeof(int64) * Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		int			t = DatumGetInt32(SPI_getbinval(tup, td, 1, &isnull));

		q->hidden[t][n[t]++] = DatumGetInt64(SPI_getbinval(tup, td, 2, &isnull));
	}
	SPI_freetuptable(SPI_tuptable);
	for (int t = 0; t < 3; t++)
	{
		qsort(q->hidden[t], n[t], sizeof(int64), int64_cmp);
		q->nhidden[t] = n[t];
	}
}
