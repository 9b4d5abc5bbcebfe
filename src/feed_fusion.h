/*
 * feed_fusion.h — declarations shared between the extension's source files.
 *
 * Each component lives in its own file and exposes a single init function that
 * _PG_init (init.c) calls; components that need shared memory request it from
 * their own shmem_request hook, chained by init.c in a fixed order.  The
 * extension's schema, owner and configuration caches are in context.h.
 */
#ifndef FEED_FUSION_H
#define FEED_FUSION_H

#include "postgres.h"
#include "fmgr.h"
#include "datatype/timestamp.h"
#include "utils/uuid.h"

/* Seconds from the Unix epoch (1970) to PostgreSQL's epoch (2000-01-01 UTC). */
#define FF_UNIX_TO_PG_EPOCH_SECS \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)

/* Score decay time constant: score(t) = base * exp(-(t - created_at) / 48 h). */
#define FF_DECAY_SECONDS	172800.0

/* Seconds since the Unix epoch of a timestamptz, as a double (rank-key arithmetic). */
static inline double
ff_unix_seconds(TimestampTz ts)
{
	return (double) ts / USECS_PER_SEC + (double) FF_UNIX_TO_PG_EPOCH_SECS;
}

/* The rank-key scale of a timestamp: epoch(ts) / 172800. */
static inline double
ff_time_key(TimestampTz ts)
{
	return ff_unix_seconds(ts) / FF_DECAY_SECONDS;
}

/* identity.c: current user per request.jwt.claim(s); false when anonymous. */
extern bool ff_current_user_uuid(pg_uuid_t *out);
/* identity.c: does the current role act as service_role (a member of it, or superuser)? */
extern bool ff_acts_as_service_role(void);
/* identity.c: raise 42501 "permission denied for function <fn>" unless it does. */
extern void ff_require_service_role(const char *fn);
/* identity.c: rate-limit subject: "u:<uuid>", else "ip:<address>", else "anon" (valid until the next call). */
extern const char *ff_current_subject(void);
/* identity.c: define the client-address settings (called by ff_rate_limiter_init). */
extern void ff_identity_init(void);

/* Component hooks called from _PG_init (each file owns its own). */
extern void ff_rate_limiter_init(void);
extern void ff_metrics_init(void);
extern void ff_feed_init(void);

/*
 * flags.c: evaluate flag `key` for `user` (NULL: anonymous) as flag_enabled does;
 * unknown key or no extension → dflt.  The feed uses it for feed_shop_blend and
 * discover_reels.
 */
extern bool ff_flag_enabled_for(const char *key, const pg_uuid_t *user, bool dflt);

/*
 * metrics.c: run impl(fcinfo) and record its latency and success under `rpc`
 * (when feed_fusion.track_rpcs is on).  RPCs wrap their body with it; set-returning
 * RPCs must use materialize mode so one call is one RPC.
 */
extern Datum ff_tracked_call(const char *rpc, PGFunction impl, FunctionCallInfo fcinfo);

/*
 * Define the SQL-callable C function `fn` (declared with PG_FUNCTION_INFO_V1) as
 * body `impl` recorded under RPC name `rpc`.
 */
#define FF_TRACKED_RPC(fn, rpc, impl) \
	Datum fn(PG_FUNCTION_ARGS); \
	Datum \
	fn(PG_FUNCTION_ARGS) \
	{ \
		return ff_tracked_call(rpc, impl, fcinfo); \
	}

#endif							/* FEED_FUSION_H */
