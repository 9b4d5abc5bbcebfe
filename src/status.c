/*
 * status.c — builder for the jsonb detail of ff_status() rows.
 *
 * What: small typed appenders over PostgreSQL's JsonbParseState.
 * Why:  every component reports its state as jsonb; one builder keeps the values
 *       typed (numbers stay numbers, NULL is null, text is escaped by jsonb itself)
 *       instead of each file printing JSON by hand.
 * Locking: none (callers read their shared state under their own locks first).
 */
#include "postgres.h"

#include <math.h>

#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "status.h"

/* Push the key half of a pair. */
static void
push_key(FfStatus *st, const char *key)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	pushJsonbValue(&st->state, WJB_KEY, &k);
}

/* Push a scalar as the value of `key`. */
static void
push_pair(FfStatus *st, const char *key, JsonbValue *v)
{
	push_key(st, key);
	pushJsonbValue(&st->state, WJB_VALUE, v);
}

/* Start an object. */
void
ff_status_begin(FfStatus *st)
{
	st->state = NULL;
	pushJsonbValue(&st->state, WJB_BEGIN_OBJECT, NULL);
}

/* Integer value. */
void
ff_status_int(FfStatus *st, const char *key, int64 v)
{
	JsonbValue	j;

	j.type = jbvNumeric;
	j.val.numeric = int64_to_numeric(v);
	push_pair(st, key, &j);
}

/* Floating-point value (non-finite values become null: JSON has no NaN). */
void
ff_status_float(FfStatus *st, const char *key, double v)
{
	JsonbValue	j;

	if (isnan(v) || isinf(v))
		j.type = jbvNull;
	else
	{
		j.type = jbvNumeric;
		j.val.numeric = DatumGetNumeric(DirectFunctionCall1(float8_numeric, Float8GetDatum(v)));
	}
	push_pair(st, key, &j);
}

/* Boolean value. */
void
ff_status_bool(FfStatus *st, const char *key, bool v)
{
	JsonbValue	j;

	j.type = jbvBool;
	j.val.boolean = v;
	push_pair(st, key, &j);
}

/* Text value, or null. */
void
ff_status_text(FfStatus *st, const char *key, const char *v)
{
	JsonbValue	j;

	if (v == NULL)
		j.type = jbvNull;
	else
	{
		j.type = jbvString;
		j.val.string.val = (char *) v;
		j.val.string.len = strlen(v);
	}
	push_pair(st, key, &j);
}

/* Timestamp as text, or null when it never happened (0). */
void
ff_status_time(FfStatus *st, const char *key, TimestampTz t)
{
	ff_status_text(st, key, t == 0 ? NULL : timestamptz_to_str(t));
}

/* Array of strings. */
void
ff_status_text_array(FfStatus *st, const char *key, const char *const *v, int n)
{
	push_key(st, key);
	pushJsonbValue(&st->state, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < n; i++)
	{
		JsonbValue	j;

		j.type = jbvString;
		j.val.string.val = (char *) v[i];
		j.val.string.len = strlen(v[i]);
		pushJsonbValue(&st->state, WJB_ELEM, &j);
	}
	pushJsonbValue(&st->state, WJB_END_ARRAY, NULL);
}

/* Close the object and return it as jsonb. */
Jsonb *
ff_status_end(FfStatus *st)
{
	JsonbValue *res = pushJsonbValue(&st->state, WJB_END_OBJECT, NULL);

	return JsonbValueToJsonb(res);
}
