/*
 * feed_blend.c — the blend rules: which source's head takes the next slot.
 *
 * What: the per-slot decision of the home feed (see feed.c's design note for the
 *       four rules: largest deficit, listing cap over a sliding window, seller
 *       de-duplication with dedup_delta, backfill of dry sources), the listing
 *       window history a cursor carries, and the head of a source (the best of its
 *       table streams' heads).
 * Why:  the rules are pure functions of the blend state and the source heads, so
 *       they live apart from SPI, privileges and cursors; a page is a loop of
 *       ff_blend_step calls.
 * Locking: none (streams fetch through feed_sources.c).
 */
#include "postgres.h"

#include <math.h>

#include "feed.h"

/* Stream order: is a before b?  (key DESC, id DESC, tbl ASC) */
static bool
item_before(const FeedItem *a, const FeedItem *b, bool profile)
{
	if (profile)
	{
		if (a->created_at != b->created_at)
			return a->created_at > b->created_at;
	}
	else if (a->key != b->key)
		return a->key > b->key;
	if (a->id != b->id)
		return a->id > b->id;
	return a->tbl < b->tbl;
}

/* Head of a source (best of its streams' heads), or NULL when dry; *which = stream. */
FeedItem *
ff_source_head(Source *src, FeedQuery *q, const char *schema, int *which)
{
	FeedItem   *best = NULL;
	int			i;

	if (src->dry)
		return NULL;
	for (i = 0; i < src->nstreams; i++)
	{
		FeedItem   *h = ff_stream_head(&src->streams[i], q, schema);

		if (h && (best == NULL || item_before(h, best, src->streams[i].profile)))
		{
			best = h;
			*which = i;
		}
	}
	if (best == NULL)
		src->dry = true;
	return best;
}

/* Number of listings among the last nwin items. */
static int
window_listings(const FeedState *st)
{
	int			i,
				n = 0;

	for (i = 0; i < st->nwin; i++)
		if (st->win[i / 8] & (1 << (i % 8)))
			n++;
	return n;
}

/* Push one item's listing flag into the window history. */
static void
window_push(FeedState *st, bool listing)
{
	int			i;

	for (i = st->nwin - 1; i >= 1; i--)
	{
		bool		prev = (st->win[(i - 1) / 8] & (1 << ((i - 1) % 8))) != 0;

		if (prev)
			st->win[i / 8] |= (1 << (i % 8));
		else
			st->win[i / 8] &= ~(1 << (i % 8));
	}
	if (st->nwin > 0)
	{
		if (listing)
			st->win[0] |= 1;
		else
			st->win[0] &= ~1;
	}
}

/* Resize the window history to the lane's current window (config may change). */
void
ff_window_fit(FeedState *st, int nwin)
{
	int			i;

	for (i = nwin; i < st->nwin && i < FF_MAX_WINDOW; i++)
		st->win[i / 8] &= ~(1 << (i % 8));
	for (i = st->nwin; i < nwin; i++)
		st->win[i / 8] &= ~(1 << (i % 8));
	st->nwin = nwin;
}

/* Blend rule for slot k+1: returns the item (consumed) and its source, or NULL at the end. */
FeedItem *
ff_blend_step(FeedState *st, const Lane *lane, Source *src, FeedQuery *q, const char *schema,
		   int *src_out)
{
	FeedItem   *head[FF_NSOURCES];
	int			which[FF_NSOURCES] = {0, 0, 0};
	bool		eligible[FF_NSOURCES];
	double		kk = (double) (st->k + 1);
	int			s,
				best = -1;
	FeedItem   *it;
	FeedStream *fs;

	for (s = 0; s < FF_NSOURCES; s++)
	{
		head[s] = ff_source_head(&src[s], q, schema, &which[s]);
		if (head[s] == NULL)
			st->pos[s].dry = true;
		eligible[s] = head[s] != NULL;
	}
	if (eligible[FF_SRC_LISTINGS] && window_listings(st) + 1 > lane->max_listings)
		eligible[FF_SRC_LISTINGS] = false;

	/* rule 1: largest deficit, ties by head score then source order */
	for (s = 0; s < FF_NSOURCES; s++)
	{
		if (!eligible[s])
			continue;
		if (best < 0)
			best = s;
		else
		{
			double		ds = lane->w[s] * kk - st->taken[s];
			double		db = lane->w[best] * kk - st->taken[best];

			if (ds > db + 1e-9 || (fabs(ds - db) <= 1e-9 && head[s]->key > head[best]->key))
				best = s;
		}
	}
	if (best < 0)
		return NULL;

	/* rule 3: seller rule against the previous item's entity */
	if (st->has_last && memcmp(head[best]->entity.data, st->last_entity.data, UUID_LEN) == 0)
	{
		int			alt = -1;

		for (s = 0; s < FF_NSOURCES; s++)
		{
			if (s == best || !eligible[s] ||
				memcmp(head[s]->entity.data, st->last_entity.data, UUID_LEN) == 0)
				continue;
			if (alt < 0 || head[s]->key > head[alt]->key)
				alt = s;
		}
		if (alt >= 0 &&
			!(exp(head[best]->key - q->as_of_key) - exp(head[alt]->key - q->as_of_key) >= lane->delta))
			best = alt;
	}

	/* consume */
	it = head[best];
	fs = &src[best].streams[which[best]];
	fs->next++;
	st->k++;
	st->taken[best]++;
	st->has_last = true;
	memcpy(st->last_entity.data, it->entity.data, UUID_LEN);
	window_push(st, best == FF_SRC_LISTINGS);
	st->pos[best].started = true;
	st->pos[best].key = it->key;
	st->pos[best].ts = it->created_at;
	st->pos[best].id = it->id;
	st->pos[best].tbl = it->tbl;
	*src_out = best;
	return it;
}

