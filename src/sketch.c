/*
 * sketch.c — mergeable latency sketch (DDSketch-style log buckets).
 *
 * What: a sketch maps a duration x (ms) to bucket i = ceil(log_G(x / 1 µs)) with
 *       G = (1 + a) / (1 - a), a = 0.0095; bucket i reports 2 * 1µs * G^i / (G + 1),
 *       which lies within a relative error a of every value in the bucket.  The
 *       nearest-rank quantile (rank = ceil(q * n), as percentile_disc) is the
 *       representative of the bucket holding that rank, so it is within a (< 1 %)
 *       of the exact nearest-rank sample for 1 µs … ~277 s.  Sketches merge by
 *       adding counts, so merge(sketch(A), sketch(B)) = sketch(A ∪ B) exactly.
 * Why:  per-minute aggregates stay small and any range rolls up without raw rows.
 * Format (bytea): one version byte (1), then for each non-empty bucket in
 *       ascending order: varint(index - previous index - 1), varint(count)
 *       (LEB128; "previous" starts at -1).  A typical minute takes 50–300 bytes.
 * SQL:  ff_sketch_quantile(bytea, q), ff_sketch_count(bytea), ff_sketch_union(a, b),
 *       aggregates ff_sketch_merge(bytea), ff_sketch_agg(float8 ms) and
 *       ff_sketch_merge_quantiles(bytea, float8[]) (merge + several quantiles in one
 *       pass: what rpc_metrics_hourly uses, one decode per input row).
 * Locking: none (pure functions; the shared-memory recorder locks).
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "sketch.h"
#include "varint.h"

PG_FUNCTION_INFO_V1(ff_sketch_quantile);
PG_FUNCTION_INFO_V1(ff_sketch_count);
PG_FUNCTION_INFO_V1(ff_sketch_merge_trans);
PG_FUNCTION_INFO_V1(ff_sketch_add_trans);
PG_FUNCTION_INFO_V1(ff_sketch_final);
PG_FUNCTION_INFO_V1(ff_sketch_union);
PG_FUNCTION_INFO_V1(ff_sketch_quantiles_final);
PG_FUNCTION_INFO_V1(ff_sketch_merge_q_trans);
PG_FUNCTION_INFO_V1(ff_sketch_quantiles);

#define FF_SKETCH_GAMMA ((1.0 + FF_SKETCH_ALPHA) / (1.0 - FF_SKETCH_ALPHA))
/* Worst-case encoded size: version byte + per bucket two varints. */
#define FF_SKETCH_MAXBYTES (1 + FF_SKETCH_NBUCKETS * 2 * FF_VARINT_MAX_BYTES)

/* ln(G), computed once: the recorder calls ff_sketch_index on every RPC. */
static double ln_gamma = 0.0;

/* Bucket of a duration: the hot path of recording (one log()). */
int
ff_sketch_index(double ms)
{
	double		r;

	if (!(ms > FF_SKETCH_MIN_MS))	/* also catches NaN defensively */
		return 0;
	if (ln_gamma == 0.0)
		ln_gamma = log(FF_SKETCH_GAMMA);
	r = ceil(log(ms / FF_SKETCH_MIN_MS) / ln_gamma);
	if (r >= FF_SKETCH_NBUCKETS - 1)
		return FF_SKETCH_NBUCKETS - 1;
	return r < 1 ? 1 : (int) r;
}

/* Representative value of a bucket: the point of least worst-case relative error. */
double
ff_sketch_value(int idx)
{
	if (idx <= 0)
		return FF_SKETCH_MIN_MS;
	if (ln_gamma == 0.0)
		ln_gamma = log(FF_SKETCH_GAMMA);
	return FF_SKETCH_MIN_MS * exp(idx * ln_gamma) * 2.0 / (FF_SKETCH_GAMMA + 1.0);
}

/* Start an encoding buffer (worst-case size; the varlena length is set at the end). */
static bytea *
encode_begin(uint8 **p)
{
	bytea	   *res = (bytea *) palloc(VARHDRSZ + FF_SKETCH_MAXBYTES);

	*p = (uint8 *) VARDATA(res);
	*(*p)++ = FF_SKETCH_VERSION;
	return res;
}

/* Encode 32-bit dense counts (a shared-memory slot copy). */
bytea *
ff_sketch_encode32(const uint32 *counts)
{
	uint8	   *p;
	bytea	   *res = encode_begin(&p);
	int			prev = -1;
	int			i;

	for (i = 0; i < FF_SKETCH_NBUCKETS; i++)
	{
		if (counts[i] == 0)
			continue;
		p = ff_varint_put(p, (uint64) (i - prev - 1));
		p = ff_varint_put(p, counts[i]);
		prev = i;
	}
	SET_VARSIZE(res, p - (uint8 *) res);
	return res;
}

/* Encode 64-bit dense counts held for bucket range [lo, hi] (counts[0] is bucket lo). */
bytea *
ff_sketch_encode64(const uint64 *counts, int lo, int hi)
{
	uint8	   *p;
	bytea	   *res = encode_begin(&p);
	int			prev = -1;
	int			i;

	for (i = lo; i <= hi; i++)
	{
		if (counts[i - lo] == 0)
			continue;
		p = ff_varint_put(p, (uint64) (i - prev - 1));
		p = ff_varint_put(p, counts[i - lo]);
		prev = i;
	}
	SET_VARSIZE(res, p - (uint8 *) res);
	return res;
}

/* One-sample sketch: what table mode stores per call. */
bytea *
ff_sketch_single(double ms)
{
	uint8	   *p;
	bytea	   *res = encode_begin(&p);

	p = ff_varint_put(p, (uint64) ff_sketch_index(ms));
	p = ff_varint_put(p, 1);
	SET_VARSIZE(res, p - (uint8 *) res);
	return res;
}

/* Decode with full validation: stored sketches may come from anywhere (bytea input). */
void
ff_sketch_decode(const bytea *b, int *idx, uint64 *cnt, int *npairs)
{
	const uint8 *p = (const uint8 *) VARDATA_ANY(b);
	const uint8 *end = p + VARSIZE_ANY_EXHDR(b);
	int64		prev = -1;
	int			n = 0;

	if (p >= end || *p != FF_SKETCH_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid latency sketch: unknown format version")));
	p++;
	while (p < end)
	{
		uint64		delta,
					c;

		if (!ff_varint_get(&p, end, &delta) || !ff_varint_get(&p, end, &c) ||
			delta >= FF_SKETCH_NBUCKETS || prev + 1 + (int64) delta >= FF_SKETCH_NBUCKETS ||
			c == 0 || c > PG_INT64_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid latency sketch: corrupt bucket list")));
		prev = prev + 1 + (int64) delta;
		idx[n] = (int) prev;
		cnt[n] = c;
		n++;
	}
	*npairs = n;
}

/* ff_sketch_quantile(sketch, q): nearest-rank quantile in ms; NULL for an empty sketch. */
Datum
ff_sketch_quantile(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	double		q = PG_GETARG_FLOAT8(1);
	int			idx[FF_SKETCH_NBUCKETS];
	uint64		cnt[FF_SKETCH_NBUCKETS];
	int			npairs,
				k;
	uint64		n = 0,
				seen = 0;
	int64		rank;

	if (isnan(q) || q < 0.0 || q > 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("quantile must be between 0 and 1, got %g", q)));
	ff_sketch_decode(b, idx, cnt, &npairs);
	for (k = 0; k < npairs; k++)
		n = ff_sketch_add_count(n, cnt[k]);
	if (n == 0)
		PG_RETURN_NULL();
	rank = ceil(q * (double) n) >= (double) PG_INT64_MAX ? PG_INT64_MAX : (int64) ceil(q * (double) n);
	if (rank < 1)
		rank = 1;
	for (k = 0; k < npairs; k++)
	{
		seen = ff_sketch_add_count(seen, cnt[k]);
		if (seen >= (uint64) rank)
			break;
	}
	PG_RETURN_FLOAT8(ff_sketch_value(idx[Min(k, npairs - 1)]));
}

/* ff_sketch_count(sketch): number of samples, so callers can weigh sketches. */
Datum
ff_sketch_count(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	int			idx[FF_SKETCH_NBUCKETS];
	uint64		cnt[FF_SKETCH_NBUCKETS];
	int			npairs,
				k;
	uint64		n = 0;

	ff_sketch_decode(b, idx, cnt, &npairs);
	for (k = 0; k < npairs; k++)
		n = ff_sketch_add_count(n, cnt[k]);
	PG_RETURN_INT64((int64) n);
}

/*
 * Aggregate state: dense counts over the bucket range seen so far, so a group
 * costs a few hundred bytes for typical latency spreads instead of 8 kB.
 */
typedef struct SketchState
{
	int			lo;				/* first bucket held (lo > hi: empty) */
	int			hi;				/* last bucket held */
	uint64	   *counts;			/* counts[i - lo] */
	ArrayType  *qs;				/* ff_sketch_merge_quantiles: the quantiles asked */
} SketchState;

/* Fetch or create the state in the aggregate's memory context. */
static SketchState *
state_get(FunctionCallInfo fcinfo)
{
	MemoryContext aggcxt;
	SketchState *st;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("sketch aggregate transition function called outside an aggregate")));
	if (!PG_ARGISNULL(0))
		return (SketchState *) PG_GETARG_POINTER(0);
	st = (SketchState *) MemoryContextAllocZero(aggcxt, sizeof(SketchState));
	st->lo = 1;
	st->hi = 0;
	return st;
}

/* Widen the held range to include [a, b] (with slack, so growth is rare). */
static void
state_cover(FunctionCallInfo fcinfo, SketchState *st, int a, int b)
{
	MemoryContext aggcxt;
	int			nlo,
				nhi;
	uint64	   *nc;

	if (st->lo <= st->hi && a >= st->lo && b <= st->hi)
		return;
	(void) AggCheckCallContext(fcinfo, &aggcxt);
	nlo = Max(0, a - 16);
	nhi = Min(FF_SKETCH_NBUCKETS - 1, b + 16);
	if (st->lo <= st->hi)
	{
		nlo = Min(nlo, st->lo);
		nhi = Max(nhi, st->hi);
	}
	nc = (uint64 *) MemoryContextAllocZero(aggcxt, sizeof(uint64) * (nhi - nlo + 1));
	if (st->lo <= st->hi)
	{
		memcpy(nc + (st->lo - nlo), st->counts, sizeof(uint64) * (st->hi - st->lo + 1));
		pfree(st->counts);
	}
	st->counts = nc;
	st->lo = nlo;
	st->hi = nhi;
}

/* ff_sketch_merge transition: add a stored sketch's counts (NULL sketches are skipped). */
Datum
ff_sketch_merge_trans(PG_FUNCTION_ARGS)
{
	SketchState *st = state_get(fcinfo);
	bytea	   *b;
	int			idx[FF_SKETCH_NBUCKETS];
	uint64		cnt[FF_SKETCH_NBUCKETS];
	int			npairs,
				k;

	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(st);
	b = PG_GETARG_BYTEA_PP(1);
	ff_sketch_decode(b, idx, cnt, &npairs);
	if (npairs == 0)
		PG_RETURN_POINTER(st);
	state_cover(fcinfo, st, idx[0], idx[npairs - 1]);
	for (k = 0; k < npairs; k++)
		st->counts[idx[k] - st->lo] = ff_sketch_add_count(st->counts[idx[k] - st->lo], cnt[k]);
	PG_RETURN_POINTER(st);
}

/* ff_sketch_agg transition: add one raw duration in ms (NULL skipped, bad values 22023). */
Datum
ff_sketch_add_trans(PG_FUNCTION_ARGS)
{
	SketchState *st = state_get(fcinfo);
	double		ms;
	int			i;

	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(st);
	ms = PG_GETARG_FLOAT8(1);
	if (isnan(ms) || ms < 0 || ms > FF_METRICS_MAX_MS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("duration must be between 0 and %.0f milliseconds, got %.15g",
						FF_METRICS_MAX_MS, ms)));
	i = ff_sketch_index(ms);
	state_cover(fcinfo, st, i, i);
	st->counts[i - st->lo] = ff_sketch_add_count(st->counts[i - st->lo], 1);
	PG_RETURN_POINTER(st);
}

/* Final function of both aggregates: the sparse encoding, NULL when nothing was added. */
Datum
ff_sketch_final(PG_FUNCTION_ARGS)
{
	SketchState *st;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (SketchState *) PG_GETARG_POINTER(0);
	if (st->lo > st->hi)
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(ff_sketch_encode64(st->counts, st->lo, st->hi));
}

/* ff_sketch_union(a, b): the merge of two sketches (NULL acts as empty), for upserts. */
Datum
ff_sketch_union(PG_FUNCTION_ARGS)
{
	int		   *idx;
	uint64	   *cnt;
	uint64	   *dense;
	int			npairs,
				k,
				arg,
				lo = FF_SKETCH_NBUCKETS,
				hi = -1;

	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		PG_RETURN_NULL();
	idx = palloc(sizeof(int) * FF_SKETCH_NBUCKETS);
	cnt = palloc(sizeof(uint64) * FF_SKETCH_NBUCKETS);
	dense = palloc0(sizeof(uint64) * FF_SKETCH_NBUCKETS);
	for (arg = 0; arg < 2; arg++)
	{
		if (PG_ARGISNULL(arg))
			continue;
		ff_sketch_decode(PG_GETARG_BYTEA_PP(arg), idx, cnt, &npairs);
		for (k = 0; k < npairs; k++)
		{
			dense[idx[k]] = ff_sketch_add_count(dense[idx[k]], cnt[k]);
			lo = Min(lo, idx[k]);
			hi = Max(hi, idx[k]);
		}
	}
	if (hi < 0)
		PG_RETURN_BYTEA_P(ff_sketch_encode64(dense, 0, -1));
	PG_RETURN_BYTEA_P(ff_sketch_encode64(dense + lo, lo, hi));
}

/* ff_sketch_merge_quantiles transition: merge, and keep the first quantile array seen. */
Datum
ff_sketch_merge_q_trans(PG_FUNCTION_ARGS)
{
	SketchState *st;

	st = (SketchState *) DatumGetPointer(ff_sketch_merge_trans(fcinfo));
	if (st->qs == NULL && !PG_ARGISNULL(2))
	{
		MemoryContext aggcxt;
		MemoryContext old;

		(void) AggCheckCallContext(fcinfo, &aggcxt);
		old = MemoryContextSwitchTo(aggcxt);
		st->qs = DatumGetArrayTypePCopy(PG_GETARG_DATUM(2));
		MemoryContextSwitchTo(old);
	}
	PG_RETURN_POINTER(st);
}

/* Nearest-rank quantiles qs (float8[] in 0..1) of dense counts over [lo, hi], n total. */
static ArrayType *
quantiles_of(const uint64 *counts, int lo, int hi, uint64 n, ArrayType *qarr)
{
	Datum	   *qd;
	bool	   *qnulls;
	int			nq,
				k,
				i;
	Datum	   *out;

	deconstruct_array(qarr, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &qd, &qnulls, &nq);
	out = palloc(sizeof(Datum) * Max(nq, 1));
	for (k = 0; k < nq; k++)
	{
		double		q = qnulls[k] ? NAN : DatumGetFloat8(qd[k]);
		int64		rank;
		uint64		seen = 0;

		if (isnan(q) || q < 0.0 || q > 1.0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("quantile must be between 0 and 1")));
		rank = ceil(q * (double) n) >= (double) PG_INT64_MAX ? PG_INT64_MAX : (int64) ceil(q * (double) n);
		if (rank < 1)
			rank = 1;
		for (i = 0; i <= hi - lo; i++)
		{
			seen = ff_sketch_add_count(seen, counts[i]);
			if (seen >= (uint64) rank)
				break;
		}
		out[k] = Float8GetDatum(ff_sketch_value(lo + Min(i, hi - lo)));
	}
	return construct_array(out, nq, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/*
 * Final function of ff_sketch_merge_quantiles(sketch, qs): the nearest-rank
 * quantiles qs of the merged sketch straight from the aggregate state (no
 * re-encoding); NULL when nothing was merged.  qs is the array of the first
 * row (the view passes a constant).
 */
Datum
ff_sketch_quantiles_final(PG_FUNCTION_ARGS)
{
	SketchState *st;
	uint64		n = 0;
	int			i;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (SketchState *) PG_GETARG_POINTER(0);
	if (st->lo > st->hi || st->qs == NULL)
		PG_RETURN_NULL();
	for (i = 0; i <= st->hi - st->lo; i++)
		n = ff_sketch_add_count(n, st->counts[i]);
	if (n == 0)
		PG_RETURN_NULL();
	PG_RETURN_ARRAYTYPE_P(quantiles_of(st->counts, st->lo, st->hi, n, st->qs));
}

/* ff_sketch_quantiles(sketch, qs): several nearest-rank quantiles with one decode. */
Datum
ff_sketch_quantiles(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	int			idx[FF_SKETCH_NBUCKETS];
	uint64		cnt[FF_SKETCH_NBUCKETS];
	uint64	   *dense;
	int			npairs,
				k;
	uint64		n = 0;

	ff_sketch_decode(b, idx, cnt, &npairs);
	if (npairs == 0)
		PG_RETURN_NULL();
	dense = palloc0(sizeof(uint64) * (idx[npairs - 1] - idx[0] + 1));
	for (k = 0; k < npairs; k++)
	{
		dense[idx[k] - idx[0]] = cnt[k];
		n = ff_sketch_add_count(n, cnt[k]);
	}
	PG_RETURN_ARRAYTYPE_P(quantiles_of(dense, idx[0], idx[npairs - 1], n, PG_GETARG_ARRAYTYPE_P(1)));
}
