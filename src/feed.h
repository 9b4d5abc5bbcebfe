/*
 * feed.h — declarations shared by the feed ranker's files (feed.c, feed_sources.c,
 * feed_cursor.c, feed_nba.c).  See feed.c for the design note.
 */
#ifndef FF_FEED_H
#define FF_FEED_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "utils/uuid.h"

#define FF_NSOURCES		3		/* network, discover, listings */
#define FF_SRC_NETWORK	0
#define FF_SRC_DISCOVER 1
#define FF_SRC_LISTINGS 2

/* Item kinds as they are stored and returned. */
#define FF_KIND_POST	0
#define FF_KIND_REEL	1
#define FF_KIND_LISTING 2
#define FF_KIND_EVENT	3

/* Tables, in the order that breaks (key, id) ties inside one stream. */
#define FF_TBL_POSTS	0
#define FF_TBL_LISTINGS 1
#define FF_TBL_EVENTS	2

#define FF_CURSOR_MAX_CHARS 256
#define FF_CURSOR_VERSION	1
#define FF_FUNC_HOME		1
#define FF_FUNC_PROFILE		2
#define FF_MAX_WINDOW		512 /* window bits carried in a cursor */

/* One candidate item read from a source stream. */
typedef struct FeedItem
{
	int64		id;
	double		key;			/* rank_key (home) or created_at epoch seconds (profile) */
	TimestampTz created_at;
	pg_uuid_t	entity;
	uint8		kind;			/* FF_KIND_* */
	uint8		tbl;			/* FF_TBL_* */
} FeedItem;

/* Position of a stream: the last item consumed (started=false: nothing yet). */
typedef struct FeedPos
{
	bool		started;
	bool		dry;			/* known to be exhausted at this as-of time */
	uint8		tbl;
	double		key;			/* rank_key (home) / unused for profile */
	TimestampTz ts;				/* created_at (profile) */
	int64		id;
} FeedPos;

/* Everything a cursor carries: the blend state right after an item. */
typedef struct FeedState
{
	uint8		func;			/* FF_FUNC_* */
	TimestampTz as_of;
	int64		k;				/* items emitted so far */
	int64		taken[FF_NSOURCES];
	bool		has_last;
	pg_uuid_t	last_entity;
	int			nwin;			/* window bits kept (= window_size - 1, capped) */
	uint8		win[FF_MAX_WINDOW / 8];	/* bit i: item k-i was a listing */
	FeedPos		pos[FF_NSOURCES];	/* profile uses pos[0] only */
} FeedState;

/* Saved SPI plans (feed_sources.c). */
typedef enum FeedPlanId
{
	FP_NET_POSTS_MERGE,
	FP_NET_POSTS_FILTER,
	FP_NET_EVENTS_MERGE,
	FP_NET_EVENTS_FILTER,
	FP_DISC_POSTS,
	FP_DISC_EVENTS,
	FP_LISTINGS,
	FP_PROF_POSTS,
	FP_PROF_LISTINGS,
	FP_PROF_EVENTS,
	FP_LANE,
	FP_SECRET,
	FP_VIEWER,
	FP_NBA,
	FP_HIDES,
	FP_COUNT
} FeedPlanId;

/* Per-call parameters every source query shares. */
typedef struct FeedQuery
{
	MemoryContext mcxt;			/* where fetched items live */
	TimestampTz as_of;
	double		as_of_key;		/* epoch(as_of) / 172800 */
	bool		has_viewer;
	pg_uuid_t	viewer;
	pg_uuid_t	subject;		/* profile entity */
	const pg_uuid_t *fol;		/* every entity the viewer follows, sorted (own too) */
	int			nfol;
	const pg_uuid_t *own_ids;	/* the viewer's own entities, sorted */
	int			nown;
	Datum		own;			/* uuid[]: the same, for the listings query */
	Datum		followed;		/* uuid[]: followed minus own (filter strategy only) */
	int			nfollowed;		/* followed minus own */
	/* network candidates: followed entities that may have items (feed_activity.c) */
	int			ncand;
	pg_uuid_t  *cand_id;
	double	   *cand_key[2];	/* [0] posts, [1] events: bound; +Infinity unknown */
	int		   *cand_order[2];	/* candidates by bound, best first, -Infinity left out */
	int			ncand_order[2];
	/* the viewer's hides per table (FF_TBL_*), sorted */
	int64	   *hidden[3];
	int			nhidden[3];
	bool		reels_ok;
	int			nqueries;		/* statistics for ff_status / tests */
	int			nrows;
} FeedQuery;

/* One table's stream inside a source: a keyset-paged window over an index. */
typedef struct FeedStream
{
	FeedPlanId	plan;
	uint8		tbl;
	bool		profile;		/* keyed by created_at, not rank_key */
	bool		partitioned;	/* posts: bound the scan to recent partitions */
	bool		exhausted;
	FeedItem   *buf;
	int			cap;			/* items buf has room for */
	int			n;
	int			next;
	int			batch;
	double		horizon;		/* rank units of created_at look-back (partitioned) */
	double		bound_key;		/* next fetch: (key, id) < (bound_key, bound_id) */
	TimestampTz bound_ts;
	int64		bound_id;
} FeedStream;

/* Lane configuration, read per call from feed_lanes (name: canonical after load_lane). */
typedef struct Lane
{
	char		name[NAMEDATALEN];
	bool		honors_shop_blend;	/* listings obey flag feed_shop_blend */
	bool		serves_anonymous;	/* false: anonymous viewers get no rows */
	double		w[FF_NSOURCES];
	double		cap;
	int			window;
	double		delta;
	int			max_listings;	/* floor(cap * window) */
} Lane;

/* A source: up to three table streams merged in (key DESC, id DESC, tbl ASC). */
typedef struct Source
{
	int			nstreams;
	FeedStream	streams[3];
	bool		dry;
} Source;

/* Is `x` in the sorted uuid array a[n]? (uuids sort as their bytes) */
static inline bool
ff_uuid_in(const pg_uuid_t *a, int n, const pg_uuid_t *x)
{
	int			lo = 0,
				hi = n - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			c = memcmp(a[mid].data, x->data, UUID_LEN);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}

/* feed_blend.c */
extern FeedItem *ff_source_head(Source *src, FeedQuery *q, const char *schema, int *which);
extern void ff_window_fit(FeedState *st, int nwin);
extern FeedItem *ff_blend_step(FeedState *st, const Lane *lane, Source *src, FeedQuery *q,
							   const char *schema, int *src_out);

/* feed_sources.c */
extern void ff_feed_plans_reset_if_needed(const char *schema);
extern SPIPlanPtr ff_feed_plan(FeedPlanId id, const char *schema);
extern void ff_stream_init(FeedStream *s, FeedPlanId plan, uint8 tbl, const FeedPos *pos,
						   const FeedQuery *q, int batch);
extern FeedItem *ff_stream_head(FeedStream *s, FeedQuery *q, const char *schema);
extern int	ff_feed_network_strategy;	/* GUC: 0 auto, 1 merge, 2 filter */
extern int	ff_feed_merge_max_follows;	/* GUC */
extern void ff_feed_load_hides(FeedQuery *q, const char *schema);
extern Datum ff_feed_followed_array(FeedQuery *q);

/* feed_activity.c */
extern void ff_feed_load_candidates(FeedQuery *q, const char *schema);

/* feed_cursor.c */
extern char *ff_cursor_encode(const FeedState *st, const bytea *secret, const char *binding,
							  const pg_uuid_t *viewer, const pg_uuid_t *subject);
extern void ff_cursor_decode(const char *text, FeedState *st, uint8 func, const bytea *secret,
							 const char *binding, const pg_uuid_t *viewer,
							 const pg_uuid_t *subject);
extern void ff_random_fill(uint8 *buf, int len);

#endif							/* FF_FEED_H */
