-- bench/feed/baseline_keyset.sql — the *strong* baseline (issue 10 item 10): the feed as a
-- competent engineer would write it in plain SQL + PL/pgSQL with the extension's own
-- rank_key indexes (60_feed.sql), to measure what the C ranker buys over good SQL.
--
--  * per source one keyset query, `(rank_key, id) < (last_key, last_id) ORDER BY
--    rank_key DESC, id DESC LIMIT limit + 1` per table (posts/events merged inside the
--    statement; the tie between tables at one (rank_key, id) — posts before events — is
--    kept by making an events bound inclusive after a post at that position);
--  * network via the followed set: one index scan per followed entity (LATERAL) merged,
--    or for more than 500 follows the global rank order filtered by the followed set —
--    the two plans and the switch-over of our ranker before issue 10 (0.1.0);
--  * the same filters: hides, cart, deleted, ended, inactive, own entities, reels flag,
--    created_at <= as-of, and the lane switches (serves_anonymous, honors_shop_blend);
--  * the blend of docs/feed.md in PL/pgSQL (deficit, listing cap over the window, seller
--    rule with dedup_delta, backfill), with a look-ahead item so the last row knows
--    whether the feed goes on;
--  * its own continuation state (jsonb: as-of, k, taken counts, the last window_size-1
--    listing flags, last entity, per-source position and dry bit), returned on the
--    page's last row (NULL when the feed ended), so page n+1 never replays pages 1..n.
--    Unlike our cursor it is not signed and only the last row carries one.
--  * posts is partitioned by month: like ours it first reads only the 14 days of
--    created_at below the position (exact for every rank_key above that time's key, as
--    rank_key <= epoch(created_at)/172800), so runtime pruning keeps one or two
--    partitions; when that does not fill the batch it reads without the bound;
--  * generic plans (plan_cache_mode = force_generic_plan on the source function), as
--    ours uses: no per-call planning of the 18-partition table.
-- test/tap/feed_baseline.sql checks it yields exactly feed_fusion_home_for's sequences.
-- Assumes feed_fusion is installed in schema public.
CREATE SCHEMA IF NOT EXISTS ff_bench;

-- One source's next `p_n` items after position (p_key, p_id, p_tbl), in stream order
-- (rank_key DESC, id DESC, table: posts 0, listings 1, events 2).  Source 1 network,
-- 2 discover, 3 listings.
CREATE OR REPLACE FUNCTION ff_bench.keyset_source(
    p_src int, p_viewer uuid, p_asof timestamptz, p_fol uuid[], p_excl uuid[], p_own uuid[],
    p_reels boolean, p_started boolean, p_key float8, p_id bigint, p_tbl int, p_n int, p_lo timestamptz,
    OUT kinds text[], OUT ids bigint[], OUT ents uuid[], OUT keys float8[], OUT tbls int[])
  LANGUAGE plpgsql STABLE SET search_path = public, pg_catalog SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  bk  float8 := 'Infinity';
  bp  bigint := 9223372036854775807;           -- posts bound id
  bl  bigint := 9223372036854775807;           -- listings bound id
  be  bigint := 9223372036854775807;           -- events bound id
BEGIN
  IF p_started THEN
    -- stream order is (key DESC, id DESC, tbl ASC): a later table's item at exactly the
    -- position's (key, id) is still pending, so its bound is (key, id + 1) exclusive
    bk := p_key; bp := p_id; bl := p_id; be := p_id;
    IF p_tbl < 1 AND p_id < 9223372036854775807 THEN bl := p_id + 1; END IF;
    IF p_tbl < 2 AND p_id < 9223372036854775807 THEN be := p_id + 1; END IF;
  END IF;
  IF p_src = 1 AND cardinality(p_fol) <= 500 THEN
    SELECT array_agg(x.kind ORDER BY x.rk DESC, x.id DESC, x.t), array_agg(x.id ORDER BY x.rk DESC, x.id DESC, x.t),
           array_agg(x.ent ORDER BY x.rk DESC, x.id DESC, x.t), array_agg(x.rk ORDER BY x.rk DESC, x.id DESC, x.t),
           array_agg(x.t ORDER BY x.rk DESC, x.id DESC, x.t)
      INTO kinds, ids, ents, keys, tbls
    FROM (SELECT * FROM (
            (SELECT q.kind, q.id, q.ent, q.rk, 0 AS t
             FROM unnest(p_fol) AS f(eid) CROSS JOIN LATERAL (
               SELECT p.kind, p.id, p.author_entity_id AS ent, p.rank_key AS rk FROM posts p
               WHERE p.author_entity_id = f.eid AND p.deleted_at IS NULL
                 AND (p.rank_key, p.id) < (bk, bp) AND p.created_at <= p_asof AND p.created_at >= p_lo
                 AND NOT EXISTS (SELECT 1 FROM feed_hides h WHERE h.user_id = p_viewer AND h.item_kind = 'post' AND h.item_id = p.id)
               ORDER BY p.rank_key DESC, p.id DESC LIMIT p_n) q
             ORDER BY q.rk DESC, q.id DESC LIMIT p_n)
            UNION ALL
            (SELECT 'event', q.id, q.ent, q.rk, 2
             FROM unnest(p_fol) AS f(eid) CROSS JOIN LATERAL (
               SELECT e.id, e.host_entity_id AS ent, e.rank_key AS rk FROM events e
               WHERE e.host_entity_id = f.eid AND (e.rank_key, e.id) < (bk, be)
                 AND e.created_at <= p_asof AND e.ends_at > p_asof
                 AND NOT EXISTS (SELECT 1 FROM feed_hides h WHERE h.user_id = p_viewer AND h.item_kind = 'event' AND h.item_id = e.id)
               ORDER BY e.rank_key DESC, e.id DESC LIMIT p_n) q
             ORDER BY q.rk DESC, q.id DESC LIMIT p_n)) u
          ORDER BY u.rk DESC, u.id DESC, u.t LIMIT p_n) x;
  ELSIF p_src = 1 THEN
    SELECT array_agg(x.kind ORDER BY x.rk DESC, x.id DESC, x.t), array_agg(x.id ORDER BY x.rk DESC, x.id DESC, x.t),
           array_agg(x.ent ORDER BY x.rk DESC, x.id DESC, x.t), array_agg(x.rk ORDER BY x.rk DESC, x.id DESC, x.t),
           array_agg(x.t ORDER BY x.rk DESC, x.id DESC, x.t)
      INTO kinds, ids, ents, keys, tbls
    FROM (SELECT * FROM (
            (SELECT p.kind, p.id, p.author_entity_id AS ent, p.rank_key AS rk, 0 AS t FROM posts p
             WHERE p.deleted_at IS NULL AND (p.rank_key, p.id) < (bk, bp) AND p.created_at <= p_asof AND p.created_at >= p_lo
               AND (p.author_entity_id = ANY (SELECT unnest(p_fol))) IS TRUE
               AND NOT EXISTS (SELECT 1 FROM feed_hides h WHERE h.user_id = p_viewer AND h.item_kind = 'post' AND h.item_id = p.id)
             ORDER BY p.rank_key DESC, p.id DESC LIMIT p_n)
            UNION ALL
            (SELECT 'event', e.id, e.host_entity_id, e.rank_key, 2 FROM events e
             WHERE (e.rank_key, e.id) < (bk, be) AND e.created_at <= p_asof AND e.ends_at > p_asof
               AND (e.host_entity_id = ANY (SELECT unnest(p_fol))) IS TRUE
               AND NOT EXISTS (SELECT 1 FROM feed_hides h WHERE h.user_id = p_viewer AND h.item_kind = 'event' AND h.item_id = e.id)
             ORDER BY e.rank_key DESC, e.id DESC LIMIT p_n)) u
          ORDER BY u.rk DESC, u.id DESC, u.t LIMIT p_n) x;
  ELSIF p_src = 2 THEN
    SELECT array_agg(x.kind ORDER BY x.rk DESC, x.id DESC, x.t), array_agg(x.id ORDER BY x.rk DESC, x.id DESC, x.t),
           array_agg(x.ent ORDER BY x.rk DESC, x.id DESC, x.t), array_agg(x.rk ORDER BY x.rk DESC, x.id DESC, x.t),
           array_agg(x.t ORDER BY x.rk DESC, x.id DESC, x.t)
      INTO kinds, ids, ents, keys, tbls
    FROM (SELECT * FROM (
            (SELECT p.kind, p.id, p.author_entity_id AS ent, p.rank_key AS rk, 0 AS t FROM posts p
             WHERE p.deleted_at IS NULL AND (p.rank_key, p.id) < (bk, bp) AND p.created_at <= p_asof AND p.created_at >= p_lo
               AND (p_reels OR p.kind <> 'reel')
               AND (p.author_entity_id = ANY (SELECT unnest(p_excl))) IS NOT TRUE
               AND NOT EXISTS (SELECT 1 FROM feed_hides h WHERE h.user_id = p_viewer AND h.item_kind = 'post' AND h.item_id = p.id)
             ORDER BY p.rank_key DESC, p.id DESC LIMIT p_n)
            UNION ALL
            (SELECT 'event', e.id, e.host_entity_id, e.rank_key, 2 FROM events e
             WHERE (e.rank_key, e.id) < (bk, be) AND e.created_at <= p_asof AND e.ends_at > p_asof
               AND (e.host_entity_id = ANY (SELECT unnest(p_excl))) IS NOT TRUE
               AND NOT EXISTS (SELECT 1 FROM feed_hides h WHERE h.user_id = p_viewer AND h.item_kind = 'event' AND h.item_id = e.id)
             ORDER BY e.rank_key DESC, e.id DESC LIMIT p_n)) u
          ORDER BY u.rk DESC, u.id DESC, u.t LIMIT p_n) x;
  ELSE
    SELECT array_agg('listing'::text), array_agg(x.id ORDER BY x.rk DESC, x.id DESC),
           array_agg(x.ent ORDER BY x.rk DESC, x.id DESC), array_agg(x.rk ORDER BY x.rk DESC, x.id DESC),
           array_agg(1)
      INTO kinds, ids, ents, keys, tbls
    FROM (SELECT l.id, l.seller_entity_id AS ent, l.rank_key AS rk FROM listings l
          WHERE l.status = 'active' AND (l.rank_key, l.id) < (bk, bl) AND l.created_at <= p_asof
            AND (l.seller_entity_id = ANY (SELECT unnest(p_own))) IS NOT TRUE
            AND NOT EXISTS (SELECT 1 FROM feed_hides h WHERE h.user_id = p_viewer AND h.item_kind = 'listing' AND h.item_id = l.id)
            AND NOT EXISTS (SELECT 1 FROM shopping_cart_items c WHERE c.user_id = p_viewer AND c.listing_id = l.id)
          ORDER BY l.rank_key DESC, l.id DESC LIMIT p_n) x;
  END IF;
END $$;

-- One page of the home feed after `p_state` (NULL: first page).  Rows as
-- feed_fusion_home_for's; `state` is set on the last row when the feed goes on.
CREATE OR REPLACE FUNCTION ff_bench.keyset_home(
    p_viewer uuid, p_lane text, p_state jsonb DEFAULT NULL, p_limit int DEFAULT 20,
    p_shop_blend boolean DEFAULT true, p_reels boolean DEFAULT true)
  RETURNS TABLE (pos int, item_kind text, item_id bigint, entity_id uuid, source text,
                 score float8, state jsonb)
  LANGUAGE plpgsql STABLE SET search_path = public, pg_catalog AS $$
DECLARE
  cfg     record;
  asof    timestamptz;
  k       int := 0;
  taken   int[] := ARRAY[0, 0, 0];
  win     boolean[] := '{}';          -- listing flags, oldest first; the last nw count
  nw      int;                        -- window_size - 1
  nlist   int := 0;                   -- listings among the last nw items
  last    uuid;
  pkey    float8[] := ARRAY[0, 0, 0]::float8[];
  pid     bigint[] := ARRAY[0, 0, 0]::bigint[];
  ptbl    int[] := ARRAY[0, 0, 0];
  pstart  boolean[] := ARRAY[false, false, false];
  pdry    boolean[] := ARRAY[false, false, false];
  own     uuid[] := '{}';
  fol     uuid[] := '{}';
  maxl    int;
  w       float8[];
  has     boolean[];                  -- source is served at all on this lane / viewer
  -- buffers: the three sources' items concatenated; source s spans off[s]+1 .. off[s]+n[s]
  bkind   text[] := '{}'; bid bigint[] := '{}'; bent uuid[] := '{}'; bkey float8[] := '{}'; btbl int[] := '{}';
  off     int[] := ARRAY[0, 0, 0];
  n       int[] := ARRAY[0, 0, 0];
  h       int[] := ARRAY[1, 1, 1];
  r       record;
  s       int; best int; alt int; i int;
  el      boolean[];
  d       float8; db float8;
  shop    boolean;
  emitted int := 0;
  pend    boolean := false;           -- a produced row waits for the look-ahead
  pend_state jsonb;
  asof_key float8;
  lo_sec  float8;
  lo_key  float8;
  o_pos int; o_kind text; o_id bigint; o_ent uuid; o_src text; o_score float8;
BEGIN
  IF p_limit IS NULL OR p_limit < 1 OR p_limit > 100 THEN
    RAISE EXCEPTION 'p_limit must be between 1 and 100' USING ERRCODE = '22023';
  END IF;
  SELECT l.* INTO cfg FROM feed_lanes l WHERE l.lane = p_lane OR p_lane = ANY (l.aliases)
   ORDER BY l.lane = p_lane DESC, l.lane LIMIT 1;
  IF NOT FOUND THEN RAISE EXCEPTION 'unknown feed lane "%"', p_lane USING ERRCODE = '22023'; END IF;
  nw := cfg.window_size - 1;
  maxl := floor(cfg.listing_cap * cfg.window_size + 1e-9);
  w := ARRAY[cfg.w_network, cfg.w_discover, cfg.w_listings];
  IF p_state IS NULL THEN
    asof := statement_timestamp();
  ELSE
    asof := (p_state->>'asof')::timestamptz;
    k := (p_state->>'k')::int;
    taken := ARRAY(SELECT jsonb_array_elements_text(p_state->'taken')::int);
    win := ARRAY(SELECT jsonb_array_elements_text(p_state->'win')::boolean);
    last := (p_state->>'last')::uuid;
    FOR s IN 1..3 LOOP
      pstart[s] := (p_state->'pos'->(s - 1)->>0)::boolean;
      pkey[s] := (p_state->'pos'->(s - 1)->>1)::float8;
      pid[s] := (p_state->'pos'->(s - 1)->>2)::bigint;
      ptbl[s] := (p_state->'pos'->(s - 1)->>3)::int;
      pdry[s] := (p_state->'pos'->(s - 1)->>4)::boolean;
    END LOOP;
    -- the lane's window may have changed: keep the newest nw flags
    IF cardinality(win) > nw THEN win := win[cardinality(win) - nw + 1 : cardinality(win)]; END IF;
    SELECT count(*) FILTER (WHERE x) INTO nlist FROM unnest(win) x;
  END IF;
  IF p_viewer IS NULL AND NOT cfg.serves_anonymous THEN RETURN; END IF;
  asof_key := extract(epoch FROM asof)::float8 / 172800;
  IF p_viewer IS NOT NULL THEN
    own := ARRAY(SELECT en.id FROM entities en WHERE en.owner_user_id = p_viewer ORDER BY 1);
    fol := ARRAY(SELECT fo.entity_id FROM follows fo WHERE fo.follower_user_id = p_viewer
                 AND fo.entity_id <> ALL (own) ORDER BY 1);
  END IF;
  shop := NOT cfg.honors_shop_blend OR p_shop_blend;
  has := ARRAY[p_viewer IS NOT NULL AND cardinality(fol) > 0, true, shop];

  -- fill: limit + 1 items per source are the most a page (with its look-ahead) can take
  FOR s IN 1..3 LOOP
    off[s] := cardinality(bid);
    CONTINUE WHEN NOT has[s] OR pdry[s];
    -- posts are partitioned by month: first read only the 14 days of created_at below
    -- the position (rank_key <= epoch(created_at)/172800, so that read is exact for every
    -- key >= lo_key), then, if that does not fill the batch, everything
    lo_sec := floor((least(CASE WHEN pstart[s] THEN pkey[s] ELSE 'Infinity' END, asof_key) - 7) * 172800);
    lo_key := lo_sec / 172800;
    SELECT * INTO r FROM ff_bench.keyset_source(s, p_viewer, asof, fol, fol || own, own, p_reels,
                                                 pstart[s], pkey[s], pid[s], ptbl[s], p_limit + 1,
                                                 CASE WHEN s = 3 THEN '-infinity' ELSE to_timestamp(lo_sec) END);
    n[s] := coalesce(cardinality(r.ids), 0);
    IF s < 3 THEN
      i := 1;
      WHILE i <= n[s] AND r.keys[i] >= lo_key LOOP i := i + 1; END LOOP;
      n[s] := i - 1;
      IF n[s] < p_limit + 1 THEN
        SELECT * INTO r FROM ff_bench.keyset_source(s, p_viewer, asof, fol, fol || own, own, p_reels,
                                                     pstart[s], pkey[s], pid[s], ptbl[s], p_limit + 1, '-infinity');
        n[s] := coalesce(cardinality(r.ids), 0);
      END IF;
    END IF;
    IF n[s] > 0 THEN
      bkind := bkind || r.kinds[1:n[s]]; bid := bid || r.ids[1:n[s]]; bent := bent || r.ents[1:n[s]];
      bkey := bkey || r.keys[1:n[s]]; btbl := btbl || r.tbls[1:n[s]];
    END IF;
  END LOOP;

  LOOP
    -- eligible heads (rule 2: the listing cap over the last nw items)
    el := ARRAY[h[1] <= n[1], h[2] <= n[2], h[3] <= n[3] AND nlist + 1 <= maxl];
    FOR s IN 1..3 LOOP
      IF h[s] > n[s] THEN pdry[s] := true; END IF;
    END LOOP;
    -- rule 1: largest deficit, ties by head score, then source order
    best := NULL;
    FOR s IN 1..3 LOOP
      CONTINUE WHEN NOT el[s];
      IF best IS NULL THEN best := s;
      ELSE
        d := w[s] * (k + 1) - taken[s]; db := w[best] * (k + 1) - taken[best];
        IF d > db + 1e-9 OR (abs(d - db) <= 1e-9 AND bkey[off[s] + h[s]] > bkey[off[best] + h[best]]) THEN
          best := s;
        END IF;
      END IF;
    END LOOP;
    -- the look-ahead decides whether the pending (last) row carries a state
    IF pend THEN
      pos := o_pos; item_kind := o_kind; item_id := o_id; entity_id := o_ent; source := o_src;
      score := o_score; state := CASE WHEN best IS NOT NULL AND emitted + 1 = p_limit THEN pend_state END;
      RETURN NEXT;
      emitted := emitted + 1;
      pend := false;
    END IF;
    EXIT WHEN best IS NULL OR emitted >= p_limit;
    -- rule 3: seller rule against the previous item's entity
    IF last IS NOT NULL AND bent[off[best] + h[best]] = last THEN
      alt := NULL;
      FOR s IN 1..3 LOOP
        CONTINUE WHEN s = best OR NOT el[s] OR bent[off[s] + h[s]] = last;
        IF alt IS NULL OR bkey[off[s] + h[s]] > bkey[off[alt] + h[alt]] THEN alt := s; END IF;
      END LOOP;
      IF alt IS NOT NULL AND NOT (ff_score_at(bkey[off[best] + h[best]], asof)
                                  - ff_score_at(bkey[off[alt] + h[alt]], asof) >= cfg.dedup_delta) THEN
        best := alt;
      END IF;
    END IF;
    -- consume
    i := off[best] + h[best];
    h[best] := h[best] + 1;
    k := k + 1;
    taken[best] := taken[best] + 1;
    last := bent[i];
    win := win || (best = 3);
    IF best = 3 THEN nlist := nlist + 1; END IF;
    IF cardinality(win) > nw THEN
      IF win[1] THEN nlist := nlist - 1; END IF;
      win := win[2:cardinality(win)];
    END IF;
    pstart[best] := true; pkey[best] := bkey[i]; pid[best] := bid[i]; ptbl[best] := btbl[i];
    o_pos := k; o_kind := bkind[i]; o_id := bid[i]; o_ent := bent[i];
    o_src := (ARRAY['network', 'discover', 'listings'])[best]; o_score := ff_score_at(bkey[i], asof);
    pend := true;
    IF emitted + 1 = p_limit THEN
      pend_state := jsonb_build_object('asof', asof::text, 'k', k, 'taken', to_jsonb(taken),
        'win', to_jsonb(win), 'last', last::text,
        'pos', jsonb_build_array(
          jsonb_build_array(pstart[1], pkey[1]::text, pid[1], ptbl[1], pdry[1]),
          jsonb_build_array(pstart[2], pkey[2]::text, pid[2], ptbl[2], pdry[2]),
          jsonb_build_array(pstart[3], pkey[3]::text, pid[3], ptbl[3], pdry[3])));
    END IF;
  END LOOP;
END $$;
