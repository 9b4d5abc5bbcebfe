-- bench/feed/timing.sql — server-side page timing for bench/feed/run.sh (single client):
-- walk pages 1..p_pages of a lane for random viewers with our ranker (cursors), the
-- strong baseline (bench/feed/baseline_keyset.sql, its state) or the seed-style baseline
-- (bench/feed/baseline.sql, offsets), timing each page call with clock_timestamp().
-- Lives in schema ff_bench, which run.sh drops when it ends (the bench database keeps
-- nothing of the benchmark).  Viewers (bench/gen/generate.sql):
--   normal    a random generated user 1..N (N = person entities)
--   heavy     users 900001..900010: 5,000 follows, 90 % of them dormant entities
--   heavy700  users 900011..900020: 810 follows, 700 of them dormant entities
CREATE SCHEMA IF NOT EXISTS ff_bench;

CREATE OR REPLACE FUNCTION ff_bench.uid(n bigint) RETURNS uuid LANGUAGE sql IMMUTABLE AS
$$ SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid $$;

-- A random viewer of the given kind (random() is seeded by the caller).
CREATE OR REPLACE FUNCTION ff_bench.pick(p_who text, p_users int) RETURNS uuid
  LANGUAGE sql VOLATILE AS $$
  SELECT ff_bench.uid(CASE p_who WHEN 'heavy' THEN 900001 + floor(random() * 10)::int
                                 WHEN 'heavy700' THEN 900011 + floor(random() * 10)::int
                                 ELSE 1 + floor(random() * p_users)::int END)
$$;

-- One page: returns the continuation (our cursor / the baseline's state), NULL at the end.
CREATE OR REPLACE FUNCTION ff_bench.page(p_impl text, p_viewer uuid, p_lane text, p_page int,
                                         p_cont text, p_limit int) RETURNS text
  LANGUAGE plpgsql VOLATILE SET search_path = public, pg_catalog AS $$
DECLARE c text; dummy bigint;
BEGIN
  IF p_impl = 'ours' THEN
    SELECT f.cursor INTO c FROM feed_fusion_home_for(p_viewer, p_lane, p_cont, p_limit) f ORDER BY f.pos DESC LIMIT 1;
  ELSIF p_impl = 'keyset' THEN
    SELECT b.state::text INTO c FROM ff_bench.keyset_home(p_viewer, p_lane, p_cont::jsonb, p_limit) b ORDER BY b.pos DESC LIMIT 1;
  ELSE
    SELECT count(*) INTO dummy FROM ff_bench.baseline_home(p_viewer, p_lane, (p_page - 1) * p_limit, p_limit);
    c := CASE WHEN dummy = p_limit THEN 'offset' END;
  END IF;
  RETURN c;
END $$;

CREATE OR REPLACE FUNCTION ff_bench.time_pages(p_impl text, p_lane text, p_who text, p_viewers int,
                                               p_pages int, p_limit int DEFAULT 20, p_seed float8 DEFAULT 0.5,
                                               p_warm int DEFAULT 1)
  RETURNS TABLE (page int, ms float8) LANGUAGE plpgsql VOLATILE SET search_path = public, pg_catalog AS $$
DECLARE v uuid; c text; t0 timestamptz; nu int := (SELECT count(*) FROM entities WHERE kind = 'person');
BEGIN
  -- p_warm untimed walks first (other viewers): this (new) backend prepares its plans
  -- and fills its per-backend caches, as a pooled connection has long done in production
  PERFORM setseed(p_seed / 2);
  FOR j IN 1..p_warm LOOP
    v := ff_bench.pick(p_who, nu);
    c := NULL;
    FOR p IN 1..p_pages LOOP
      c := ff_bench.page(p_impl, v, p_lane, p, c, p_limit);
      EXIT WHEN c IS NULL;
    END LOOP;
  END LOOP;
  PERFORM setseed(p_seed);
  FOR j IN 1..p_viewers LOOP
    v := ff_bench.pick(p_who, nu);
    c := NULL;
    FOR p IN 1..p_pages LOOP
      t0 := clock_timestamp();
      c := ff_bench.page(p_impl, v, p_lane, p, c, p_limit);
      page := p; ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
      RETURN NEXT;
      EXIT WHEN c IS NULL;
    END LOOP;
  END LOOP;
END $$;

-- pgbench: one viewer's pages 1..p_pages in one statement; returns the pages served.
CREATE OR REPLACE FUNCTION ff_bench.walk(p_impl text, p_user int, p_lane text, p_pages int, p_limit int DEFAULT 20)
  RETURNS int LANGUAGE plpgsql VOLATILE SET search_path = public, pg_catalog AS $$
DECLARE c text; v uuid := ff_bench.uid(p_user);
BEGIN
  FOR p IN 1..p_pages LOOP
    c := ff_bench.page(p_impl, v, p_lane, p, c, p_limit);
    IF c IS NULL THEN RETURN p; END IF;
  END LOOP;
  RETURN p_pages;
END $$;
