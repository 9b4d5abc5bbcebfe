-- bench/feed/timing.sql — server-side page timing (single client): for random viewers,
-- fetch pages 1..p_pages of a lane with our ranker (cursors) or the baseline (offsets),
-- timing each page call with clock_timestamp().
CREATE SCHEMA IF NOT EXISTS ff_bench;
CREATE TABLE IF NOT EXISTS ff_bench.viewers AS
SELECT row_number() OVER ()::int AS i, v AS uid
FROM (SELECT DISTINCT follower_user_id AS v FROM follows ORDER BY 1 LIMIT 5000) z;
CREATE UNIQUE INDEX IF NOT EXISTS viewers_i ON ff_bench.viewers (i);

CREATE OR REPLACE FUNCTION ff_bench.time_pages(p_impl text, p_lane text, p_viewers int, p_pages int,
                                               p_seed float8 DEFAULT 0.5)
  RETURNS TABLE (page int, ms float8) LANGUAGE plpgsql SET search_path = public, pg_catalog AS $$
DECLARE v uuid; c text; t0 timestamptz; nv int := (SELECT count(*) FROM ff_bench.viewers); dummy bigint; vi int;
BEGIN
  PERFORM setseed(p_seed);
  FOR j IN 1..p_viewers LOOP
    vi := 1 + floor(random() * nv)::int;
    SELECT uid INTO v FROM ff_bench.viewers WHERE i = vi;
    c := NULL;
    FOR p IN 1..p_pages LOOP
      t0 := clock_timestamp();
      IF p_impl = 'ours' THEN
        SELECT f.cursor INTO c FROM feed_fusion_home_for(v, p_lane, c, 20) f ORDER BY f.pos DESC LIMIT 1;
      ELSE
        SELECT count(*) INTO dummy FROM ff_bench.baseline_home(v, p_lane, (p - 1) * 20, 20);
      END IF;
      page := p; ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
      RETURN NEXT;
      EXIT WHEN p_impl = 'ours' AND c IS NULL;
    END LOOP;
  END LOOP;
END $$;

-- median and p99 per (first page | pages 2-5)
CREATE OR REPLACE FUNCTION ff_bench.summary(p_impl text, p_lane text, p_viewers int, p_pages int)
  RETURNS TABLE (impl text, lane text, pages text, n bigint, median_ms numeric, p99_ms numeric)
  LANGUAGE sql AS $$
  SELECT p_impl, p_lane, CASE WHEN page = 1 THEN 'first' ELSE '2-5' END, count(*),
         round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 3),
         round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 3)
  FROM ff_bench.time_pages(p_impl, p_lane, p_viewers, p_pages) GROUP BY 3 ORDER BY 3 DESC
$$;
