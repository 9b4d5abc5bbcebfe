-- Percentage rollout over 10,000 generated users: shares, independence, exact 0/100 %,
-- stickiness across calls and across a new backend, and agreement with the documented
-- hash (first 4 bytes of sha256(key || ':' || uuid) as big-endian uint32, mod 100).
\set VERBOSITY terse
INSERT INTO feature_flags (key, enabled, rollout_percent) VALUES
  ('flags_t30', true, 30), ('flags_ta50', true, 50), ('flags_tb50', true, 50),
  ('flags_t0', true, 0), ('flags_t100', true, 100), ('flags_off100', false, 100);
CREATE TABLE flags_rollout_users AS
  SELECT i, md5('flags-user-' || i)::uuid AS u FROM generate_series(1, 10000) AS i;
CREATE TABLE flags_rollout_first AS
  SELECT i, flags_for(u) AS f, pg_backend_pid() AS pid FROM flags_rollout_users;

-- Shares: 30 % ± 2 %, two 50 % flags independent (joint 25 % ± 2 %), 0 and 100 exact.
SELECT count(*) FILTER (WHERE (f ->> 'flags_t30')::bool) BETWEEN 2800 AND 3200 AS t30_within_2pct,
       count(*) FILTER (WHERE (f ->> 'flags_ta50')::bool) BETWEEN 4800 AND 5200 AS ta50_within_2pct,
       count(*) FILTER (WHERE (f ->> 'flags_tb50')::bool) BETWEEN 4800 AND 5200 AS tb50_within_2pct,
       count(*) FILTER (WHERE (f ->> 'flags_ta50')::bool AND (f ->> 'flags_tb50')::bool)
         BETWEEN 2300 AND 2700 AS joint_within_2pct,
       count(*) FILTER (WHERE (f ->> 'flags_t0')::bool) AS on_at_0pct,
       count(*) FILTER (WHERE (f ->> 'flags_t100')::bool) AS on_at_100pct,
       count(*) FILTER (WHERE (f ->> 'flags_off100')::bool) AS on_when_disabled
FROM flags_rollout_first;

-- The exact counts (the hash is stable, so these never change).
SELECT count(*) FILTER (WHERE (f ->> 'flags_t30')::bool) AS t30,
       count(*) FILTER (WHERE (f ->> 'flags_ta50')::bool AND (f ->> 'flags_tb50')::bool) AS joint50
FROM flags_rollout_first;

-- Every answer matches the documented hash computed in plain SQL.
SELECT count(*) AS mismatches_with_documented_hash
FROM flags_rollout_first r JOIN flags_rollout_users USING (i)
WHERE (r.f ->> 'flags_t30')::bool IS DISTINCT FROM
      ((('x' || substr(encode(sha256(convert_to('flags_t30:' || u::text, 'UTF8')), 'hex'), 1, 8))::bit(32)::bigint % 100) < 30);
SELECT count(*) AS mismatches_with_ff_flag_bucket
FROM flags_rollout_first r JOIN flags_rollout_users USING (i)
WHERE (r.f ->> 'flags_ta50')::bool IS DISTINCT FROM (ff_flag_bucket('flags_ta50', u) < 50);

-- flag_enabled (the current user from the JWT claims) agrees with flags_for.
CREATE FUNCTION pg_temp.flag_enabled_as(p_user uuid, p_key text) RETURNS boolean
  LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('request.jwt.claim.sub', p_user::text, true);
  RETURN flag_enabled(p_key);
END $$;
SELECT count(*) AS flag_enabled_mismatches
FROM flags_rollout_first r JOIN flags_rollout_users USING (i)
WHERE i <= 2000 AND pg_temp.flag_enabled_as(u, 'flags_t30') IS DISTINCT FROM (r.f ->> 'flags_t30')::bool;
SELECT set_config('request.jwt.claim.sub', '', false);

-- Sticky: same answers on a second pass, and from a new backend.
SELECT count(*) AS changed_same_backend
FROM flags_rollout_first r JOIN flags_rollout_users USING (i) WHERE flags_for(u) <> r.f;
\c
SELECT count(*) FILTER (WHERE flags_for(u) <> r.f) AS changed_new_backend,
       bool_and(r.pid <> pg_backend_pid()) AS other_backend
FROM flags_rollout_first r JOIN flags_rollout_users USING (i);

DROP TABLE flags_rollout_first, flags_rollout_users;
DELETE FROM feature_flags WHERE key LIKE 'flags\_%';
