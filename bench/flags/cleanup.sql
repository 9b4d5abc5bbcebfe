DELETE FROM public.feature_flags WHERE key IN ('bench_r30', 'bench_r50');
DROP SCHEMA IF EXISTS flags_bench CASCADE;
