/*
 * feed_fusion.h — declarations shared between the extension's source files.
 *
 * Each component lives in its own file and exposes a single init function that
 * _PG_init (init.c) calls; components that need shared memory request it from
 * their own shmem_request hook, chained by init.c in a fixed order.
 */
#ifndef FEED_FUSION_H
#define FEED_FUSION_H

#include "postgres.h"
#include "fmgr.h"
#include "utils/uuid.h"

/* True when loaded through shared_preload_libraries (fast paths available). */
extern bool ff_preloaded;

/* identity.c: current user per request.jwt.claim(s); false when anonymous. */
extern bool ff_current_user_uuid(pg_uuid_t *out);
/* identity.c: does the current role act as service_role (a member of it, or superuser)? */
extern bool ff_acts_as_service_role(void);
/* identity.c: rate-limit subject: user uuid text, else client address, else "anon". */
extern char *ff_current_subject(void);

/* schema.c: schema of the SQL function being called (= the extension's schema). */
extern char *ff_fn_schema(FunctionCallInfo fcinfo);
/* schema.c: schema of the installed extension, or NULL when it is not installed. */
extern char *ff_extension_schema(void);
/* schema.c: owner of the installed extension, or InvalidOid when it is not installed. */
extern Oid	ff_extension_owner(void);
/* schema.c: quote_identifier(schema) || '.' || quote_identifier(name), palloc'd. */
extern char *ff_qualify(const char *schema, const char *name);

/* Component hooks called from _PG_init (each file owns its own). */
extern void ff_rate_limiter_init(void);
extern void ff_flags_init(void);
extern void ff_metrics_init(void);
extern void ff_feed_init(void);

/*
 * flags.c: evaluate flag `key` for `user` (NULL: anonymous) per SPEC §4; unknown
 * key → dflt.  Cross-component API: the feed uses it for feed_shop_blend and
 * discover_reels.
 */
extern bool ff_flag_enabled_for(const char *key, const pg_uuid_t *user, bool dflt);

/*
 * metrics.c: run impl(fcinfo) and record its latency and success under `rpc`
 * (when feed_fusion.track_rpcs is on).  RPCs wrap their body with it; set-returning
 * RPCs must use materialize mode so one call is one RPC.
 */
extern Datum ff_tracked_call(const char *rpc, PGFunction impl, FunctionCallInfo fcinfo);

/* Raise SQLSTATE 55000 when a feature needs shared_preload_libraries. */
extern void ff_require_preload(const char *what);

#endif							/* FEED_FUSION_H */
