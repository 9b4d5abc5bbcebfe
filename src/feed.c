/*
 * feed.c — the feed ranker: feed_fusion_home / _home_for / _profile.
 *
 * What: a deterministic blend of three source streams (network, discover,
 *       listings; see feed_sources.c) into one sequence per (viewer, lane, as-of
 *       time), served in pages with signed cursors (feed_cursor.c).  Rules, per slot
 *       k (1-based over the whole sequence):
 *        1. the non-empty, cap-permitted source with the largest deficit
 *           w_s*k - taken_s wins (ties within 1e-9: higher head score, then the
 *           order network, discover, listings);
 *        2. listing cap: a listing may take slot k only if the previous
 *           window_size-1 items hold fewer than floor(listing_cap*window_size)
 *           listings (so every window of window_size items respects the cap);
 *           when only listings remain and the cap blocks them, the feed ends;
 *        3. seller rule: if the winner's entity equals the previous item's, the
 *           best-scoring head of another eligible source with a different entity
 *           takes the slot instead (taken counts go to that source), unless the
 *           winner's score exceeds it by at least dedup_delta; the passed-over item
 *           stays at the head of its source;
 *        4. dry sources are skipped (backfill); the feed ends when none can serve.
 *       Each source is consumed strictly in its own order, so its position is one
 *       (rank_key, id, table) triple; the cursor after a row carries as-of time, k,
 *       taken counts, the last window_size-1 listing flags, the last entity and the
 *       three positions.  Pages are therefore slices of one sequence, whatever
 *       p_limit is.  The row cursor is NULL on the feed's last row (the ranker
 *       looks one item ahead).
 * Why:  everything is index-driven and bounded by the page: a page reads about
 *       page-size rows per source plus one look-ahead item.
 * Privileges: the data work runs with the extension owner's rights (like a
 *       SECURITY DEFINER function), switched in C around fixed, parameterized
 *       queries that filter explicitly by the viewer (hides and cart rows of the
 *       viewer only, live rows only), so anon can get a feed without table grants
 *       and nobody sees another user's hides/cart.  The secret table is readable by
 *       the owner only.  feed_fusion_home_for checks service_role (or superuser).
 * Locking: none beyond the AccessShareLocks of the read queries; works in READ ONLY
 *       transactions and on standbys.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "feed_fusion.h"
#include "context.h"
#include "feed.h"
#include "status.h"

PG_FUNCTION_INFO_V1(feed_fusion_home);
PG_FUNCTION_INFO_V1(feed_fusion_home_for);
PG_FUNCTION_INFO_V1(feed_fusion_profile);
PG_FUNCTION_INFO_V1(_ff_feed_random_secret);
PG_FUNCTION_INFO_V1(ff_feed_status);

static const char *const source_names[FF_NSOURCES] = {"network", "discover", "listings"};
static const char *const kind_names[4] = {"post", "reel", "listing", "event"};

static const struct config_enum_entry strategy_options[] = {
	{"auto", 0, false},
	{"merge", 1, false},
	{"filter", 2, false},
	{NULL, 0, false}
};

/* Register the feed's GUCs. */
void
ff_feed_init(void)
{
	DefineCustomEnumVariable("feed_fusion.feed_network_strategy",
							 "How the network source reads followed entities' items.",
							 "merge: index scans of the followed entities that can reach the page, "
							 "merged; filter: the global rank order filtered by the followed set; "
							 "auto: merge up to feed_fusion.feed_merge_max_follows active follows.",
							 &ff_feed_network_strategy, 0, strategy_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("feed_fusion.feed_merge_max_follows",
							"Active follow count up to which feed_network_strategy=auto merges per-entity scans.",
							NULL, &ff_feed_merge_max_follows, 100000, 0, 1000000,
							PGC_USERSET, 0, NULL, NULL, NULL);
}

/* Validate p_limit (1..100). */
static int
check_limit(FunctionCallInfo fcinfo, int argno)
{
	int			limit;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_limit must not be NULL"),
				 errhint("Pass a page size between 1 and 100.")));
	limit = PG_GETARG_INT32(argno);
	if (limit < 1 || limit > 100)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_limit must be between 1 and 100, got %d", limit)));
	return limit;
}

/* The lane argument as given (a lane or one of its aliases); load_lane resolves it. */
static void
lane_arg(FunctionCallInfo fcinfo, int argno, Lane *lane)
{
	char	   *s;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("feed lane must not be NULL"),
				 errhint("Use one of the lanes in feed_lanes, e.g. for_you, following or shop.")));
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (strlen(s) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown feed lane \"%.*s...\"", 40, s)));
	strlcpy(lane->name, s, sizeof(lane->name));
}

/* "for_you, following, shop; legacy names: combined (for_you), ..." from feed_lanes. */
static char *
lanes_hint(void)
{
	char	   *sql = psprintf("SELECT pg_catalog.string_agg(l.lane, ', ' ORDER BY l.lane), "
							   "(SELECT pg_catalog.string_agg(a.alias || ' (' || a.lane || ')', ', ' ORDER BY a.alias) "
							   " FROM (SELECT l2.lane, pg_catalog.unnest(l2.aliases) AS alias FROM %s l2) a) "
							   "FROM %s l", ff_qualified("feed_lanes"), ff_qualified("feed_lanes"));
	char	   *lanes,
			   *aliases;

	if (SPI_execute(sql, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		return pstrdup("See the table feed_lanes.");
	lanes = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	aliases = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	if (lanes == NULL)
		return pstrdup("The table feed_lanes has no lanes.");
	if (aliases == NULL)
		return psprintf("Lanes: %s.", lanes);
	return psprintf("Lanes: %s; legacy names: %s.", lanes, aliases);
}

/* Read the lane (by name or alias) with all its settings; unknown lane → 22023. */
static void
load_lane(const char *schema, Lane *lane)
{
	Datum		arg = CStringGetTextDatum(lane->name);
	int			rc = SPI_execute_plan(ff_feed_plan(FP_LANE, schema), &arg, NULL, true, 1);
	TupleDesc	td;
	HeapTuple	tup;
	bool		isnull;
	int			s;

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "lane query failed: %s", SPI_result_code_string(rc));
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown feed lane \"%s\"", lane->name),
				 errhint("%s", lanes_hint())));
	td = SPI_tuptable->tupdesc;
	tup = SPI_tuptable->vals[0];
	strlcpy(lane->name, TextDatumGetCString(SPI_getbinval(tup, td, 1, &isnull)), sizeof(lane->name));
	for (s = 0; s < FF_NSOURCES; s++)
		lane->w[s] = DatumGetFloat8(SPI_getbinval(tup, td, s + 2, &isnull));
	lane->cap = DatumGetFloat8(SPI_getbinval(tup, td, 5, &isnull));
	lane->window = DatumGetInt32(SPI_getbinval(tup, td, 6, &isnull));
	lane->delta = DatumGetFloat8(SPI_getbinval(tup, td, 7, &isnull));
	lane->honors_shop_blend = DatumGetBool(SPI_getbinval(tup, td, 8, &isnull));
	lane->serves_anonymous = DatumGetBool(SPI_getbinval(tup, td, 9, &isnull));
	SPI_freetuptable(SPI_tuptable);
	lane->max_listings = (int) floor(lane->cap * lane->window + 1e-9);
	if (lane->window - 1 > FF_MAX_WINDOW)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("feed lane \"%s\" has window_size %d; at most %d is supported",
						lane->name, lane->window, FF_MAX_WINDOW + 1)));
}

/* The per-database cursor secret (copied into `mcxt`). */
static bytea *
load_secret(const char *schema, MemoryContext mcxt)
{
	int			rc = SPI_execute_plan(ff_feed_plan(FP_SECRET, schema), NULL, NULL, true, 1);
	bool		isnull = true;
	Datum		d = (Datum) 0;
	bytea	   *out = NULL;

	if (rc == SPI_OK_SELECT && SPI_processed == 1)
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
	{
		MemoryContext old = MemoryContextSwitchTo(mcxt);

		out = DatumGetByteaPCopy(d);
		MemoryContextSwitchTo(old);
	}
	if (rc == SPI_OK_SELECT)
		SPI_freetuptable(SPI_tuptable);
	if (out == NULL || VARSIZE_ANY_EXHDR(out) < 16)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("feed cursor secret is missing"),
				 errhint("Run SELECT %s() as the extension owner.",
						 quote_qualified_identifier(schema, "ff_feed_rotate_secret"))));
	return out;
}

/* Sorted contents of a uuid[] datum (no nulls), copied into the current context. */
static const pg_uuid_t *
uuid_array(Datum d, int *n, Datum *copy)
{
	ArrayType  *a = DatumGetArrayTypePCopy(d);

	*n = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
	*copy = PointerGetDatum(a);
	return (const pg_uuid_t *) ARR_DATA_PTR(a);
}

/* The viewer's followed and own entities (sorted, in q->mcxt); one query. */
static void
load_viewer(const char *schema, FeedQuery *q)
{
	MemoryContext old = MemoryContextSwitchTo(q->mcxt);
	Datum		unused;

	q->fol = q->own_ids = NULL;
	q->nfol = q->nown = q->nfollowed = 0;
	q->own = PointerGetDatum(construct_empty_array(UUIDOID));
	MemoryContextSwitchTo(old);
	if (q->has_viewer)
	{
		Datum		arg = UUIDPGetDatum(&q->viewer);
		int			rc = SPI_execute_plan(ff_feed_plan(FP_VIEWER, schema), &arg, NULL, true, 1);
		TupleDesc	td;
		HeapTuple	tup;
		bool		isnull;

		if (rc != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "viewer query failed");
		td = SPI_tuptable->tupdesc;
		tup = SPI_tuptable->vals[0];
		old = MemoryContextSwitchTo(q->mcxt);
		q->fol = uuid_array(SPI_getbinval(tup, td, 1, &isnull), &q->nfol, &unused);
		q->own_ids = uuid_array(SPI_getbinval(tup, td, 2, &isnull), &q->nown, &q->own);
		MemoryContextSwitchTo(old);
		SPI_freetuptable(SPI_tuptable);
		for (int i = 0; i < q->nfol; i++)
			if (!ff_uuid_in(q->own_ids, q->nown, &q->fol[i]))
				q->nfollowed++;
	}
}

/* Append one output row to the materialized result. */
static void
emit_row(ReturnSetInfo *rsinfo, int64 pos, const FeedItem *it, const char *source,
		 double as_of_key, const char *cursor)
{
	Datum		values[8];
	bool		nulls[8] = {false, false, false, false, false, false, false, false};

	values[0] = Int32GetDatum((int32) pos);
	values[1] = CStringGetTextDatum(kind_names[it->kind & 3]);
	values[2] = Int64GetDatum(it->id);
	values[3] = UUIDPGetDatum(&it->entity);
	values[4] = CStringGetTextDatum(source);
	values[5] = Float8GetDatum(exp(it->key - as_of_key));
	values[6] = TimestampTzGetDatum(it->created_at);
	if (cursor)
		values[7] = CStringGetTextDatum(cursor);
	else
	{
		values[7] = (Datum) 0;
		nulls[7] = true;
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* Parameters every source query of one page shares (as-of time, viewer). */
static void
query_init(FeedQuery *q, const FeedState *st, const pg_uuid_t *viewer, MemoryContext work)
{
	memset(q, 0, sizeof(*q));
	q->mcxt = work;
	q->as_of = st->as_of;
	q->as_of_key = ff_time_key(st->as_of);
	q->has_viewer = viewer != NULL;
	if (viewer)
		q->viewer = *viewer;
}

/*
 * Per-stream batch: limit + 1 rows, the most one source can serve in a page (with the
 * look-ahead item), so each stream runs one query per page.  A smaller first batch
 * (the source's share) was measured slower: a network refill repeats all the per-entity
 * index descents, which cost far more than the extra index-only rows.
 */
static int
page_batch(int limit)
{
	return limit + 1;
}

/* Serve one home page; runs as the extension owner inside SPI. */
static void
home_page(FunctionCallInfo fcinfo, const char *schema, const pg_uuid_t *viewer, Lane *lane,
		  const char *cursor, int limit, MemoryContext work)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FeedState	st;
	FeedQuery	q;
	Source		src[FF_NSOURCES];
	bytea	   *secret;
	bool		shop_blend;
	int			s,
				emitted = 0;
	FeedItem	pending;
	int			pending_src = -1;
	FeedState	pending_st;

	load_lane(schema, lane);
	secret = load_secret(schema, work);
	if (cursor)
		ff_cursor_decode(cursor, &st, FF_FUNC_HOME, secret, lane->name, viewer, NULL);
	else
	{
		memset(&st, 0, sizeof(st));
		st.func = FF_FUNC_HOME;
		st.as_of = GetCurrentStatementStartTimestamp();
		st.nwin = lane->window - 1;
	}
	ff_window_fit(&st, lane->window - 1);

	/* lanes that are about the viewer's network (following) are empty for anonymous */
	if (viewer == NULL && !lane->serves_anonymous)
		return;

	query_init(&q, &st, viewer, work);
	load_viewer(schema, &q);
	q.reels_ok = ff_flag_enabled_for("discover_reels", viewer, true);
	shop_blend = lane->honors_shop_blend ? ff_flag_enabled_for("feed_shop_blend", viewer, true) : true;

	memset(src, 0, sizeof(src));
	/* network */
	if (q.has_viewer)
		ff_feed_load_hides(&q, schema);
	if (q.has_viewer && q.nfollowed > 0 && ff_feed_network_strategy != 2)
		ff_feed_load_candidates(&q, schema);
	if (q.has_viewer && q.nfollowed > 0)
	{
		bool		merge = ff_feed_network_strategy == 1 ||
			(ff_feed_network_strategy == 0 && q.ncand <= ff_feed_merge_max_follows);
		int			b = page_batch(limit);

		if (!merge)
			q.followed = ff_feed_followed_array(&q);

		src[0].nstreams = 2;
		ff_stream_init(&src[0].streams[0], merge ? FP_NET_POSTS_MERGE : FP_NET_POSTS_FILTER,
					   FF_TBL_POSTS, &st.pos[0], &q, b);
		ff_stream_init(&src[0].streams[1], merge ? FP_NET_EVENTS_MERGE : FP_NET_EVENTS_FILTER,
					   FF_TBL_EVENTS, &st.pos[0], &q, b);
	}
	/* discover */
	src[1].nstreams = 2;
	ff_stream_init(&src[1].streams[0], FP_DISC_POSTS, FF_TBL_POSTS, &st.pos[1], &q,
				   page_batch(limit));
	ff_stream_init(&src[1].streams[1], FP_DISC_EVENTS, FF_TBL_EVENTS, &st.pos[1], &q,
				   page_batch(limit));
	/* listings */
	if (shop_blend)
	{
		src[2].nstreams = 1;
		ff_stream_init(&src[2].streams[0], FP_LISTINGS, FF_TBL_LISTINGS, &st.pos[2], &q,
					   page_batch(limit));
	}
	for (s = 0; s < FF_NSOURCES; s++)
		src[s].dry = st.pos[s].dry || src[s].nstreams == 0;

	/* produce limit items plus one look-ahead that decides the last row's cursor */
	for (;;)
	{
		int			which_src;
		FeedItem   *it = ff_blend_step(&st, lane, src, &q, schema, &which_src);

		if (pending_src >= 0)
		{
			char	   *c = it ? ff_cursor_encode(&pending_st, secret, lane->name, viewer, NULL) : NULL;

			emit_row(rsinfo, pending_st.k, &pending, source_names[pending_src], q.as_of_key, c);
			emitted++;
			pending_src = -1;
		}
		if (it == NULL || emitted >= limit)
			break;
		pending = *it;
		pending_src = which_src;
		pending_st = st;
	}
}

/* Serve one profile page; runs as the extension owner inside SPI. */
static void
profile_page(FunctionCallInfo fcinfo, const char *schema, const pg_uuid_t *viewer,
			 const pg_uuid_t *entity, const char *cursor, int limit, MemoryContext work)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FeedState	st;
	FeedQuery	q;
	Source		src;
	bytea	   *secret = load_secret(schema, work);
	int			emitted = 0;
	FeedItem	pending;
	bool		have_pending = false;
	FeedState	pending_st;
	int			b = Min(limit + 2, 101);

	if (cursor)
		ff_cursor_decode(cursor, &st, FF_FUNC_PROFILE, secret, "profile", viewer, entity);
	else
	{
		memset(&st, 0, sizeof(st));
		st.func = FF_FUNC_PROFILE;
		st.as_of = GetCurrentStatementStartTimestamp();
	}
	query_init(&q, &st, viewer, work);
	q.subject = *entity;

	memset(&src, 0, sizeof(src));
	src.nstreams = 3;
	src.dry = st.pos[0].dry;
	ff_stream_init(&src.streams[0], FP_PROF_POSTS, FF_TBL_POSTS, &st.pos[0], &q, b);
	ff_stream_init(&src.streams[1], FP_PROF_LISTINGS, FF_TBL_LISTINGS, &st.pos[0], &q, b);
	ff_stream_init(&src.streams[2], FP_PROF_EVENTS, FF_TBL_EVENTS, &st.pos[0], &q, b);
	for (;;)
	{
		int			which = 0;
		FeedItem   *it = ff_source_head(&src, &q, schema, &which);

		if (it)
			src.streams[which].next++;
		else
			st.pos[0].dry = true;
		if (have_pending)
		{
			char	   *c = it ? ff_cursor_encode(&pending_st, secret, "profile", viewer, entity) : NULL;

			emit_row(rsinfo, pending_st.k, &pending, "profile", q.as_of_key, c);
			emitted++;
			have_pending = false;
		}
		if (it == NULL || emitted >= limit)
			break;
		st.k++;
		st.pos[0].started = true;
		st.pos[0].ts = it->created_at;
		st.pos[0].key = it->key;
		st.pos[0].id = it->id;
		st.pos[0].tbl = it->tbl;
		pending = *it;
		pending_st = st;
		have_pending = true;
	}
}

typedef enum FeedCall
{
	CALL_HOME,
	CALL_PROFILE
} FeedCall;

/* One page request, passed through ff_run_as_owner. */
typedef struct FeedPage
{
	FunctionCallInfo fcinfo;
	FeedCall	call;
	const char *schema;
	const pg_uuid_t *viewer;
	Lane	   *lane;
	const pg_uuid_t *entity;
	const char *cursor;
	int			limit;
	MemoryContext work;
} FeedPage;

/* The page itself, as the extension owner inside SPI. */
static void
run_feed_as_owner(void *arg)
{
	FeedPage   *p = (FeedPage *) arg;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ff_feed_plans_reset_if_needed(p->schema);
	if (p->call == CALL_HOME)
		home_page(p->fcinfo, p->schema, p->viewer, p->lane, p->cursor, p->limit, p->work);
	else
		profile_page(p->fcinfo, p->schema, p->viewer, p->entity, p->cursor, p->limit, p->work);
	SPI_finish();
}

/* Common frame: materialized SRF, a work context, the extension owner's rights, one page. */
static void
run_feed(FunctionCallInfo fcinfo, FeedCall call, const pg_uuid_t *viewer, Lane *lane,
		 const pg_uuid_t *entity, const char *cursor, int limit)
{
	FeedPage	p = {fcinfo, call, ff_extension()->schema, viewer, lane, entity, cursor, limit, NULL};

	InitMaterializedSRF(fcinfo, 0);
	p.work = AllocSetContextCreate(CurrentMemoryContext, "feed_fusion page", ALLOCSET_DEFAULT_SIZES);
	ff_run_as_owner(run_feed_as_owner, &p);
	MemoryContextDelete(p.work);
}

/* Cursor argument as C string, or NULL. */
static char *
cursor_arg(FunctionCallInfo fcinfo, int argno)
{
	text	   *t;

	if (PG_ARGISNULL(argno))
		return NULL;
	t = PG_GETARG_TEXT_PP(argno);
	if (VARSIZE_ANY_EXHDR(t) > FF_CURSOR_MAX_CHARS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid feed cursor"),
				 errdetail("The cursor is longer than any cursor this server issues.")));
	return text_to_cstring(t);
}

/* A home page for `viewer` from (p_lane, p_cursor, p_limit) starting at argument `arg`. */
static void
serve_home(FunctionCallInfo fcinfo, const pg_uuid_t *viewer, int arg)
{
	Lane		lane;
	int			limit = check_limit(fcinfo, arg + 2);
	char	   *cursor;

	lane_arg(fcinfo, arg, &lane);
	cursor = cursor_arg(fcinfo, arg + 1);
	run_feed(fcinfo, CALL_HOME, viewer, &lane, NULL, cursor, limit);
}

/* Body of feed_fusion_home(p_lane, p_cursor, p_limit). */
static Datum
home_impl(PG_FUNCTION_ARGS)
{
	pg_uuid_t	viewer;

	serve_home(fcinfo, ff_current_user_uuid(&viewer) ? &viewer : NULL, 0);
	return (Datum) 0;
}

/* SQL: feed_fusion_home(text, text, int) — the current user's home feed page. */
FF_TRACKED_RPC(feed_fusion_home, "feed_fusion_home", home_impl)

/* Body of feed_fusion_home_for(p_viewer, p_lane, p_cursor, p_limit): service_role only. */
static Datum
home_for_impl(PG_FUNCTION_ARGS)
{
	pg_uuid_t	viewer;

	ff_require_service_role("feed_fusion_home_for");
	if (!PG_ARGISNULL(0))
		viewer = *PG_GETARG_UUID_P(0);
	serve_home(fcinfo, PG_ARGISNULL(0) ? NULL : &viewer, 1);
	return (Datum) 0;
}

/* SQL: feed_fusion_home_for(uuid, text, text, int) — any viewer's feed, for services. */
FF_TRACKED_RPC(feed_fusion_home_for, "feed_fusion_home_for", home_for_impl)

/* Body of feed_fusion_profile(p_entity_id, p_cursor, p_limit). */
static Datum
profile_impl(PG_FUNCTION_ARGS)
{
	pg_uuid_t	viewer;
	pg_uuid_t	entity;
	bool		has_viewer = ff_current_user_uuid(&viewer);
	int			limit = check_limit(fcinfo, 2);
	char	   *cursor;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_entity_id must not be NULL")));
	entity = *PG_GETARG_UUID_P(0);
	cursor = cursor_arg(fcinfo, 1);
	run_feed(fcinfo, CALL_PROFILE, has_viewer ? &viewer : NULL, NULL, &entity, cursor, limit);
	return (Datum) 0;
}

/* SQL: feed_fusion_profile(uuid, text, int) — one entity's live items, newest first. */
FF_TRACKED_RPC(feed_fusion_profile, "feed_fusion_profile", profile_impl)

/* SQL: _ff_feed_random_secret() — 32 strong random bytes for the cursor secret. */
Datum
_ff_feed_random_secret(PG_FUNCTION_ARGS)
{
	bytea	   *b = palloc(VARHDRSZ + 32);

	SET_VARSIZE(b, VARHDRSZ + 32);
	ff_random_fill((uint8 *) VARDATA(b), 32);
	PG_RETURN_BYTEA_P(b);
}

/* What ff_status() shows of the feed (read as the extension owner: the secret is owner-only). */
typedef struct FeedStatusRead
{
	bool		has_secret;
	int			nlanes;
	char	  **lanes;
} FeedStatusRead;

/* Read the secret's presence and the lane names. */
static void
feed_status_as_owner(void *arg)
{
	FeedStatusRead *r = (FeedStatusRead *) arg;
	MemoryContext caller = CurrentMemoryContext;
	char	   *sql = psprintf("SELECT EXISTS (SELECT 1 FROM %s), ARRAY(SELECT l.lane FROM %s l ORDER BY l.lane)::pg_catalog.text[]",
							   ff_qualified("_ff_feed_secret"), ff_qualified("feed_lanes"));
	bool		isnull;
	Datum		lanes;
	Datum	   *elems;
	bool	   *nulls;
	MemoryContext old;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "feed status query failed");
	r->has_secret = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	lanes = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	old = MemoryContextSwitchTo(caller);
	deconstruct_array(DatumGetArrayTypeP(lanes), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &r->nlanes);
	r->lanes = palloc(sizeof(char *) * Max(r->nlanes, 1));
	for (int i = 0; i < r->nlanes; i++)
		r->lanes[i] = TextDatumGetCString(elems[i]);
	MemoryContextSwitchTo(old);
	SPI_finish();
}

/* SQL: _ff_feed_status() RETURNS jsonb — the feed's ff_status() detail. */
Datum
ff_feed_status(PG_FUNCTION_ARGS)
{
	FeedStatusRead r = {false, 0, NULL};
	FfStatus	st;

	ff_run_as_owner(feed_status_as_owner, &r);
	ff_status_begin(&st);
	ff_status_int(&st, "cursor_version", FF_CURSOR_VERSION);
	ff_status_bool(&st, "cursor_secret", r.has_secret);
	ff_status_text_array(&st, "lanes", (const char *const *) r.lanes, r.nlanes);
	ff_status_text(&st, "network_strategy", strategy_options[ff_feed_network_strategy].name);
	ff_status_int(&st, "merge_max_follows", ff_feed_merge_max_follows);
	PG_RETURN_JSONB_P(ff_status_end(&st));
}
