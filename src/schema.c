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

/* Namespace of extension `ext` (PG 15 does not export get_extension_schema). */
static Oid
extension_namespace(Oid ext)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			nsp = InvalidOid;

	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(ext));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		nsp = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return nsp;
}

/* Schema of the installed extension (catalog scan: use off the hot path). */
char *
ff_extension_schema(void)
{
	Oid			ext = get_extension_oid("feed_fusion", true);

	if (!OidIsValid(ext))
		return NULL;
	return get_namespace_name(extension_namespace(ext));
}

/* Quote and join schema and object name for use in SQL text. */
char *
ff_qualify(const char *schema, const char *name)
{
	return quote_qualified_identifier(schema, name);
}
