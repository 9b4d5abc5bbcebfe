/*
 * context.c — the installed extension as this backend sees it.
 *
 * What: one cached lookup of the extension's schema, owner and the relation oids the
 *       C code needs; a generation counter per configuration table; and the one way
 *       to run work with the extension owner's rights (ff_run_as_owner).
 * Why:  every RPC needs the schema (C code qualifies every name it puts into SQL, so
 *       the caller's search_path never matters) and most need the owner, but scanning
 *       pg_extension per call is too slow for the hot paths.  Caches of configuration
 *       tables (flags, rate-limit profiles) need exact, transactional invalidation:
 *       the config-change trigger (ff_config_changed, below) queues a relcache invalidation of the
 *       table, delivered with the commit (or replayed locally on abort), and the
 *       relcache callback here bumps that table's generation.
 * Invalidation: one path.  A relcache invalidation of a cached relation (or of
 *       everything) bumps its generation and forgets its oid; a syscache invalidation
 *       of pg_proc or pg_namespace (CREATE/DROP EXTENSION creates or drops functions,
 *       a schema rename touches pg_namespace) forgets the extension row, which is read
 *       again (one index scan of pg_extension) on the next use.  If the extension then
 *       lives elsewhere or is gone, every relation oid is forgotten and every
 *       generation bumped.
 * Owner context: SECURITY_LOCAL_USERID_CHANGE (like SECURITY DEFINER, so SET ROLE and
 *       friends stay off), SECURITY_RESTRICTED_OPERATION (what maintenance commands and
 *       index expressions use: no temp objects, no deferred code of the caller's runs
 *       with our rights) and SECURITY_NOFORCE_RLS (as RI checks: our fixed, filtered
 *       queries are not subject to FORCE ROW LEVEL SECURITY meant for clients).
 * Foreign triggers: a trigger on a table we write as the owner would run its function
 *       with the owner's rights (the owner is a superuser, typically), so owner-context
 *       writes first call ff_check_own_triggers(): every non-internal trigger on the
 *       table and its partitions must call a function that is a member of feed_fusion,
 *       else SQLSTATE 55000.  The answer is cached per relation with the oids it covered
 *       (the relation and its partitions); a relcache invalidation of any of them
 *       (CREATE/DROP/ALTER TRIGGER, ATTACH/DETACH PARTITION, DDL) or of everything
 *       forgets it.  App roles cannot create triggers on our tables (no TRIGGER
 *       privilege, see 00_base.sql); this is the second line, for privilege slips.
 * Locking: AccessShareLock on pg_extension during a lookup; all state is per backend.
 *       ff_check_own_triggers takes RowExclusiveLock on the relation (the lock its write
 *       takes anyway) before it looks, and AccessShareLock on partitions it scans.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_proc.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "feed_fusion.h"
#include "context.h"

/* The security-context flags of ff_run_as_owner (see the design note). */
#define FF_OWNER_SEC_CONTEXT \
	(SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION | SECURITY_NOFORCE_RLS)

static const char *const rel_names[] = {
	"feature_flags", "rate_limit_profiles", "rate_limit_counters", "feed_lanes",
	"rpc_metrics", "rpc_metrics_rollup", "_ff_entity_activity"
};
StaticAssertDecl(lengthof(rel_names) == FF_REL_COUNT, "rel_names must name every FfRel");

static bool callbacks_registered = false;
static bool ext_valid = false;	/* ext_installed/ext below are current */
static bool ext_installed = false;
static FfExtension ext;
static char ext_schema[NAMEDATALEN];
static Oid	rel_oid[FF_REL_COUNT];	/* last oid resolved (matched by invalidations) */
static bool rel_valid[FF_REL_COUNT];
static uint64 rel_gen[FF_REL_COUNT] = {1, 1, 1, 1, 1, 1, 1};	/* 0: "never filled" in callers */

/*
 * Relations found free of foreign triggers (ff_check_own_triggers), with the oids
 * that answer covers: the relation and its partitions.  A few slots: the callers
 * write rate_limit_counters, rpc_metrics and rpc_metrics_rollup.
 */
#define FF_TRIGGER_SLOTS 8
typedef struct FfTriggerCheck
{
	Oid			relid;			/* InvalidOid: free slot */
	Oid			ext;			/* extension oid the answer was given for */
	bool		valid;
	int			ncovered;
	Oid		   *covered;		/* TopMemoryContext */
} FfTriggerCheck;

static FfTriggerCheck trigger_checks[FF_TRIGGER_SLOTS];
static int	trigger_next_slot = 0;	/* round-robin replacement */
static uint64 relcache_events = 0;	/* relcache callbacks seen (any relation) */
static uint64 proc_gen = 1;		/* pg_proc invalidations seen (ff_proc_generation) */

/* Forget every cached trigger check. */
static void
forget_trigger_checks(void)
{
	for (int i = 0; i < FF_TRIGGER_SLOTS; i++)
		trigger_checks[i].valid = false;
}

/* Relcache callback: one of our relations (or every relation) may have changed. */
static void
context_relcache_cb(Datum arg, Oid relid)
{
	relcache_events++;
	for (int r = 0; r < FF_REL_COUNT; r++)
		if (relid == InvalidOid || relid == rel_oid[r])
		{
			rel_valid[r] = false;
			rel_gen[r]++;
		}
	for (int i = 0; i < FF_TRIGGER_SLOTS; i++)
	{
		FfTriggerCheck *c = &trigger_checks[i];

		if (!c->valid)
			continue;
		if (relid == InvalidOid)
			c->valid = false;
		else
			for (int k = 0; k < c->ncovered; k++)
				if (c->covered[k] == relid)
				{
					c->valid = false;
					break;
				}
	}
}

/* Syscache callback (pg_proc, pg_namespace): the extension may be gone or moved. */
static void
context_syscache_cb(Datum arg, int cacheid, uint32 hashvalue)
{
	ext_valid = false;
	if (cacheid == PROCOID)
		proc_gen++;
}

/* Register the callbacks once per backend (the callback arrays are fixed-size). */
static void
register_callbacks(void)
{
	if (callbacks_registered)
		return;
	CacheRegisterRelcacheCallback(context_relcache_cb, (Datum) 0);
	CacheRegisterSyscacheCallback(PROCOID, context_syscache_cb, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, context_syscache_cb, (Datum) 0);
	callbacks_registered = true;
}

/* Namespace and owner of the installed feed_fusion (one index scan); false if absent. */
static bool
extension_row(Oid *oid, Oid *nsp, Oid *owner)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found;

	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("feed_fusion"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	found = HeapTupleIsValid(tup);
	if (found)
	{
		*oid = ((Form_pg_extension) GETSTRUCT(tup))->oid;
		*nsp = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
		*owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/* Forget every relation of a previous installation. */
static void
forget_relations(void)
{
	for (int r = 0; r < FF_REL_COUNT; r++)
	{
		rel_valid[r] = false;
		rel_gen[r]++;
	}
	forget_trigger_checks();
}

/* Re-read the extension row after an invalidation. */
static void
refresh_extension(void)
{
	Oid			oid = InvalidOid,
				nsp = InvalidOid,
				owner = InvalidOid;
	bool		installed;
	char	   *name = NULL;

	register_callbacks();
	installed = extension_row(&oid, &nsp, &owner);
	if (installed)
	{
		name = get_namespace_name(nsp);
		if (name == NULL)
			elog(ERROR, "schema %u of extension feed_fusion not found", nsp);
	}
	if (installed != ext_installed || nsp != ext.nsp || oid != ext.oid)
		forget_relations();
	ext_installed = installed;
	ext.oid = oid;
	ext.nsp = nsp;
	ext.owner = owner;
	strlcpy(ext_schema, name ? name : "", sizeof(ext_schema));
	ext.schema = ext_schema;
	ext_valid = true;
}

/* The extension, or NULL when it is not installed in this database. */
const FfExtension *
ff_extension_if_installed(void)
{
	if (!ext_valid)
		refresh_extension();
	return ext_installed ? &ext : NULL;
}

/* The extension; SQLSTATE 55000 when it is not installed in this database. */
const FfExtension *
ff_extension(void)
{
	const FfExtension *e = ff_extension_if_installed();

	if (e == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"feed_fusion\" is not installed in this database")));
	return e;
}

/* Oid of one of our relations, looked up once per invalidation. */
Oid
ff_extension_relid(FfRel rel)
{
	const FfExtension *e = ff_extension();

	if ((unsigned) rel >= FF_REL_COUNT)
		elog(ERROR, "invalid feed_fusion relation %d", (int) rel);
	if (!rel_valid[rel])
	{
		Oid			oid = get_relname_relid(rel_names[rel], e->nsp);

		if (!OidIsValid(oid))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("relation \"%s.%s\" of extension \"feed_fusion\" does not exist",
							e->schema, rel_names[rel])));
		rel_oid[rel] = oid;
		rel_valid[rel] = true;
	}
	return rel_oid[rel];
}

/* Generation of a configuration table (see context.h); resolves its oid so invalidations match. */
uint64
ff_config_generation(FfRel rel)
{
	if ((unsigned) rel >= FF_REL_COUNT || !rel_valid[rel])
		(void) ff_extension_relid(rel); /* resolves, or rejects a bad rel */
	return rel_gen[rel];
}

/* See context.h. */
uint64
ff_proc_generation(void)
{
	register_callbacks();
	return proc_gen;
}

/* A name in the extension's schema, quoted for SQL text. */
char *
ff_qualified(const char *name)
{
	return quote_qualified_identifier(ff_extension()->schema, name);
}

/* Run fn(arg) as the extension owner; the caller's identity comes back on return and on error. */
void
ff_run_as_owner(FfOwnerFn fn, void *arg)
{
	Oid			owner = ff_extension()->owner;
	Oid			save_uid;
	int			save_sec;

	GetUserIdAndSecContext(&save_uid, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | FF_OWNER_SEC_CONTEXT);
	PG_TRY();
	{
		fn(arg);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_uid, save_sec);
	}
	PG_END_TRY();
}

/* The cached check of relid, or NULL. */
static FfTriggerCheck *
trigger_check_slot(Oid relid)
{
	for (int i = 0; i < FF_TRIGGER_SLOTS; i++)
		if (trigger_checks[i].relid == relid)
			return &trigger_checks[i];
	return NULL;
}

/* Remember that relid and the relations in `rels` carry only our triggers. */
static void
trigger_check_remember(Oid relid, Oid ext_oid, List *rels)
{
	FfTriggerCheck *c = trigger_check_slot(relid);
	ListCell   *lc;
	int			k = 0;

	if (c == NULL)
	{
		c = &trigger_checks[trigger_next_slot];
		trigger_next_slot = (trigger_next_slot + 1) % FF_TRIGGER_SLOTS;
	}
	c->valid = false;
	if (c->covered != NULL)
		pfree(c->covered);
	c->covered = MemoryContextAlloc(TopMemoryContext, sizeof(Oid) * list_length(rels));
	foreach(lc, rels)
		c->covered[k++] = lfirst_oid(lc);
	c->ncovered = k;
	c->relid = relid;
	c->ext = ext_oid;
	c->valid = true;
}

/* SQLSTATE 55000 for a trigger we did not create on a relation we write as the owner. */
static void
foreign_trigger_error(Relation rel, const Trigger *trig)
{
	char	   *relname = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
													 RelationGetRelationName(rel));
	char	   *fname = format_procedure(trig->tgfoid);
	char	   *tgname = pstrdup(trig->tgname);

	table_close(rel, NoLock);
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("table %s has trigger \"%s\" that feed_fusion did not create", relname, tgname),
			 errdetail("feed_fusion writes this table with the extension owner's rights and does not "
					   "run other triggers (function %s) with them.", fname),
			 errhint("Drop the trigger: DROP TRIGGER %s ON %s;", quote_identifier(tgname), relname)));
}

/* See context.h. */
void
ff_check_own_triggers(Oid relid)
{
	const FfExtension *e = ff_extension();
	Oid			ext_oid = e->oid;
	FfTriggerCheck *c;
	uint64		events;
	List	   *rels;
	ListCell   *lc;

	/*
	 * The write's own lock, first: it delivers the invalidations of triggers created
	 * so far (so the cache below is current) and keeps new ones off until we commit.
	 */
	LockRelationOid(relid, RowExclusiveLock);
	c = trigger_check_slot(relid);
	if (c != NULL && c->valid && c->ext == ext_oid)
		return;

	events = relcache_events;
	rels = find_all_inheritors(relid, AccessShareLock, NULL);	/* relid first */
	foreach(lc, rels)
	{
		Relation	rel = try_table_open(lfirst_oid(lc), NoLock);

		if (rel == NULL)
			continue;			/* a partition dropped meanwhile */
		if (rel->trigdesc != NULL)
			for (int i = 0; i < rel->trigdesc->numtriggers; i++)
			{
				const Trigger *trig = &rel->trigdesc->triggers[i];

				if (!trig->tgisinternal &&
					getExtensionOfObject(ProcedureRelationId, trig->tgfoid) != ext_oid)
					foreign_trigger_error(rel, trig);
			}
		table_close(rel, NoLock);
	}
	/* Cache the answer unless an invalidation arrived while we looked. */
	if (events == relcache_events)
		trigger_check_remember(relid, ext_oid, rels);
	list_free(rels);
}

PG_FUNCTION_INFO_V1(ff_config_changed);
PG_FUNCTION_INFO_V1(ff_flags_invalidate);
PG_FUNCTION_INFO_V1(ff_rate_limit_profiles_changed);

/*
 * Trigger (AFTER ... FOR EACH STATEMENT, ENABLE ALWAYS) on configuration tables:
 * queue a relcache invalidation of the table.  It reaches other backends with the
 * commit, this backend at its next CommandCounterIncrement, and is replayed locally
 * on abort, so every cache keyed on ff_config_generation() is exact.
 */
Datum
ff_config_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired as a trigger", "_ff_config_changed")));
	td = (TriggerData *) fcinfo->context;
	CacheInvalidateRelcache(td->tg_relation);
	return PointerGetDatum(NULL);
}

/* The 0.1.0 names of the same trigger, kept so a database not yet updated works. */
Datum
ff_flags_invalidate(PG_FUNCTION_ARGS)
{
	return ff_config_changed(fcinfo);
}

/* See ff_flags_invalidate. */
Datum
ff_rate_limit_profiles_changed(PG_FUNCTION_ARGS)
{
	return ff_config_changed(fcinfo);
}
