# feed_fusion — PGXS build.  `make demo`, `make test`, `make bench` are the entry points;
# they install missing Debian packages first, so they work on a fresh bookworm machine.

EXTENSION   = feed_fusion
EXTVERSION  = 0.1.0
MODULE_big  = feed_fusion
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
# The install script is generated from the ordered fragments in sql/ext/ (one source of truth).
DATA_built  = $(EXTENSION)--$(EXTVERSION).sql
DATA        = $(sort $(wildcard sql/upgrade/$(EXTENSION)--*--*.sql))
# pg_regress inputs: every sql/*.sql (the runner in test/run.sh splits them by cluster mode).
REGRESS     = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
PG_CONFIG  ?= /usr/lib/postgresql/15/bin/pg_config
PG_CFLAGS  += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
              -Wno-sign-compare $(if $(WERROR),-Werror)
PG_CPPFLAGS += -I$(srcdir)/src
EXTRA_CLEAN = $(EXTENSION)--$(EXTVERSION).sql

PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
all:
	@echo "PostgreSQL 15 server development files are missing: run 'make deps' (or make demo/test)."; exit 1
endif

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
