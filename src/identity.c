/*
 * identity.c — who is calling.
 *
 * What: ff_current_user() with Supabase auth.uid() semantics, and the subject
 *       used for rate limiting (user, else client address, else 'anon').
 * Why:  every RPC and RLS policy asks this, often once per row, so it is C and
 *       caches the parse: the claims string is compared with the last one seen
 *       and re-parsed only when it changed.
 * Locking: none (backend-local state only).
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/uuid.h"

#include "feed_fusion.h"

PG_FUNCTION_INFO_V1(ff_current_user);
PG_FUNCTION_INFO_V1(ff_request_subject);

/* Backend-local cache of the last claims seen and what they resolved to. */
static char *cached_sub_guc = NULL;
static char *cached_claims = NULL;
static bool cached_valid = false;
static bool cached_has_user = false;
static pg_uuid_t cached_user;

/* Current value of a custom setting, or NULL when unset or empty. */
static const char *
guc_or_null(const char *name)
{
	const char *v = GetConfigOption(name, true, false);

	return (v == NULL || v[0] == '\0') ? NULL : v;
}

/* Text value of key `key` in a JSON object string, or NULL (not an object, absent, not a string). */
static char *
json_object_string(const char *json, const char *key)
{
	Jsonb	   *jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
	JsonbValue *v;

	if (!JB_ROOT_IS_OBJECT(jb))
		return NULL;
	v = getKeyJsonValueFromContainer(&jb->root, key, strlen(key), NULL);
	if (v == NULL || v->type != jbvString)
		return NULL;
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* Resolve the user from the two settings PostgREST may set (claim.sub first). */
static bool
resolve_user(const char *sub_guc, const char *claims, pg_uuid_t *out)
{
	const char *sub = sub_guc;

	if (sub == NULL && claims != NULL)
		sub = json_object_string(claims, "sub");
	if (sub == NULL || sub[0] == '\0')
		return false;
	*out = *DatumGetUUIDP(DirectFunctionCall1(uuid_in, CStringGetDatum(sub)));
	return true;
}

/* Remember a setting's value in TopMemoryContext so the next call can compare. */
static void
remember(char **slot, const char *value)
{
	if (*slot)
		pfree(*slot);
	*slot = value ? MemoryContextStrdup(TopMemoryContext, value) : NULL;
}

/* Same string or both NULL. */
static bool
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* The current user's uuid; false when anonymous.  Cached on the settings' text. */
bool
ff_current_user_uuid(pg_uuid_t *out)
{
	const char *sub_guc = guc_or_null("request.jwt.claim.sub");
	const char *claims = guc_or_null("request.jwt.claims");

	if (!cached_valid || !same(sub_guc, cached_sub_guc) || !same(claims, cached_claims))
	{
		pg_uuid_t	u;
		bool		has;

		cached_valid = false;
		has = resolve_user(sub_guc, claims, &u);	/* may ereport on bad input */
		remember(&cached_sub_guc, sub_guc);
		remember(&cached_claims, claims);
		cached_has_user = has;
		if (has)
			cached_user = u;
		cached_valid = true;
	}
	if (cached_has_user)
		*out = cached_user;
	return cached_has_user;
}

/* SQL: ff_current_user() RETURNS uuid — NULL when anonymous. */
Datum
ff_current_user(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *u = palloc(sizeof(pg_uuid_t));

	if (!ff_current_user_uuid(u))
		PG_RETURN_NULL();
	PG_RETURN_UUID_P(u);
}

/* First hop of an X-Forwarded-For list, trimmed; NULL when empty. */
static char *
first_hop(const char *xff)
{
	const char *start = xff;
	const char *end;

	while (*start == ' ' || *start == '\t')
		start++;
	end = start;
	while (*end && *end != ',')
		end++;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return end > start ? pnstrdup(start, end - start) : NULL;
}

/* Client address from request.headers (x-forwarded-for first hop, else cf-connecting-ip). */
static char *
client_address(void)
{
	const char *headers = guc_or_null("request.headers");
	char	   *addr = NULL;
	char	   *xff;

	if (headers == NULL)
		return NULL;
	xff = json_object_string(headers, "x-forwarded-for");
	if (xff)
		addr = first_hop(xff);
	if (addr == NULL)
	{
		char	   *cf = json_object_string(headers, "cf-connecting-ip");

		if (cf && cf[0])
			addr = first_hop(cf);
	}
	return addr;
}

/* Rate-limit subject: "u:<uuid>", else "ip:<address>", else "anon". */
char *
ff_current_subject(void)
{
	pg_uuid_t	u;
	char	   *addr;

	if (ff_current_user_uuid(&u))
		return psprintf("u:%s", DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(&u))));
	addr = client_address();
	return addr ? psprintf("ip:%s", addr) : pstrdup("anon");
}

/* SQL: ff_request_subject() RETURNS text — the subject check_rate_limit keys on. */
Datum
ff_request_subject(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(ff_current_subject()));
}

/* service_role-only RPCs ask this: a member of service_role, or a superuser. */
bool
ff_acts_as_service_role(void)
{
	Oid			svc;

	if (superuser())
		return true;
	svc = get_role_oid("service_role", true);
	return OidIsValid(svc) && has_privs_of_role(GetUserId(), svc);
}

/* service_role-only RPCs call this first: core's wording for a missing privilege. */
void
ff_require_service_role(const char *fn)
{
	if (!ff_acts_as_service_role())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for function %s", fn),
				 errdetail("Only service_role can call this function.")));
}
