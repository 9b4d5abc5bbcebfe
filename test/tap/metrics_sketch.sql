-- Latency sketch: accuracy over 1 µs … 100 s, mergeability, encoding, bad input.
BEGIN;
SELECT plan(16);

-- Every value on a fine log grid over 1 µs … 100 s comes back within 1 %.
SELECT is((SELECT count(*) FROM generate_series(0, 8000) i,
                LATERAL (SELECT 1e-3 * power(10, i / 1000.0) AS x) v
           WHERE abs(ff_sketch_quantile((SELECT ff_sketch_agg(y) FROM (VALUES (v.x)) t(y)), 0.5) - v.x) > 0.01 * v.x),
          0::bigint, 'single values 1 µs … 100 s: relative error <= 1 %');
SELECT cmp_ok((SELECT max(abs(ff_sketch_quantile((SELECT ff_sketch_agg(y) FROM (VALUES (v.x)) t(y)), 0.5) - v.x) / v.x)
               FROM generate_series(0, 8000) i, LATERAL (SELECT 1e-3 * power(10, i / 1000.0) AS x) v),
              '<', 0.0096::float8, 'worst relative error is the design accuracy (0.95 %)');

-- Nearest-rank semantics on a small exact case.
SELECT is((SELECT ff_sketch_quantile(ff_sketch_agg(x), 0.5) FROM generate_series(1, 4) x) BETWEEN 1.98 AND 2.02,
          true, 'p50 of {1,2,3,4} is the 2nd value (nearest rank)');
SELECT is((SELECT ff_sketch_quantile(ff_sketch_agg(x), 1) FROM generate_series(1, 4) x) BETWEEN 3.96 AND 4.04,
          true, 'q = 1 is the maximum');
SELECT is((SELECT ff_sketch_quantile(ff_sketch_agg(x), 0) FROM generate_series(1, 4) x) BETWEEN 0.99 AND 1.01,
          true, 'q = 0 is the minimum');

-- Merge of sketches = sketch of the union (byte for byte), and counts add.
SELECT setseed(0.7);
CREATE TEMP TABLE s ON COMMIT DROP AS
SELECT (x % 7) AS part, exp(ln(5) + 1.5 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())) AS d
FROM generate_series(1, 50000) x;
CREATE TEMP TABLE parts ON COMMIT DROP AS SELECT part, ff_sketch_agg(d) AS sk FROM s GROUP BY part;
SELECT is((SELECT ff_sketch_merge(sk) FROM parts), (SELECT ff_sketch_agg(d) FROM s),
          'merge(sketch(A_i)) = sketch(union A_i)');
SELECT is((SELECT ff_sketch_merge(sk ORDER BY part DESC) FROM parts), (SELECT ff_sketch_merge(sk ORDER BY part) FROM parts),
          'merge is order-independent');
SELECT is((SELECT ff_sketch_count(ff_sketch_merge(sk)) FROM parts), 50000::bigint, 'counts add up');
SELECT is((SELECT ff_sketch_merge(sk) FROM (SELECT sk FROM parts UNION ALL SELECT NULL) x),
          (SELECT ff_sketch_agg(d) FROM s), 'NULL sketches are skipped');
SELECT is((SELECT ff_sketch_merge(sk) FROM parts WHERE false), NULL, 'merge of nothing is NULL');
SELECT cmp_ok((SELECT octet_length(ff_sketch_agg(d)) FROM s), '<', 2048,
              'sparse encoding of 50,000 samples (~400 buckets) is under 2 kB');

-- Bad input.
SELECT throws_ok($$SELECT ff_sketch_quantile('\x0201'::bytea, 0.5)$$, '22P03', NULL, 'unknown version: 22P03');
SELECT throws_ok($$SELECT ff_sketch_quantile('\x01ff'::bytea, 0.5)$$, '22P03', NULL, 'truncated varint: 22P03');
SELECT throws_ok($$SELECT ff_sketch_quantile('\x01ff0f01'::bytea, 0.5)$$, '22P03', NULL, 'bucket out of range: 22P03');
SELECT throws_ok($$SELECT ff_sketch_quantile(ff_sketch_agg(1), 1.5)$$, '22023', NULL, 'q outside 0..1: 22023');
SELECT throws_ok($$SELECT ff_sketch_agg(x) FROM (VALUES (1::float8), ('NaN')) v(x)$$, '22023', NULL,
                 'NaN duration: 22023');

SELECT * FROM finish();
ROLLBACK;
