/*
 * ratelimit.h — declarations shared by the rate limiter's files (rate_limiter.c,
 * ratelimit_shm.c).
 *
 * The limiter is GCRA: each key keeps one "theoretical arrival time" (TAT) in
 * nanoseconds since 2000-01-01 UTC.  With capacity C and period P the emission
 * interval is T = ceil(P / C) ns and the burst tolerance is P' = C * T (P rounded
 * up to a multiple of C ns, so all arithmetic is exact in int64).  At time `now`
 * the bucket's debt is D = max(TAT, now) - now; it holds floor((P' - D) / T)
 * tokens, and a call of cost n is allowed iff D + n*T <= P'; then
 * TAT' = max(TAT, now) + n*T.  A denied call changes nothing.  A key with
 * TAT <= now is a full bucket and needs no state at all.
 */
#ifndef FF_RATELIMIT_H
#define FF_RATELIMIT_H

#include "postgres.h"

/* Longest period accepted (keeps every TAT far inside int64 nanoseconds). */
#define RL_MAX_PERIOD_NS	(INT64CONST(10) * 366 * 24 * 3600 * 1000000000)

/* Limits of one call, derived from (capacity, period). */
typedef struct RlLimits
{
	int32		capacity;		/* C */
	int64		interval_ns;	/* T = ceil(P / C) */
	int64		tolerance_ns;	/* P' = C * T */
} RlLimits;

/* Outcome of one call, in nanoseconds (the SQL layer rounds up to ms). */
typedef struct RlResult
{
	bool		allowed;
	int32		remaining;
	int64		retry_after_ns;
	int64		reset_after_ns;
} RlResult;

/*
 * GCRA step: evaluate a call of `cost` on a key whose TAT is `tat` (0 = no state)
 * at `now`; fills *res and returns the new TAT (== tat when nothing is taken).
 * Inline because both the shared-memory path and table mode use it.
 */
static inline int64
rl_gcra(int64 tat, int64 now, const RlLimits *lim, int32 cost, RlResult *res)
{
	int64		base = tat > now ? tat : now;
	int64		debt = base - now;
	int64		inc = (int64) cost * lim->interval_ns;
	int64		new_tat = tat;
	int64		after;

	if (debt + inc <= lim->tolerance_ns)
	{
		res->allowed = true;
		res->retry_after_ns = 0;
		if (cost > 0)
			new_tat = base + inc;
		after = debt + inc;
	}
	else
	{
		res->allowed = false;
		res->retry_after_ns = debt + inc - lim->tolerance_ns;
		after = debt;
	}
	res->reset_after_ns = after;
	res->remaining = after >= lim->tolerance_ns ? 0 :
		(int32) ((lim->tolerance_ns - after) / lim->interval_ns);
	return new_tat;
}

/* Wall clock in ns since 2000-01-01 UTC (the epoch of every TAT). */
extern int64 rl_now_ns(void);

/* ratelimit_shm.c: shared-memory store (NULL-safe: false when not preloaded). */
extern void rl_shm_register(void);
extern bool rl_shm_available(void);
extern uint64 rl_shm_hash(const char *key, int len);
extern void rl_shm_take(uint64 hash, int64 now, const RlLimits *lim, int32 cost, RlResult *res);
extern bool rl_shm_reset(uint64 hash, int64 now);
/* Add the store's geometry, keys and evictions to an ff_status() detail. */
struct FfStatus;
extern void rl_shm_status(struct FfStatus *st);

#endif							/* FF_RATELIMIT_H */
