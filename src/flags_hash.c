/*
 * flags_hash.c — the rollout bucket and key validation for feature flags.
 *
 * What: bucket(key, user) = first 4 bytes of SHA-256(key || ':' || uuid text),
 *       big-endian uint32, mod 100; plus the flag-key syntax check.
 * Why:  other services (the app, an edge worker) must compute the same bucket,
 *       so it is a standard hash over a plain string, not PostgreSQL's internal
 *       hash_bytes.  SHA-256 comes from PostgreSQL's own cryptohash API (OpenSSL
 *       or the built-in implementation, whichever the server was built with).
 *       docs/flags.md documents it with a worked example that a test checks.
 * Locking: none (pure functions).
 */
#include "postgres.h"

#include "common/cryptohash.h"
#include "common/sha2.h"
#include "utils/builtins.h"

#include "feed_fusion.h"
#include "flags.h"

PG_FUNCTION_INFO_V1(ff_flag_bucket);

/* Key syntax per the table's CHECK: ^[a-z][a-z0-9_]{0,62}$. */
bool
ff_flag_key_valid(const char *key, int len)
{
	if (len < 1 || len > FF_FLAG_KEY_MAX || key[0] < 'a' || key[0] > 'z')
		return false;
	for (int i = 1; i < len; i++)
	{
		char		c = key[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

/* Write the canonical lower-case 36-character text of a uuid (as uuid_out does). */
static void
uuid_text(const pg_uuid_t *u, char *out)
{
	static const char hex[] = "0123456789abcdef";
	int			o = 0;

	for (int i = 0; i < UUID_LEN; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[u->data[i] >> 4];
		out[o++] = hex[u->data[i] & 0x0F];
	}
}

/* Raise the hash library's failure (never expected) with an explicit SQLSTATE. */
static void
hash_failed(pg_cryptohash_ctx *ctx)
{
	elog(ERROR, "could not compute SHA-256 for a flag bucket: %s",
		 ctx ? pg_cryptohash_error(ctx) : "out of memory");
}

/* Bucket of (key, h->user); reuses h's uuid text and hash context across keys. */
int
ff_flag_hasher_bucket(FlagHasher *h, const char *key, int len)
{
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	uint32		v;

	Assert(len > 0 && len <= FF_FLAG_KEY_MAX);
	if (h->ctx == NULL)
	{
		uuid_text(h->user, h->uuid);
		h->ctx = pg_cryptohash_create(PG_SHA256);
		if (h->ctx == NULL)
			hash_failed(NULL);
	}
	if (pg_cryptohash_init(h->ctx) < 0 ||
		pg_cryptohash_update(h->ctx, (const uint8 *) key, len) < 0 ||
		pg_cryptohash_update(h->ctx, (const uint8 *) ":", 1) < 0 ||
		pg_cryptohash_update(h->ctx, (const uint8 *) h->uuid, sizeof(h->uuid)) < 0 ||
		pg_cryptohash_final(h->ctx, digest, sizeof(digest)) < 0)
		hash_failed(h->ctx);

	v = ((uint32) digest[0] << 24) | ((uint32) digest[1] << 16) |
		((uint32) digest[2] << 8) | (uint32) digest[3];
	return (int) (v % 100);
}

/* Release the hash context (an error before this is cleaned up by the resource owner). */
void
ff_flag_hasher_done(FlagHasher *h)
{
	if (h->ctx)
		pg_cryptohash_free(h->ctx);
	h->ctx = NULL;
}

/* The documented bucket for one (key, user). */
int
ff_flag_bucket_of(const char *key, int len, const pg_uuid_t *user)
{
	FlagHasher	h = {0};
	int			b;

	h.user = user;
	b = ff_flag_hasher_bucket(&h, key, len);
	ff_flag_hasher_done(&h);
	return b;
}

/* SQL: ff_flag_bucket(p_key text, p_user uuid) RETURNS int — lets apps check their port. */
Datum
ff_flag_bucket(PG_FUNCTION_ARGS)
{
	text	   *key = PG_GETARG_TEXT_PP(0);
	pg_uuid_t  *user = PG_GETARG_UUID_P(1);
	int			len = VARSIZE_ANY_EXHDR(key);

	if (!ff_flag_key_valid(VARDATA_ANY(key), len))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid feature flag key \"%s\"", text_to_cstring(key)),
				 errdetail("Flag keys match ^[a-z][a-z0-9_]{0,62}$.")));
	PG_RETURN_INT32(ff_flag_bucket_of(VARDATA_ANY(key), len, user));
}
