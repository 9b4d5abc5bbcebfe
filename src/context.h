/*
 * context.h — the installed extension as this backend sees it (context.c).
 *
 * Every component asks here for the extension's schema, owner and relations, runs
 * owner-privileged work through ff_run_as_owner(), and learns of committed configuration changes through
 * ff_config_generation().  One lookup, one invalidation path, one flag set.
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
	FF_REL_COUNT
} FfRel;

/* The installed extension: valid until the next invalidation (copy what you keep). */
typedef struct FfExtension
{
	Oid			nsp;			/* schema the extension lives in */
	Oid			owner;			/* extension owner: internal work runs with its rights */
	const char *schema;			/* schema name (backend-lifetime memory) */
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

#endif							/* FF_CONTEXT_H */
