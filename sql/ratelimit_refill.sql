-- Refill: capacity 10 per 4 s is one token per 400 ms; after 1.3 s three are back.
-- Tolerant of timing (the wait may run long by up to 0.3 s) but able to fail.
\set VERBOSITY terse
SELECT allowed, remaining FROM rate_limit_take('rl_refill', 10, '4 seconds', 10);
SELECT allowed, retry_after_ms BETWEEN 350 AND 400 AS retry_400ms,
       reset_after_ms BETWEEN 3950 AND 4000 AS reset_4s
FROM rate_limit_take('rl_refill', 10, '4 seconds', 1);
SELECT pg_sleep(1.3);
SELECT remaining AS back_after_1300ms, reset_after_ms BETWEEN 2400 AND 2700 AS reset_2700ms
FROM rate_limit_take('rl_refill', 10, '4 seconds', 0);
SELECT allowed AS take_3 FROM rate_limit_take('rl_refill', 10, '4 seconds', 3);
SELECT allowed AS take_1_more, retry_after_ms BETWEEN 1 AND 400 AS retry_lt_400ms
FROM rate_limit_take('rl_refill', 10, '4 seconds', 1);
-- check_rate_limit refills the same way (a 2-per-second profile).
INSERT INTO rate_limit_profiles VALUES ('rl_fast', 2, '1 second');
SELECT check_rate_limit('rl_fast', 2) AS all_2, check_rate_limit('rl_fast') AS none_left;
SELECT pg_sleep(0.6);
SELECT check_rate_limit('rl_fast') AS one_back, check_rate_limit('rl_fast') AS only_one;
DELETE FROM rate_limit_profiles WHERE name = 'rl_fast';
SELECT rate_limit_reset('rl_refill') AS reset_refill, rate_limit_reset('rl_fast:anon') AS reset_fast;
