/*
 * feed_nba.c — rocker_next_best_actions(p_limit): weighted suggestions.
 *
 * What: for the current user, up to p_limit of
 *         complete_profile 0.9  person entity missing, or lacking avatar_url or bio
 *         list_first_item  0.8  no listing (any status) on any of the user's entities
 *         engage           0.7  last usage_events row 8+ days old, or none and the
 *                                person entity (the account) is 8+ days old
 *         follow_creators  0.6  following fewer than 3 entities
 *       highest weight first, each with a human-readable reason.  Anonymous: no rows.
 * Why:  one read-only query (saved plan) gathers every signal; the rules are simple
 *       and documented in docs/feed.md.
 * Privileges: runs the query as the extension owner, filtered to the current user.
 * Locking: none beyond AccessShareLocks.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "feed_fusion.h"
#include "context.h"
#include "feed.h"

PG_FUNCTION_INFO_V1(rocker_next_best_actions);

typedef struct Nba
{
	const char *action;
	const char *title;
	double		weight;
	char	   *reason;
} Nba;

/* Whole days between two timestamps (floor). */
static int64
days_between(TimestampTz from, TimestampTz to)
{
	return (to - from) / USECS_PER_DAY;
}

/* One request, passed through ff_run_as_owner. */
typedef struct NbaCall
{
	const char *schema;
	const pg_uuid_t *user;
	Nba		   *out;
	int			n;
} NbaCall;

/* Collect the user's signals and decide the actions (inside SPI, as the owner). */
static void
nba_collect(void *callp)
{
	NbaCall    *call = (NbaCall *) callp;
	const char *schema = call->schema;
	const pg_uuid_t *user = call->user;
	Nba		   *out = call->out;
	Datum		arg = UUIDPGetDatum(user);
	int			rc,
				n = 0;
	TupleDesc	td;
	HeapTuple	tup;
	bool		isnull,
				has_person,
				no_avatar,
				no_bio,
				has_listing,
				recent,
				seen_null,
				created_null;
	int			nfollows;
	TimestampTz last_seen = 0,
				created = 0,
				now = GetCurrentStatementStartTimestamp();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ff_feed_plans_reset_if_needed(schema);
	rc = SPI_execute_plan(ff_feed_plan(FP_NBA, schema), &arg, NULL, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "next-best-actions query failed");
	td = SPI_tuptable->tupdesc;
	tup = SPI_tuptable->vals[0];
	has_person = DatumGetBool(SPI_getbinval(tup, td, 1, &isnull));
	no_avatar = DatumGetBool(SPI_getbinval(tup, td, 2, &isnull));
	no_bio = DatumGetBool(SPI_getbinval(tup, td, 3, &isnull));
	has_listing = DatumGetBool(SPI_getbinval(tup, td, 4, &isnull));
	nfollows = DatumGetInt32(SPI_getbinval(tup, td, 5, &isnull));
	recent = DatumGetBool(SPI_getbinval(tup, td, 6, &isnull));
	last_seen = DatumGetTimestampTz(SPI_getbinval(tup, td, 7, &seen_null));
	created = DatumGetTimestampTz(SPI_getbinval(tup, td, 8, &created_null));
	SPI_finish();

	if (!has_person || no_avatar || no_bio)
	{
		out[n].action = "complete_profile";
		out[n].title = "Complete your profile";
		out[n].weight = 0.9;
		out[n].reason = !has_person ? pstrdup("You have no profile yet.") :
			(no_avatar && no_bio) ? pstrdup("Your profile has no avatar and no bio.") :
			no_avatar ? pstrdup("Your profile has no avatar.") : pstrdup("Your profile has no bio.");
		n++;
	}
	if (!has_listing)
	{
		out[n].action = "list_first_item";
		out[n].title = "List your first item";
		out[n].weight = 0.8;
		out[n].reason = pstrdup("You have not listed anything for sale yet.");
		n++;
	}
	if (!recent && (!seen_null || (!created_null && days_between(created, now) >= 8)))
	{
		out[n].action = "engage";
		out[n].title = "See what's new";
		out[n].weight = 0.7;
		out[n].reason = !seen_null ?
			psprintf("Your last activity was %lld days ago.", (long long) days_between(last_seen, now)) :
			psprintf("No activity since your account was created %lld days ago.",
					 (long long) days_between(created, now));
		n++;
	}
	if (nfollows < 3)
	{
		out[n].action = "follow_creators";
		out[n].title = "Follow creators you like";
		out[n].weight = 0.6;
		out[n].reason = psprintf("You follow %d %s; following at least 3 fills your feed.",
								 nfollows, nfollows == 1 ? "entity" : "entities");
		n++;
	}
	call->n = n;
}

/* Body of rocker_next_best_actions(p_limit). */
static Datum
nba_impl(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	pg_uuid_t	user;
	int			limit,
				i;
	Nba			acts[4];
	NbaCall		call;

	if (PG_ARGISNULL(0) || PG_GETARG_INT32(0) < 1 || PG_GETARG_INT32(0) > 100)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_limit must be between 1 and 100")));
	limit = PG_GETARG_INT32(0);
	InitMaterializedSRF(fcinfo, 0);
	if (!ff_current_user_uuid(&user))
		return (Datum) 0;		/* anonymous: nothing to suggest */
	call.schema = ff_extension()->schema;
	call.user = &user;
	call.out = acts;
	call.n = 0;
	ff_run_as_owner(nba_collect, &call);
	for (i = 0; i < call.n && i < limit; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = CStringGetTextDatum(acts[i].action);
		values[1] = CStringGetTextDatum(acts[i].title);
		values[2] = Float8GetDatum(acts[i].weight);
		values[3] = CStringGetTextDatum(acts[i].reason);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* SQL: rocker_next_best_actions(int) — suggestions for the current user. */
FF_TRACKED_RPC(rocker_next_best_actions, "rocker_next_best_actions", nba_impl)
