/*
 * status.h — the one way components build their ff_status() detail (status.c).
 *
 * Usage: FfStatus st; ff_status_begin(&st); ff_status_int(&st, "keys", n); ...
 *        PG_RETURN_JSONB_P(ff_status_end(&st));
 * Keys appear in the order added; jsonb then sorts them as it always does.
 */
#ifndef FF_STATUS_H
#define FF_STATUS_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/jsonb.h"

typedef struct FfStatus
{
	JsonbParseState *state;
} FfStatus;

extern void ff_status_begin(FfStatus *st);
extern void ff_status_int(FfStatus *st, const char *key, int64 v);
extern void ff_status_float(FfStatus *st, const char *key, double v);
extern void ff_status_bool(FfStatus *st, const char *key, bool v);
/* v NULL: JSON null. */
extern void ff_status_text(FfStatus *st, const char *key, const char *v);
/* t 0: JSON null (never happened); else ISO 8601 text. */
extern void ff_status_time(FfStatus *st, const char *key, TimestampTz t);
/* A JSON array of strings (n may be 0). */
extern void ff_status_text_array(FfStatus *st, const char *key, const char *const *v, int n);
extern Jsonb *ff_status_end(FfStatus *st);

#endif							/* FF_STATUS_H */
