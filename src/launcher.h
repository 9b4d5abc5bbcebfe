/*
 * launcher.h — the launcher (launcher.c): its shared table of served databases,
 * the DDL hook, and the table's side used by the maintenance workers (bgworker.c).
 */
#ifndef FF_LAUNCHER_H
#define FF_LAUNCHER_H

#include "postgres.h"

/* bgw_type (and bgw_name prefix) of the two kinds of background worker. */
#define FF_LAUNCHER_TYPE	"feed_fusion launcher"
#define FF_WORKER_TYPE		"feed_fusion maintenance worker"

/* _PG_init, while preloading: install the slot table's shmem hooks and the DDL hook. */
extern void ff_launcher_install_hooks(void);

/* Entry point named in the launcher's BackgroundWorker registration. */
extern PGDLLEXPORT void ff_launcher_main(Datum arg);

/* Worker: publish our pid in the database's slot; false when the database is paused for DDL. */
extern bool ff_launcher_worker_attach(void);

/* Worker: tell the launcher we settled, serving (installed) or not. */
extern void ff_launcher_worker_settle(bool installed);

#endif							/* FF_LAUNCHER_H */
