/*
 * flags.c — placeholder until the feature-flag cache lands (issue 4).
 * What: a plain SPI evaluation of one flag (deny, allow, enabled, 0/100 % rollout)
 * so other components can call ff_flag_enabled_for() today.  Why: keeps the API
 * stable while the cached implementation is built.  Locking: none.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "feed_fusion.h"

/* Nothing to register yet. */
void
ff_flags_init(void)
{
}

/* Evaluate one flag with a direct query (no cache, no percentage buckets yet). */
bool
ff_flag_enabled_for(const char *key, const pg_uuid_t *user, bool dflt)
{
	char	   *schema = ff_extension_schema();
	Oid			types[2] = {TEXTOID, UUIDOID};
	Datum		vals[2];
	char		nulls[2] = {' ', user ? ' ' : 'n'};
	bool		result = dflt;
	char	   *sql;

	if (schema == NULL)
		return dflt;
	sql = psprintf("SELECT CASE WHEN $2 = ANY (deny_users) THEN false WHEN $2 = ANY (allow_users) THEN true "
				   "WHEN NOT enabled THEN false WHEN $2 IS NULL THEN rollout_percent = 100 "
				   "ELSE rollout_percent > 0 END FROM %s WHERE key = $1",
				   ff_qualify(schema, "feature_flags"));
	vals[0] = CStringGetTextDatum(key);
	vals[1] = user ? UUIDPGetDatum(user) : (Datum) 0;
	SPI_connect();
	if (SPI_execute_with_args(sql, 2, types, vals, nulls, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			result = DatumGetBool(d);
	}
	SPI_finish();
	return result;
}
