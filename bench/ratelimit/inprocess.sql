-- In-process cost per call: an n-row loop (psql variable n; 1,000,000 in shared-memory
-- mode) calling the limiter, minus the same loop calling a trivial C function (textlen)
-- on the same argument.  Prints ns per call.
CREATE OR REPLACE FUNCTION pg_temp.ns_per_row(q text, n int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; t1 timestamptz;
BEGIN
  t0 := clock_timestamp(); EXECUTE format(q, n); t1 := clock_timestamp();
  RETURN extract(epoch FROM t1 - t0) * 1e9 / n;
END $$;
SELECT 'rate_limit_take' AS what, round((pg_temp.ns_per_row(
  $q$SELECT count(*) FROM (SELECT rate_limit_take('bench/' || (g %% 100000), 1000000, interval '1 hour') FROM generate_series(1, %s) g) s$q$, :n)
  - pg_temp.ns_per_row(
  $q$SELECT count(*) FROM (SELECT textlen('bench/' || (g %% 100000)) FROM generate_series(1, %s) g) s$q$, :n))::numeric, 0) AS ns_per_call
UNION ALL
SELECT 'rate_limit_take_1key', round((pg_temp.ns_per_row(CASE WHEN (SELECT mode FROM ff_status() WHERE component = 'rate_limiter') = 'table' THEN 'SELECT %s' ELSE
  $q$SELECT count(*) FROM (SELECT rate_limit_take('bench/' || (g %% 1), 1000000, interval '1 hour') FROM generate_series(1, %s) g) s$q$ END, :n)
  - pg_temp.ns_per_row(
  $q$SELECT count(*) FROM (SELECT textlen('bench/' || (g %% 1)) FROM generate_series(1, %s) g) s$q$, :n))::numeric, 0)
UNION ALL
SELECT 'check_rate_limit', round((pg_temp.ns_per_row(
  $q$SELECT count(*) FILTER (WHERE check_rate_limit('standard')) FROM generate_series(1, %s) g$q$, :n)
  - pg_temp.ns_per_row(
  $q$SELECT count(*) FILTER (WHERE textlen('standard') > 0) FROM generate_series(1, %s) g$q$, :n))::numeric, 0);
