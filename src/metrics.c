/*
 * metrics.c — placeholder until RPC metrics land (issue 6).
 * What: ff_tracked_call() that just calls the RPC body, so RPCs can be written
 * against the final API today.  Locking: none.
 */
#include "postgres.h"

#include "feed_fusion.h"

/* Nothing to register yet. */
void
ff_metrics_init(void)
{
}

/* Call the RPC body; recording arrives with the metrics component. */
Datum
ff_tracked_call(const char *rpc, PGFunction impl, FunctionCallInfo fcinfo)
{
	return impl(fcinfo);
}
