/*
 * feed.c — placeholder until the feed component lands (see its issue).
 * What: the module init hook _PG_init calls.  Why: keeps init.c stable while
 * components are built in parallel.  Locking: none yet.
 */
#include "postgres.h"

#include "feed_fusion.h"

/* Nothing to register yet. */
void
ff_feed_init(void)
{
}
