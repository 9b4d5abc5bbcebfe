/*
 * rank_key.c — the order-preserving score key.
 *
 * What: ff_rank_key(base_score, created_at) = ln(base_score) + epoch(created_at)/172800.
 * Why:  score(t) = base_score * exp(-(t - created_at)/48h) = exp(rank_key - t/172800),
 *       so ordering by rank_key orders by score at every t.  Stored and indexed, it lets
 *       ranking and keyset cursors be index-driven; ff_score_at() recovers the score.
 * Locking: none (pure functions).
 */
#include "postgres.h"

#include <math.h>

#include "datatype/timestamp.h"
#include "utils/timestamp.h"

#include "feed_fusion.h"

PG_FUNCTION_INFO_V1(ff_rank_key);
PG_FUNCTION_INFO_V1(ff_score_at);

/* SQL: ff_rank_key(float8, timestamptz) RETURNS float8 IMMUTABLE STRICT. */
Datum
ff_rank_key(PG_FUNCTION_ARGS)
{
	float8		base = PG_GETARG_FLOAT8(0);
	TimestampTz ts = PG_GETARG_TIMESTAMPTZ(1);

	if (!(base > 0.0) || isinf(base))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("base_score must be a finite number greater than 0, got %g", base)));
	if (TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("created_at must be finite")));
	PG_RETURN_FLOAT8(log(base) + ff_time_key(ts));
}

/* SQL: ff_score_at(rank_key float8, at timestamptz) RETURNS float8 — the score at time `at`. */
Datum
ff_score_at(PG_FUNCTION_ARGS)
{
	float8		rk = PG_GETARG_FLOAT8(0);
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(1);

	PG_RETURN_FLOAT8(exp(rk - ff_time_key(at)));
}
