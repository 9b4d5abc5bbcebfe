/*
 * schema.c — where our objects live.
 *
 * What: helpers that find the extension's schema and build schema-qualified names.
 * Why:  the spec forbids depending on the caller's search_path, so every name the
 *       C code puts into SQL is qualified.  The schema of the function being called
 *       is found through the syscache (cheap, always right even after the extension
 *       is dropped and re-created elsewhere).
 * Locking: none (catalog lookups only).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "feed_fusion.h"

/* Schema of the SQL-callable function currently executing. */
char *
ff_fn_schema(FunctionCallInfo fcinfo)
{
	Oid			nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
	char	   *name = get_namespace_name(nsp);

	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("feed_fusion: schema of function %u not found", fcinfo->flinfo->fn_oid)));
	return name;
}

/* Namespace and owner of the installed feed_fusion (one catalog index scan); false if absent. */
static bool
extension_row(Oid *nsp, Oid *owner)
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
		*nsp = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
		*owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/* Schema of the installed extension (catalog scan: use off the hot path). */
char *
ff_extension_schema(void)
{
	Oid			nsp,
				owner;

	return extension_row(&nsp, &owner) ? get_namespace_name(nsp) : NULL;
}

/* Owner of the installed extension (its rights read internal tables), or InvalidOid. */
Oid
ff_extension_owner(void)
{
	Oid			nsp,
				owner;

	return extension_row(&nsp, &owner) ? owner : InvalidOid;
}

/* Quote and join schema and object name for use in SQL text. */
char *
ff_qualify(const char *schema, const char *name)
{
	return quote_qualified_identifier(schema, name);
}
