-- bench/feed/baseline.sql — the plain PL/pgSQL feed the way the seed did it: each
-- source's candidates with the score computed per row (base_score * exp(-age/48h)),
-- ORDER BY score, then the blend (docs/feed.md) simulated from slot 1; a page at offset N
-- replays the blend from the start (no cursors).  Same filters and rules as the C
-- ranker, so the benchmark is like for like — and the tests use it as an independent
-- reference implementation (exact sequence equality).
-- Assumes feed_fusion is installed in schema public.
CREATE SCHEMA IF NOT EXISTS ff_bench;

CREATE OR REPLACE FUNCTION ff_bench.baseline_home(
    p_viewer uuid, p_lane text, p_offset int, p_limit int,
    p_as_of timestamptz DEFAULT statement_timestamp(),
    p_shop_blend boolean DEFAULT true, p_reels boolean DEFAULT true)
  RETURNS TABLE (pos int, item_kind text, item_id bigint, entity_id uuid, source text,
                 score float8)
  LANGUAGE plpgsql STABLE SET search_path = public, pg_catalog AS $$
DECLARE
  ln   text := CASE p_lane WHEN 'combined' THEN 'for_you' WHEN 'personal' THEN 'following' ELSE p_lane END;
  cfg  record;
  need int := p_offset + p_limit + 1;
  own  uuid[];
  fol  uuid[];
  w    float8[];
  maxl int;
  -- per source s (1 network, 2 discover, 3 listings): parallel arrays, and a head index
  k1 text[]; i1 bigint[]; e1 uuid[]; s1 float8[];
  k2 text[]; i2 bigint[]; e2 uuid[]; s2 float8[];
  k3 text[]; i3 bigint[]; e3 uuid[]; s3 float8[];
  h    int[] := ARRAY[1, 1, 1];
  n    int[];
  taken int[] := ARRAY[0, 0, 0];
  win  boolean[] := '{}';
  last uuid;
  k    int := 0;
  best int; alt int; s int;
  hs   float8[]; he uuid[]; hk text[]; hi bigint[];
  el   boolean[];
  d    float8; db float8;
  nlist int;
BEGIN
  SELECT * INTO cfg FROM feed_lanes WHERE lane = ln;
  IF NOT FOUND THEN RAISE EXCEPTION 'unknown lane %', p_lane USING ERRCODE = '22023'; END IF;
  w := ARRAY[cfg.w_network, cfg.w_discover, cfg.w_listings];
  maxl := floor(cfg.listing_cap * cfg.window_size + 1e-9);
  own := ARRAY(SELECT id FROM entities WHERE owner_user_id = p_viewer);
  fol := ARRAY(SELECT f.entity_id FROM follows f WHERE f.follower_user_id = p_viewer
               AND f.entity_id <> ALL (own));
  IF p_viewer IS NULL AND ln = 'following' THEN RETURN; END IF;

  -- network
  SELECT array_agg(c.kind ORDER BY c.sc DESC, c.id DESC, c.t), array_agg(c.id ORDER BY c.sc DESC, c.id DESC, c.t),
         array_agg(c.ent ORDER BY c.sc DESC, c.id DESC, c.t), array_agg(c.sc ORDER BY c.sc DESC, c.id DESC, c.t)
    INTO k1, i1, e1, s1
  FROM (SELECT * FROM (
          SELECT p.kind, p.id, p.author_entity_id AS ent, 0 AS t,
                 p.base_score * exp(-extract(epoch FROM p_as_of - p.created_at) / 172800) AS sc
          FROM posts p
          WHERE p.deleted_at IS NULL AND p.created_at <= p_as_of AND p.author_entity_id IN (SELECT unnest(fol))
            AND NOT EXISTS (SELECT 1 FROM feed_hides x WHERE x.user_id = p_viewer AND x.item_kind = 'post' AND x.item_id = p.id)
          ORDER BY sc DESC, p.id DESC LIMIT need) a
        UNION ALL
        SELECT * FROM (
          SELECT 'event', e.id, e.host_entity_id, 2,
                 e.base_score * exp(-extract(epoch FROM p_as_of - e.created_at) / 172800) AS sc
          FROM events e
          WHERE e.ends_at > p_as_of AND e.created_at <= p_as_of AND e.host_entity_id IN (SELECT unnest(fol))
            AND NOT EXISTS (SELECT 1 FROM feed_hides x WHERE x.user_id = p_viewer AND x.item_kind = 'event' AND x.item_id = e.id)
          ORDER BY sc DESC, e.id DESC LIMIT need) b) c;
  -- discover
  SELECT array_agg(c.kind ORDER BY c.sc DESC, c.id DESC, c.t), array_agg(c.id ORDER BY c.sc DESC, c.id DESC, c.t),
         array_agg(c.ent ORDER BY c.sc DESC, c.id DESC, c.t), array_agg(c.sc ORDER BY c.sc DESC, c.id DESC, c.t)
    INTO k2, i2, e2, s2
  FROM (SELECT * FROM (
          SELECT p.kind, p.id, p.author_entity_id AS ent, 0 AS t,
                 p.base_score * exp(-extract(epoch FROM p_as_of - p.created_at) / 172800) AS sc
          FROM posts p
          WHERE p.deleted_at IS NULL AND p.created_at <= p_as_of
            AND p.author_entity_id NOT IN (SELECT unnest(fol || own))
            AND (p_reels OR p.kind <> 'reel')
            AND NOT EXISTS (SELECT 1 FROM feed_hides x WHERE x.user_id = p_viewer AND x.item_kind = 'post' AND x.item_id = p.id)
          ORDER BY sc DESC, p.id DESC LIMIT need) a
        UNION ALL
        SELECT * FROM (
          SELECT 'event', e.id, e.host_entity_id, 2,
                 e.base_score * exp(-extract(epoch FROM p_as_of - e.created_at) / 172800) AS sc
          FROM events e
          WHERE e.ends_at > p_as_of AND e.created_at <= p_as_of
            AND e.host_entity_id NOT IN (SELECT unnest(fol || own))
            AND NOT EXISTS (SELECT 1 FROM feed_hides x WHERE x.user_id = p_viewer AND x.item_kind = 'event' AND x.item_id = e.id)
          ORDER BY sc DESC, e.id DESC LIMIT need) b) c;
  -- listings
  IF p_shop_blend OR ln NOT IN ('for_you', 'following') THEN
    SELECT array_agg('listing'::text ORDER BY c.sc DESC, c.id DESC), array_agg(c.id ORDER BY c.sc DESC, c.id DESC),
           array_agg(c.ent ORDER BY c.sc DESC, c.id DESC), array_agg(c.sc ORDER BY c.sc DESC, c.id DESC)
      INTO k3, i3, e3, s3
    FROM (SELECT l.id, l.seller_entity_id AS ent,
                 l.base_score * exp(-extract(epoch FROM p_as_of - l.created_at) / 172800) AS sc
          FROM listings l
          WHERE l.status = 'active' AND l.created_at <= p_as_of AND l.seller_entity_id NOT IN (SELECT unnest(own))
            AND NOT EXISTS (SELECT 1 FROM feed_hides x WHERE x.user_id = p_viewer AND x.item_kind = 'listing' AND x.item_id = l.id)
            AND NOT EXISTS (SELECT 1 FROM shopping_cart_items ci WHERE ci.user_id = p_viewer AND ci.listing_id = l.id)
          ORDER BY sc DESC, l.id DESC LIMIT need) c;
  END IF;
  IF p_viewer IS NULL THEN k1 := NULL; END IF;
  n := ARRAY[coalesce(cardinality(i1), 0), coalesce(cardinality(i2), 0), coalesce(cardinality(i3), 0)];

  WHILE k < need LOOP
    hs := ARRAY[s1[h[1]], s2[h[2]], s3[h[3]]];
    he := ARRAY[e1[h[1]], e2[h[2]], e3[h[3]]];
    hk := ARRAY[k1[h[1]], k2[h[2]], k3[h[3]]];
    hi := ARRAY[i1[h[1]], i2[h[2]], i3[h[3]]];
    nlist := 0;
    FOR s IN greatest(1, cardinality(win) - cfg.window_size + 2) .. cardinality(win) LOOP
      IF win[s] THEN nlist := nlist + 1; END IF;
    END LOOP;
    el := ARRAY[h[1] <= n[1], h[2] <= n[2], h[3] <= n[3] AND nlist + 1 <= maxl];
    best := NULL;
    FOR s IN 1..3 LOOP
      CONTINUE WHEN NOT el[s];
      IF best IS NULL THEN best := s;
      ELSE
        d := w[s] * (k + 1) - taken[s]; db := w[best] * (k + 1) - taken[best];
        IF d > db + 1e-9 OR (abs(d - db) <= 1e-9 AND hs[s] > hs[best]) THEN best := s; END IF;
      END IF;
    END LOOP;
    EXIT WHEN best IS NULL;
    IF last IS NOT NULL AND he[best] = last THEN
      alt := NULL;
      FOR s IN 1..3 LOOP
        CONTINUE WHEN s = best OR NOT el[s] OR he[s] = last;
        IF alt IS NULL OR hs[s] > hs[alt] THEN alt := s; END IF;
      END LOOP;
      IF alt IS NOT NULL AND NOT (hs[best] - hs[alt] >= cfg.dedup_delta) THEN best := alt; END IF;
    END IF;
    k := k + 1;
    IF k > p_offset AND k <= p_offset + p_limit THEN
      pos := k; item_kind := hk[best]; item_id := hi[best]; entity_id := he[best];
      source := (ARRAY['network', 'discover', 'listings'])[best]; score := hs[best];
      RETURN NEXT;
    END IF;
    h[best] := h[best] + 1;
    taken[best] := taken[best] + 1;
    win := win || (best = 3);
    last := he[best];
  END LOOP;
END $$;

-- Length of the baseline sequence, up to p_max items.
CREATE OR REPLACE FUNCTION ff_bench.baseline_len(p_viewer uuid, p_lane text, p_max int,
    p_as_of timestamptz DEFAULT statement_timestamp(),
    p_shop_blend boolean DEFAULT true, p_reels boolean DEFAULT true)
  RETURNS int LANGUAGE sql STABLE AS $$
  SELECT count(*)::int FROM ff_bench.baseline_home(p_viewer, p_lane, 0, p_max, p_as_of, p_shop_blend, p_reels)
$$;
