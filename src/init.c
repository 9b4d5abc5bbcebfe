/*
 * init.c — module entry point.
 *
 * What: PG_MODULE_MAGIC and _PG_init.
 * Why:  each component registers its own GUCs, hooks and shared memory; a
 *       component that has a shared-memory mode checks
 *       process_shared_preload_libraries_in_progress itself (table mode otherwise).
 * Locking: none here; components document their own.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "feed_fusion.h"
#include "bgworker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Register every component; order matters only for hook chaining. */
void
_PG_init(void)
{
	ff_rate_limiter_init();
	ff_metrics_init();
	ff_bgworker_init();
	ff_feed_init();
	/* settings with our prefix that no component defines are typos: warn, drop them */
	MarkGUCPrefixReserved("feed_fusion");
}
