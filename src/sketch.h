/*
 * sketch.h — log-bucketed (DDSketch-style) latency sketch shared by the metrics
 * recorder (shared memory), the flush and the SQL merge/quantile functions.
 */
#ifndef FF_SKETCH_H
#define FF_SKETCH_H

#include "postgres.h"

/*
 * Bucket i >= 1 holds values in (MIN * G^(i-1), MIN * G^i] and reports
 * 2 * MIN * G^i / (G + 1), which is within ALPHA of every value in it.
 * Bucket 0 holds (0, MIN] (and zero).  With 1024 buckets the exact range is
 * 1 µs … ~277 s; values above are clamped into the top bucket.  Inputs are
 * bounded by FF_METRICS_MAX_MS (22023 above it), and counts saturate at
 * PG_INT64_MAX (ff_sketch_add_count), so no merge of accepted input overflows.
 */
#define FF_SKETCH_NBUCKETS	1024
#define FF_SKETCH_ALPHA		0.0095	/* relative accuracy (< 1 % with margin) */
#define FF_SKETCH_MIN_MS	1e-3	/* 1 µs */
#define FF_SKETCH_VERSION	1

/* Longest duration accepted anywhere in metrics (one hour, in ms): 22023 above. */
#define FF_METRICS_MAX_MS	3600000.0

/* Saturating count addition: a sum of counts never wraps or exceeds PG_INT64_MAX. */
static inline uint64
ff_sketch_add_count(uint64 a, uint64 b)
{
	uint64		s = a + b;

	return (s < a || s > (uint64) PG_INT64_MAX) ? (uint64) PG_INT64_MAX : s;
}

/* Bucket index of a duration in milliseconds (finite, >= 0). */
extern int	ff_sketch_index(double ms);

/* Representative value (ms) of bucket idx. */
extern double ff_sketch_value(int idx);

/* Sparse bytea encoding of dense 32-bit counts (shared-memory slots). */
extern bytea *ff_sketch_encode32(const uint32 *counts);

/* Sparse bytea encoding of dense 64-bit counts over [lo, hi] (lo <= hi, or empty). */
extern bytea *ff_sketch_encode64(const uint64 *counts, int lo, int hi);

/* Encoding of a sketch that holds one sample. */
extern bytea *ff_sketch_single(double ms);

/*
 * Decode `b` into pairs (idx[k], cnt[k]), k < *npairs; idx ascending.  Arrays
 * must hold FF_SKETCH_NBUCKETS entries.  Malformed input raises 22P03.
 */
extern void ff_sketch_decode(const bytea *b, int *idx, uint64 *cnt, int *npairs);

#endif							/* FF_SKETCH_H */
