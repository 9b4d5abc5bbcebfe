/*
 * flags.h — feature-flag cache internals shared between flags.c and flags_hash.c.
 */
#ifndef FF_FLAGS_H
#define FF_FLAGS_H

#include "postgres.h"
#include "utils/uuid.h"

/* Longest valid flag key (the CHECK is ^[a-z][a-z0-9_]{0,62}$). */
#define FF_FLAG_KEY_MAX 63

/* flags_hash.c: true when key[0..len) matches ^[a-z][a-z0-9_]{0,62}$. */
extern bool ff_flag_key_valid(const char *key, int len);

/*
 * flags_hash.c: the documented rollout bucket of (key, user) in 0..99:
 * first 4 bytes of SHA-256(key || ':' || lower-case canonical uuid text),
 * read as a big-endian uint32, modulo 100.  key must be valid.
 */
extern int	ff_flag_bucket_of(const char *key, int len, const pg_uuid_t *user);

/*
 * flags_hash.c: the same bucket for many keys and one user (flags_for): the uuid
 * text and the SHA-256 context are made once.  Zero-initialise, then call
 * ff_flag_hasher_bucket() any number of times, then ff_flag_hasher_done().
 */
typedef struct FlagHasher
{
	const pg_uuid_t *user;
	struct pg_cryptohash_ctx *ctx;	/* created on first use */
	char		uuid[36];		/* canonical text, filled on first use */
} FlagHasher;

extern int	ff_flag_hasher_bucket(FlagHasher *h, const char *key, int len);
extern void ff_flag_hasher_done(FlagHasher *h);

#endif							/* FF_FLAGS_H */
