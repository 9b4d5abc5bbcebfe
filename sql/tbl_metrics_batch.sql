-- Table mode (no preload): tracked calls are gathered per backend and written in
-- batches, so a read RPC never becomes a writing transaction (SPEC §7, issue 10
-- item 8, docs/metrics.md "Table mode").  _ff_metrics_selftest is the tracked RPC
-- only this test calls in this database, so its counts are exact.
\set VERBOSITY terse
SET client_min_messages = warning;
SET feed_fusion.track_flush_interval = 3600;   -- only the rule under test writes
CREATE TEMP VIEW st AS
  SELECT coalesce(sum(calls), 0) AS written, coalesce(sum(errors), 0) AS written_errors
  FROM rpc_metrics WHERE rpc = '_ff_metrics_selftest';
CREATE TEMP VIEW pend AS
  SELECT coalesce(sum(calls), 0) AS pending, coalesce(sum(errors), 0) AS pending_errors
  FROM _ff_metrics_pending() WHERE rpc = '_ff_metrics_selftest';

-- (1) Read RPCs take no xid and write nothing; the session sees its own calls at once.
BEGIN;
SELECT count(flag_enabled('feed_shop_blend')) AS flag_calls FROM generate_series(1, 50);
SELECT count(*) AS selftest_calls FROM (SELECT _ff_metrics_selftest() FROM generate_series(1, 20)) s;
SELECT pg_current_xact_id_if_assigned() IS NULL AS no_xid;
COMMIT;
SELECT * FROM st;
SELECT * FROM pend;
SELECT sum(calls) AS flag_enabled_pending FROM _ff_metrics_pending() WHERE rpc = 'flag_enabled';
SELECT sum(calls) AS in_view FROM rpc_metrics_hourly WHERE rpc = '_ff_metrics_selftest';
SELECT d ->> 'errors_recorded' AS errors_recorded, d ->> 'track_flush_interval_s' AS interval_s,
       (d ->> 'pending_calls_this_backend')::int >= 70 AS pending_shown
FROM (SELECT detail AS d FROM ff_status() WHERE component = 'metrics') s;

-- (2c) rpc_metrics_flush() writes this backend's batch: exact counts, no double count.
SELECT rpc_metrics_flush() BETWEEN 2 AND 4 AS flushed_rows;
SELECT * FROM st;
SELECT * FROM pend;
SELECT sum(calls) AS in_view FROM rpc_metrics_hourly WHERE rpc = '_ff_metrics_selftest';

-- (2a) A transaction that writes anyway takes the batch along (at most once a second).
SELECT pg_sleep(1.1);
SELECT count(*) FROM (SELECT _ff_metrics_selftest() FROM generate_series(1, 7)) s;
BEGIN;
CREATE TEMP TABLE w1 (x int);
SELECT _ff_metrics_selftest();
SELECT * FROM pend;
COMMIT;
SELECT * FROM st;

-- (3) Rollback of the writing transaction loses nothing (and counts nothing twice).
SELECT pg_sleep(1.1);
SELECT count(*) FROM (SELECT _ff_metrics_selftest() FROM generate_series(1, 5)) s;
BEGIN;
CREATE TEMP TABLE w2 (x int);
SELECT _ff_metrics_selftest();
SELECT * FROM pend;
SELECT (SELECT written FROM st) AS written_in_xact;
ROLLBACK;
SELECT * FROM st;
SELECT * FROM pend;
-- ... nor a savepoint rolled back after a flush inside it,
BEGIN;
SAVEPOINT s1;
SELECT rpc_metrics_flush() > 0 AS flushed_in_savepoint;
SELECT * FROM pend;
ROLLBACK TO SAVEPOINT s1;
SELECT * FROM pend;
COMMIT;
-- ... and inside a savepoint a writing transaction leaves the batch alone (nest level 2).
SELECT pg_sleep(1.1);
BEGIN;
CREATE TEMP TABLE w3 (x int);
SAVEPOINT s2;
SELECT _ff_metrics_selftest();
RELEASE SAVEPOINT s2;
SELECT * FROM pend;
COMMIT;
SELECT * FROM st;

-- (2b) After feed_fusion.track_flush_interval, the next tracked call writes.
SET feed_fusion.track_flush_interval = 1;
SELECT pg_sleep(1.1);
SELECT _ff_metrics_selftest();
SELECT * FROM st;
SELECT * FROM pend;

-- (5) READ ONLY transactions never write, even when the batch is due; failures count.
SELECT _ff_metrics_selftest();
SELECT pg_sleep(1.1);
BEGIN READ ONLY;
SELECT _ff_metrics_selftest();
SELECT pg_current_xact_id_if_assigned() IS NULL AS no_xid;
COMMIT;
SET default_transaction_read_only = on;
SELECT _ff_metrics_selftest();
RESET default_transaction_read_only;
SELECT * FROM st;
SELECT * FROM pend;
SET feed_fusion.track_flush_interval = 3600;
SELECT _ff_metrics_selftest(true);
SELECT _ff_metrics_selftest(true);
SELECT * FROM pend;
SELECT rpc_metrics_flush() > 0 AS flushed;
SELECT * FROM st;
SELECT errors AS errors_in_view FROM rpc_metrics_hourly WHERE rpc = '_ff_metrics_selftest' AND errors > 0;
-- rpc_metrics_flush() still refuses where it cannot write
BEGIN READ ONLY;
SELECT rpc_metrics_flush();
ROLLBACK;

-- (4) A session that disconnects cleanly writes its batch at exit.
SELECT count(*) FROM (SELECT _ff_metrics_selftest() FROM generate_series(1, 9)) s;
CREATE TABLE tbl_batch_before AS SELECT written FROM st;
\c
SET client_min_messages = warning;
DO $$
BEGIN
  FOR i IN 1..200 LOOP   -- the old backend writes as it exits: wait for it (10 s at most)
    EXIT WHEN (SELECT sum(calls) FROM rpc_metrics WHERE rpc = '_ff_metrics_selftest')
              > (SELECT written FROM tbl_batch_before);
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;
SELECT sum(calls) - (SELECT written FROM tbl_batch_before) AS written_at_exit
FROM rpc_metrics WHERE rpc = '_ff_metrics_selftest';
DROP TABLE tbl_batch_before;
