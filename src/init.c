/*
 * init.c — module entry point.
 *
 * What: PG_MODULE_MAGIC, _PG_init, and the small helpers every component uses.
 * Why:  one place decides whether we run in shared-memory mode (loaded from
 *       shared_preload_libraries) or table mode (loaded on first use); each
 *       component then registers its own GUCs, hooks and shared memory.
 * Locking: none here; components document their own.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"

#include "feed_fusion.h"

PG_MODULE_MAGIC;

bool		ff_preloaded = false;

void		_PG_init(void);

/* Register every component; order matters only for hook chaining. */
void
_PG_init(void)
{
	ff_preloaded = process_shared_preload_libraries_in_progress;
	ff_flags_init();
	ff_rate_limiter_init();
	ff_metrics_init();
	ff_feed_init();
}

/* Components that cannot fall back to tables call this for a clean 55000 error. */
void
ff_require_preload(const char *what)
{
	if (!ff_preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s requires feed_fusion in shared_preload_libraries", what),
				 errhint("Add feed_fusion to shared_preload_libraries and restart the server.")));
}
