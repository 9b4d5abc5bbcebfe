/*
 * identity.c — who is calling.
 *
 * What: ff_current_user() with Supabase auth.uid() semantics, and the subject
 *       used for rate limiting (user, else client address, else 'anon').
 * Why:  every RPC and RLS policy asks this, often once per row, so it is C and
 *       caches the parse: the claims string is compared with the last one seen
 *       and re-parsed only when it changed.
 * Client address: anonymous callers are limited per address, so the address must
 *       be one the client cannot choose.  A client writes whatever X-Forwarded-For
 *       it likes; each proxy appends the address it received the request from.  So
 *       the address is read from the RIGHT of the header named by
 *       feed_fusion.client_ip_header: the entry feed_fusion.trusted_proxy_hops
 *       places left of the rightmost one (the nearest proxy's), or the leftmost
 *       entry when the list is shorter (every entry then came from a proxy).  It
 *       must parse as an IPv4/IPv6 address and is put in canonical form (port
 *       dropped, IPv4-mapped IPv6 as IPv4), so one client is one subject however
 *       the text is spelled; anything else is "no address" ('anon': one shared
 *       bucket, never a bucket per string).  Both settings are PGC_SUSET: an app
 *       role that could pick the header or the hop count could pick its subject.
 * Caches (per backend, so a statement pays for none of this again): the settings
 *       are found through a remembered position in the GUC array (guc_value, exact:
 *       the array is sorted, so a hit is the entry at that position and a miss is
 *       proven by its two neighbours); the user and the subject are re-derived only
 *       when the text of request.jwt.claim.sub / request.jwt.claims / request.headers
 *       (or the two client-address settings) differs from the last call; the
 *       service_role answer is kept per GetUserId() and forgotten on any pg_authid or
 *       pg_auth_members invalidation (the callbacks acl.c's role-membership cache
 *       uses), so SET ROLE, SECURITY DEFINER, GRANT/REVOKE, ALTER ROLE [NO]SUPERUSER
 *       and DROP/CREATE ROLE service_role are followed exactly as without the cache.
 * Locking: none (backend-local state only).
 */
#include "postgres.h"

#include <arpa/inet.h>

#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/uuid.h"

#include "feed_fusion.h"

PG_FUNCTION_INFO_V1(ff_current_user);
PG_FUNCTION_INFO_V1(ff_request_subject);

/* feed_fusion.client_ip_header: which request header holds the client address. */
typedef enum FfIpHeader
{
	FF_IP_HEADER_XFF,
	FF_IP_HEADER_CF,
	FF_IP_HEADER_XREALIP
} FfIpHeader;

static const struct config_enum_entry ip_header_options[] = {
	{"x-forwarded-for", FF_IP_HEADER_XFF, false},
	{"cf-connecting-ip", FF_IP_HEADER_CF, false},
	{"x-real-ip", FF_IP_HEADER_XREALIP, false},
	{NULL, 0, false}
};

/* Header names as PostgREST puts them in request.headers (lower case), by FfIpHeader. */
static const char *const ip_header_names[] = {"x-forwarded-for", "cf-connecting-ip", "x-real-ip"};

#define FF_MAX_TRUSTED_PROXY_HOPS	32

static int	ff_client_ip_header = FF_IP_HEADER_XFF;
static int	ff_trusted_proxy_hops = 0;

/* Backend-local cache of the last claims seen and what they resolved to. */
static char *cached_sub_guc = NULL;
static char *cached_claims = NULL;
static bool cached_valid = false;
static bool cached_has_user = false;
static pg_uuid_t cached_user;

/* A setting read on every call, and the GUC array position where it was last looked for. */
typedef struct FfGucSlot
{
	const char *name;
	int			hint;			/* index of the entry, or where it would be inserted */
} FfGucSlot;

static FfGucSlot guc_claim_sub = {"request.jwt.claim.sub", -1};
static FfGucSlot guc_claims = {"request.jwt.claims", -1};
static FfGucSlot guc_headers = {"request.headers", -1};

#if PG_VERSION_NUM < 160000
/* The order guc.c keeps its array in (its guc_name_compare: ASCII case-folded). */
static int
guc_name_cmp(const char *a, const char *b)
{
	while (*a && *b)
	{
		char		ca = *a++;
		char		cb = *b++;

		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
		if (ca != cb)
			return ca - cb;
	}
	return *a ? 1 : (*b ? -1 : 0);
}

/*
 * The GUC entry of slot->name, or NULL: what GetConfigOption's bsearch finds, but
 * first checked at the remembered position, where a hit is the same name and a miss
 * is a predecessor below and a successor above it (the array is sorted, so nothing
 * lies between two neighbours).  Exact whatever was added, removed or moved since.
 */
static struct config_generic *
guc_find(FfGucSlot *slot)
{
	struct config_generic **vars = get_guc_variables();
	int			n = GetNumConfigOptions();
	int			h = slot->hint;
	int			lo = 0,
				hi = n;

	if (h >= 0 && h <= n)
	{
		if (h < n && guc_name_cmp(vars[h]->name, slot->name) == 0)
			return vars[h];
		if ((h == 0 || guc_name_cmp(vars[h - 1]->name, slot->name) < 0) &&
			(h == n || guc_name_cmp(slot->name, vars[h]->name) < 0))
			return NULL;
	}
	while (lo < hi)				/* first entry not below the name */
	{
		int			mid = lo + (hi - lo) / 2;

		if (guc_name_cmp(vars[mid]->name, slot->name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	slot->hint = lo;
	return (lo < n && guc_name_cmp(vars[lo]->name, slot->name) == 0) ? vars[lo] : NULL;
}
#endif

/* Current value of a custom setting, or NULL when unset or empty (GetConfigOption, cheaper). */
static const char *
guc_value(FfGucSlot *slot)
{
	const char *v;
#if PG_VERSION_NUM < 160000
	struct config_generic *rec = guc_find(slot);

	if (rec == NULL)
		return NULL;
	if (rec->vartype == PGC_STRING)
		v = *((struct config_string *) rec)->variable;	/* what GetConfigOption returns */
	else
		v = GetConfigOption(slot->name, true, false);
#else
	v = GetConfigOption(slot->name, true, false);
#endif
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

/* Value of one hex digit, or -1. */
static inline int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * uuid_in for the canonical form (8-4-4-4-12 hex digits, any case), which is what
 * PostgREST puts in the claims, without a function call; false for any other text,
 * which then goes through uuid_in itself (same result, same errors).
 */
static bool
canonical_uuid(const char *s, pg_uuid_t *out)
{
	int			i,
				n = 0;

	for (i = 0; i < 36; i++)
	{
		if (i == 8 || i == 13 || i == 18 || i == 23)
		{
			if (s[i] != '-')
				return false;
			continue;
		}
		if (hex_value(s[i]) < 0)
			return false;		/* also stops at a terminator before 36 */
	}
	if (s[36] != '\0')
		return false;
	for (i = 0; i < 36; i += 2)
	{
		if (s[i] == '-')
			i++;
		out->data[n++] = (unsigned char) (hex_value(s[i]) << 4 | hex_value(s[i + 1]));
	}
	return true;
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
	if (!canonical_uuid(sub, out))
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
	const char *sub_guc = guc_value(&guc_claim_sub);
	const char *claims = guc_value(&guc_claims);

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

/*
 * Settings of the client address, defined in every process that loads the library
 * (preloaded or not: table mode loads it on first use).  PGC_SUSET, so only a
 * superuser (postgresql.conf, ALTER SYSTEM, ALTER DATABASE/ROLE ... SET) or a role
 * granted SET on them can change them; an app role's SET fails with 42501, and a
 * value an app role set as a placeholder before the library was loaded is discarded
 * (with a warning) when the setting is defined here.
 */
void
ff_identity_init(void)
{
	DefineCustomEnumVariable("feed_fusion.client_ip_header",
							 "Request header that holds the client address anonymous callers are rate-limited by.",
							 "Read as a comma-separated list from the right: see feed_fusion.trusted_proxy_hops.",
							 &ff_client_ip_header, FF_IP_HEADER_XFF, ip_header_options,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("feed_fusion.trusted_proxy_hops",
							"Trusted proxies in front of the one nearest PostgREST, whose entries are skipped.",
							"0 takes the rightmost entry of the client address header (the one the nearest "
							"proxy appended); k takes the entry k places left of it.",
							&ff_trusted_proxy_hops, 0, 0, FF_MAX_TRUSTED_PROXY_HOPS,
							PGC_SUSET, 0, NULL, NULL, NULL);
}

/* HTTP optional whitespace (what proxies put around list entries). */
static inline bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * The entry `hops` places left of the rightmost non-empty entry of a comma-separated
 * list, trimmed; the leftmost non-empty entry when there are fewer; NULL when none.
 * From the right because a client can prepend anything but never change what the
 * proxies after it append.
 */
static char *
pick_from_right(const char *list, int hops)
{
	int			end = (int) strlen(list);
	int			found = -1;
	int			found_len = 0;
	int			seen = 0;

	for (;;)
	{
		int			start = end;
		int			s,
					e = end;

		while (start > 0 && list[start - 1] != ',')
			start--;
		s = start;
		while (s < e && is_ows(list[s]))
			s++;
		while (e > s && is_ows(list[e - 1]))
			e--;
		if (e > s)
		{
			found = s;
			found_len = e - s;
			if (seen++ == hops)
				break;
		}
		if (start == 0)
			break;
		end = start - 1;		/* the comma before this entry */
	}
	return found >= 0 ? pnstrdup(list + found, found_len) : NULL;
}

/* True when s is 1 to 5 decimal digits: a port, which some proxies append (and the client picks). */
static bool
is_port(const char *s)
{
	int			n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n >= 1 && n <= 5 && s[n] == '\0';
}

/*
 * Canonical text of an address entry: "a.b.c.d", "a.b.c.d:port", "v6", "[v6]" or
 * "[v6]:port" → inet_ntop's form without the port (a client picks its source port),
 * IPv4-mapped IPv6 as IPv4; NULL for anything else (names, "unknown", CIDR, zones).
 */
static char *
canonical_address(char *entry)
{
	char	   *host = entry;
	char	   *colon;
	struct in_addr v4;
	struct in6_addr v6;
	char		out[INET6_ADDRSTRLEN];

	if (strlen(entry) > INET6_ADDRSTRLEN + 8)	/* "[" v6 "]:" port */
		return NULL;
	if (host[0] == '[')
	{
		char	   *close = strchr(host, ']');

		if (close == NULL || (close[1] != '\0' && !(close[1] == ':' && is_port(close + 2))))
			return NULL;
		*close = '\0';
		host++;
	}
	else if ((colon = strchr(host, ':')) != NULL && strchr(colon + 1, ':') == NULL)
	{
		if (!is_port(colon + 1))
			return NULL;
		*colon = '\0';			/* IPv4 with a port (one colon: not IPv6) */
	}
	if (inet_pton(AF_INET, host, &v4) == 1)
		return pstrdup(inet_ntop(AF_INET, &v4, out, sizeof(out)));
	if (inet_pton(AF_INET6, host, &v6) != 1)
		return NULL;
	if (IN6_IS_ADDR_V4MAPPED(&v6))
		return pstrdup(inet_ntop(AF_INET, &v6.s6_addr[12], out, sizeof(out)));
	return pstrdup(inet_ntop(AF_INET6, &v6, out, sizeof(out)));
}

/*
 * Client address from request.headers: the configured header's entry picked from
 * the right (pick_from_right), in canonical form; NULL when there is none or it is
 * not an IP address.  Other headers are never consulted: a fallback would be a
 * header the client can write.
 */
static char *
client_address(void)
{
	const char *headers = guc_value(&guc_headers);
	char	   *value;
	char	   *entry;

	if (headers == NULL)
		return NULL;
	value = json_object_string(headers, ip_header_names[ff_client_ip_header]);
	if (value == NULL)
		return NULL;
	entry = pick_from_right(value, ff_trusted_proxy_hops);
	return entry ? canonical_address(entry) : NULL;
}

/* Cache of the subject: the user it was made for, or the address inputs it was read from. */
static bool subj_user_valid = false;
static pg_uuid_t subj_user;
static char subj_user_text[2 + UUID_LEN * 2 + 4 + 1];	/* "u:" + canonical uuid */
static bool subj_anon_valid = false;
static char *subj_anon_headers = NULL;	/* request.headers it was read from (TopMemoryContext) */
static int	subj_anon_header = -1;
static int	subj_anon_hops = -1;
static char *subj_anon = NULL;	/* "ip:<address>" or "anon" (TopMemoryContext) */

/* subj_user_text = "u:" + uuid_out's text of u (lower-case 8-4-4-4-12). */
static void
format_subject_user(const pg_uuid_t *u)
{
	static const char hex[] = "0123456789abcdef";
	char	   *p = subj_user_text;
	int			i;

	*p++ = 'u';
	*p++ = ':';
	for (i = 0; i < UUID_LEN; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[u->data[i] >> 4];
		*p++ = hex[u->data[i] & 0x0F];
	}
	*p = '\0';
}

/* "ip:<address>" or "anon" for the current request.headers and address settings, cached. */
static const char *
anonymous_subject(void)
{
	const char *headers = guc_value(&guc_headers);
	char	   *addr;

	if (headers == NULL)
		return "anon";
	if (subj_anon_valid && subj_anon_header == ff_client_ip_header &&
		subj_anon_hops == ff_trusted_proxy_hops && strcmp(headers, subj_anon_headers) == 0)
		return subj_anon;
	subj_anon_valid = false;
	addr = client_address();	/* may ereport on bad input */
	remember(&subj_anon_headers, headers);
	if (subj_anon)
		pfree(subj_anon);
	subj_anon = MemoryContextStrdup(TopMemoryContext, addr ? psprintf("ip:%s", addr) : "anon");
	subj_anon_header = ff_client_ip_header;
	subj_anon_hops = ff_trusted_proxy_hops;
	subj_anon_valid = true;
	return subj_anon;
}

/* Rate-limit subject: "u:<uuid>", else "ip:<address>", else "anon" (valid until the next call). */
const char *
ff_current_subject(void)
{
	pg_uuid_t	u;

	if (!ff_current_user_uuid(&u))
		return anonymous_subject();
	if (!subj_user_valid || memcmp(&u, &subj_user, sizeof(u)) != 0)
	{
		subj_user_valid = false;
		format_subject_user(&u);
		subj_user = u;
		subj_user_valid = true;
	}
	return subj_user_text;
}

/* SQL: ff_request_subject() RETURNS text — the subject check_rate_limit keys on. */
Datum
ff_request_subject(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(ff_current_subject()));
}

/* The last service_role answer, for svc_user; forgotten on role invalidations. */
static bool svc_callbacks = false;
static bool svc_valid = false;
static Oid	svc_user = InvalidOid;
static bool svc_answer = false;
static uint64 svc_invals = 0;	/* invalidations seen (an answer computed across one is not kept) */

/* pg_authid / pg_auth_members changed (or every cache was reset): forget the answer. */
static void
svc_inval_cb(Datum arg, int cacheid, uint32 hashvalue)
{
	svc_valid = false;
	svc_invals++;
}

/* What ff_acts_as_service_role answers, computed from the catalogs. */
static bool
acts_as_service_role_uncached(Oid user)
{
	Oid			svc;

	if (superuser_arg(user))
		return true;
	svc = get_role_oid("service_role", true);
	return OidIsValid(svc) && has_privs_of_role(user, svc);
}

/* service_role-only RPCs ask this: a member of service_role, or a superuser (cached per user id). */
bool
ff_acts_as_service_role(void)
{
	Oid			user = GetUserId();

	if (!svc_callbacks)
	{
		CacheRegisterSyscacheCallback(AUTHOID, svc_inval_cb, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, svc_inval_cb, (Datum) 0);
		svc_callbacks = true;
	}
	if (!svc_valid || svc_user != user)
	{
		uint64		invals = svc_invals;
		bool		answer = acts_as_service_role_uncached(user);

		svc_user = user;
		svc_answer = answer;
		svc_valid = (invals == svc_invals);
		return answer;
	}
	return svc_answer;
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
