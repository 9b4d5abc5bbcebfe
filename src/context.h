/*
 * context.h — the installed extension as this backend sees it (context.c).
 *
 * Every component asks here for the extension's schema, owner and relations, runs
 * owner-privileged work through ff_run_as_owner() (writes: after ff_check_own_triggers()),
 * and learns of committed configuration changes through ff_config_generation().  One
 * lookup, one invalidation path, one flag set.
 */
#ifndef FF_CONTEXT_H
#define FF_CONTEXT_H

#include "postgres.h"

/* Relations whose oids the C code needs (looked up in the extension's schema). */
typedef enum FfRel
{
	FF_REL_FEATURE_FLAGS,
	FF_REL_RATE_LIMIT_PROFILES,
	FF_REL_RATE_LIMIT_COUNTERS,
	FF_REL_FEED_LANES,
	FF_REL_RPC_METRICS,			/* written as the owner: see ff_check_own_triggers */
	FF_REL_RPC_METRICS_ROLLUP,	/* written by rpc_metrics' SECURITY DEFINER triggers */
	FF_REL_ENTITY_ACTIVITY,		/* written as the owner by the activity triggers */
	FF_REL_COUNT
} FfRel;

/* The installed extension: valid until the next invalidation (copy what you keep). */
typedef struct FfExtension
{
	Oid			nsp;			/* schema the extension lives in */
	Oid			owner;			/* extension owner: internal work runs with its rights */
	const char *schema;			/* schema name (backend-lifetime memory) */
	Oid			oid;			/* pg_extension row: what its members depend on */
} FfExtension;

/* The extension, or NULL when it is not installed in this database. */
extern const FfExtension *ff_extension_if_installed(void);

/* The extension; SQLSTATE 55000 when it is not installed in this database. */
extern const FfExtension *ff_extension(void);

/* Oid of one of our relations; SQLSTATE 55000 when it is missing. */
extern Oid	ff_extension_relid(FfRel rel);

/*
 * Generation of a configuration table: changes whenever a committed change to it
 * (or DDL, or a cache reset) reaches this backend.  A cache filled at generation g
 * is current while ff_config_generation() still returns g.  Call
 * AcceptInvalidationMessages() first to see other backends' commits.
 */
extern uint64 ff_config_generation(FfRel rel);

/*
 * Moves on every pg_proc invalidation this backend receives (CREATE OR REPLACE, DROP,
 * ALTER FUNCTION, DROP/CREATE EXTENSION, a cache reset): a per-backend copy of what
 * a function's pg_proc row says (e.g. its result row type) is current while this
 * still returns the value read before the copy was made.
 */
extern uint64 ff_proc_generation(void);

/* quote_identifier(schema) || '.' || quote_identifier(name) in the extension's schema. */
extern char *ff_qualified(const char *name);

/*
 * Run fn(arg) with the extension owner's rights, as a SECURITY DEFINER function
 * would, under SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION |
 * SECURITY_NOFORCE_RLS (see context.c).  The caller's identity is restored on
 * return and on error.
 */
typedef void (*FfOwnerFn) (void *arg);
extern void ff_run_as_owner(FfOwnerFn fn, void *arg);

/*
 * Call right before writing relation `relid` (or through it, one of its partitions)
 * as the owner: SQLSTATE 55000 when it or a partition carries a trigger (other than
 * an internal one, e.g. a foreign-key check) whose function is not a member of
 * feed_fusion, because such a trigger would run its code with the owner's rights.
 * Takes the RowExclusiveLock the write takes anyway, so no trigger can be added to
 * `relid` between the check and the write; the answer is cached per relation until a
 * relcache invalidation of the relation or a partition (CREATE/DROP/ALTER TRIGGER,
 * ATTACH/DETACH PARTITION send one).
 */
extern void ff_check_own_triggers(Oid relid);

#endif							/* FF_CONTEXT_H */
