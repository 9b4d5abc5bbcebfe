# feed_fusion — PGXS build.  `make demo`, `make test`, `make bench` are the entry points;
# they install missing Debian packages first, so they work on a fresh bookworm machine.

EXTENSION   = feed_fusion
# The version being built is the control file's default_version (bump it there only);
# upgrade scripts from older versions are sql/upgrade/feed_fusion--<from>--<to>.sql.
EXTVERSION := $(shell sed -n "s/^[[:space:]]*default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" $(EXTENSION).control)
ifeq ($(EXTVERSION),)
$(error cannot read default_version from $(EXTENSION).control)
endif
MODULE_big  = feed_fusion
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
# The install script is generated from the ordered fragments in sql/ext/ (one source of truth).
DATA_built  = $(EXTENSION)--$(EXTVERSION).sql
DATA        = $(sort $(wildcard sql/upgrade/$(EXTENSION)--*--*.sql))
# pg_regress tests: sql/*.sql with expected/*.out.  `make test` (test/run.sh) runs them on
# throwaway clusters of its own.  `make installcheck` runs them, the usual PGXS way, against
# a running server where feed_fusion is installed (`make install`), as a superuser:
#   make install && PGHOST=/var/run/postgresql PGPORT=5432 PGUSER=postgres make installcheck
# FF_MODE picks the tests that match the server: shm (feed_fusion in
# shared_preload_libraries) runs every test but tbl_*, tbl (no preload: table mode) runs
# the tbl_* tests.  Unset, it is read from the server's shared_preload_libraries.
# fnd_setup runs first: it creates the roles anon, authenticated, service_role and
# authenticator if missing (cluster-wide, as Supabase has them), the extension and the
# tests.* helpers in the contrib_regression database pg_regress makes (UTF8, C locale).
# pgTAP, isolation and shell tests are not part of installcheck: they need pgTAP, both
# modes at once, restarts, standbys or their own settings — `make test` runs them.
FF_REGRESS_SETUP = fnd_setup
FF_REGRESS_ALL   = $(filter-out $(FF_REGRESS_SETUP),$(sort $(basename $(notdir $(wildcard sql/*.sql)))))
FF_MODE_SQL      = SELECT CASE WHEN position('feed_fusion' in current_setting('shared_preload_libraries')) > 0 THEN 'shm' ELSE 'tbl' END
FF_MODE         ?= $(or $(shell '$(bindir)/psql' -X -A -t -d postgres -c "$(FF_MODE_SQL)" 2>/dev/null),shm)
REGRESS     = $(FF_REGRESS_SETUP) $(if $(filter tbl,$(FF_MODE)),$(filter tbl_%,$(FF_REGRESS_ALL)),$(if \
              $(filter shm,$(FF_MODE)),$(filter-out tbl_%,$(FF_REGRESS_ALL)),$(error FF_MODE must be shm or tbl)))
ENCODING    = UTF8
NO_LOCALE   = 1
PG_CONFIG  ?= /usr/lib/postgresql/15/bin/pg_config
PG_CFLAGS  += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
              -Wno-sign-compare $(if $(WERROR),-Werror)
# ASSERTS=1 compiles our Assert()s in even against a server built without them (the
# stock Debian one), as pgvector's CI does.  Objects are rebuilt when the setting changes.
FF_ASSERTS := $(if $(filter-out 0,$(ASSERTS)),1,0)
PG_CFLAGS  += $(if $(filter 1,$(FF_ASSERTS)),-DUSE_ASSERT_CHECKING)
PG_CPPFLAGS += -I$(srcdir)/src
EXTRA_CLEAN = $(wildcard $(EXTENSION)--*.sql) .build-asserts

PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
all:
	@echo "PostgreSQL 15 server development files are missing: run 'make deps' (or make demo/test)."; exit 1
endif

# .build-asserts holds the ASSERTS setting of the last build; rewritten only when it changes.
$(shell echo 'ASSERTS=$(FF_ASSERTS)' | cmp -s - .build-asserts 2>/dev/null || echo 'ASSERTS=$(FF_ASSERTS)' > .build-asserts)
$(OBJS): .build-asserts
# PGXS tracks no header dependencies: rebuild every object when a header changes (a
# struct that gained a field would otherwise be read at the old offsets by stale objects).
$(OBJS): $(wildcard src/*.h)

$(EXTENSION)--$(EXTVERSION).sql: $(sort $(wildcard sql/ext/*.sql))
	@{ echo '-- Generated from sql/ext/*.sql by make: do not edit.'; \
	   printf '%s\n' '\echo Use "CREATE EXTENSION feed_fusion CASCADE" to load this file. \quit'; \
	   for f in $^; do echo; echo "-- ==== $$f ===="; cat $$f; done; } > $@

.PHONY: deps demo demo-stop test bench bench-smoke lint
deps:
	@bash scripts/deps.sh
demo:
	@bash scripts/demo.sh start
demo-stop:
	@bash scripts/demo.sh stop
test:
	@bash test/run.sh
bench:
	@bash bench/run.sh
bench-smoke:
	@FF_BENCH_SMOKE=1 bash bench/run.sh
lint:
	cppcheck -j 2 --error-exitcode=1 --enable=warning,performance,portability --inline-suppr \
	  --suppress=missingIncludeSystem --suppress=toomanyconfigs --suppress='*:$(shell $(PG_CONFIG) --includedir-server)/*' \
	  -I src -I $(shell $(PG_CONFIG) --includedir-server) --quiet src/
