-- Baseline: the seed's _log_rpc — one INSERT per call into a plain table, percentiles
-- computed later over raw rows.  Installed into schema bench_metrics by run.sh.
CREATE SCHEMA IF NOT EXISTS bench_metrics;
CREATE TABLE IF NOT EXISTS bench_metrics.rpc_calls (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  rpc          text NOT NULL,
  duration_ms  float8 NOT NULL,
  ok           boolean NOT NULL DEFAULT true,
  called_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS rpc_calls_rpc_at_idx ON bench_metrics.rpc_calls (rpc, called_at);
CREATE OR REPLACE FUNCTION bench_metrics.log_rpc(p_rpc text, p_duration_ms float8, p_ok boolean DEFAULT true)
  RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF p_rpc IS NULL OR p_rpc = '' OR p_duration_ms IS NULL OR p_duration_ms < 0
     OR p_duration_ms = 'Infinity'::float8 OR p_duration_ms <> p_duration_ms THEN
    RAISE EXCEPTION 'bad input' USING ERRCODE = '22023';
  END IF;
  INSERT INTO bench_metrics.rpc_calls (rpc, duration_ms, ok) VALUES (p_rpc, p_duration_ms, p_ok);
END $$;

-- 30 days x 20 RPCs of per-minute rpc_metrics rows (the view benchmark), built from a
-- pool of real sketches so each row carries a realistic sketch (~30 samples).
CREATE OR REPLACE FUNCTION bench_metrics.fill_rpc_metrics(p_days int, p_rpcs int) RETURNS bigint
  LANGUAGE plpgsql AS $$
DECLARE
  ext text := (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'feed_fusion');
  pm  text := (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_partman');
  n   bigint;
  v_day timestamptz;
BEGIN
  PERFORM setseed(0.11);
  -- daily partitions for the whole range, named as pg_partman names them (feed_fusion keeps
  -- its partman config outside part_config between maintenance runs, see docs/operations.md)
  FOR v_day IN SELECT generate_series(date_trunc('day', now()) - make_interval(days => p_days),
                                  date_trunc('day', now()), interval '1 day') LOOP
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I.%I PARTITION OF %I.rpc_metrics FOR VALUES FROM (%L) TO (%L)',
                   ext, 'rpc_metrics_p' || to_char(v_day, 'YYYY_MM_DD'), ext, v_day, v_day + interval '1 day');
  END LOOP;
  CREATE TEMP TABLE pool ON COMMIT DROP AS
  SELECT g AS id, s.sk, s.n, s.total, s.mx
  FROM generate_series(0, 199) g,
  LATERAL (SELECT ff_sketch_agg(d) AS sk, count(*) AS n, sum(d) AS total, max(d) AS mx
           FROM (SELECT exp(ln(5 + g % 20) + 0.7 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())) AS d
                 FROM generate_series(1, 30) WHERE g >= 0) x) s;
  EXECUTE format('INSERT INTO %I.rpc_metrics (rpc, bucket_start, calls, errors, total_ms, max_ms, sketch)
    SELECT ''rpc_'' || lpad(r::text, 2, ''0''), m, p.n, (p.id %% 7 = 0)::int, p.total, p.mx, p.sk
    FROM generate_series(1, %s) r,
         generate_series(date_trunc(''minute'', now()) - make_interval(days => %s), date_trunc(''minute'', now()) - interval ''2 minutes'', interval ''1 minute'') m,
         pool p
    WHERE p.id = (abs(hashtext(m::text)) + r) %% 200', ext, p_rpcs, p_days);
  GET DIAGNOSTICS n = ROW_COUNT;
  EXECUTE format('ANALYZE %I.rpc_metrics', ext);
  RETURN n;
END $$;
