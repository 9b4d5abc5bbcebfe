/*
 * feed_cursor.c — signed, compact feed cursors.
 *
 * What: encode/decode of the FeedState a cursor carries (as-of time, position k,
 *       per-source positions, taken counters, listing-window history, last entity),
 *       as base64url (no padding) of  payload || HMAC-SHA256(secret, payload ||
 *       binding)[0..15].  The binding — function, canonical lane (or profile
 *       entity) and viewer — is hashed but not stored, so a cursor replayed by
 *       another viewer, on another lane or for another function fails the MAC.
 * Why:  the spec wants opaque, URL-safe, <= 256-char cursors that cannot be
 *       edited or replayed; PostgreSQL's own HMAC (common/hmac.h) does the crypto.
 * Layout (version 1, integers big-endian, varints LEB128):
 *       u8 version, u8 func, i64 as_of, varint k,
 *       home:    varint taken[3], u8 flags(bit0 has_last), [16 last_entity],
 *                varint nwin, ceil(nwin/8) window bytes,
 *                3 x { u8 f(bit0 started, bit1 dry, bits2-3 tbl), [f64 key, zigzag id] }
 *       profile: u8 f, [i64 created_at, zigzag id]
 * Every decode error is SQLSTATE 22023; the MAC is checked (constant time) before
 * any field is interpreted, and the parser is bounds-checked on its own anyway.
 * Locking: none.
 */
#include "postgres.h"

#include <math.h>

#include "common/cryptohash.h"
#include "common/sha2.h"
#include "common/hmac.h"
#include "port/pg_bswap.h"

#include "feed.h"
#include "varint.h"

#define TAG_LEN		16
#define MAX_RAW		((FF_CURSOR_MAX_CHARS * 3) / 4)

typedef struct Buf
{
	uint8		data[MAX_RAW + 64];
	int			len;
} Buf;

typedef struct Reader
{
	const uint8 *p;
	int			len;
	int			off;
	bool		bad;
} Reader;

/* Raise the one error every bad cursor gets, with a specific detail. */
static void
bad_cursor(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid feed cursor"),
			 errdetail("%s", detail),
			 errhint("Pass NULL for the first page, then the cursor of the last row you received, "
					 "with the same viewer, lane and function.")));
}

/* Append bytes, erroring (never overflowing) if the state cannot fit a cursor. */
static void
put_bytes(Buf *b, const void *src, int n)
{
	if (b->len + n > (int) sizeof(b->data))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("feed cursor state does not fit in %d characters", FF_CURSOR_MAX_CHARS)));
	memcpy(b->data + b->len, src, n);
	b->len += n;
}

/* One byte. */
static void
put_u8(Buf *b, uint8 v)
{
	put_bytes(b, &v, 1);
}

/* Unsigned LEB128 varint (varint.h). */
static void
put_varint(Buf *b, uint64 v)
{
	uint8		tmp[FF_VARINT_MAX_BYTES];

	put_bytes(b, tmp, ff_varint_put(tmp, v) - tmp);
}

/* Signed integer as zigzag varint (ids may in principle be negative). */
static void
put_zigzag(Buf *b, int64 v)
{
	put_varint(b, ff_zigzag_encode(v));
}

/* 64 bits, big-endian. */
static void
put_u64(Buf *b, uint64 v)
{
	uint64		be = pg_hton64(v);

	put_bytes(b, &be, 8);
}

/* A double as its IEEE bits. */
static void
put_f64(Buf *b, double d)
{
	uint64		u;

	memcpy(&u, &d, 8);
	put_u64(b, u);
}

/* Read n bytes or mark the reader bad. */
static const uint8 *
get_bytes(Reader *r, int n)
{
	const uint8 *p;

	if (r->bad || n < 0 || r->off + n > r->len)
	{
		r->bad = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

/* One byte (0 when out of data; the reader is then bad). */
static uint8
get_u8(Reader *r)
{
	const uint8 *p = get_bytes(r, 1);

	return p ? *p : 0;
}

/* LEB128 varint (varint.h: at most 10 bytes, no overflow); 0 and bad on error. */
static uint64
get_varint(Reader *r)
{
	const uint8 *p = r->p + r->off;
	uint64		v;

	if (r->bad || !ff_varint_get(&p, r->p + r->len, &v))
	{
		r->bad = true;
		return 0;
	}
	r->off = p - r->p;
	return v;
}

/* Zigzag-decoded signed varint. */
static int64
get_zigzag(Reader *r)
{
	return ff_zigzag_decode(get_varint(r));
}

/* 64 bits, big-endian. */
static uint64
get_u64(Reader *r)
{
	const uint8 *p = get_bytes(r, 8);
	uint64		be;

	if (!p)
		return 0;
	memcpy(&be, p, 8);
	return pg_ntoh64(be);
}

/* A double from its IEEE bits. */
static double
get_f64(Reader *r)
{
	uint64		u = get_u64(r);
	double		d;

	memcpy(&d, &u, 8);
	return d;
}

/* HMAC-SHA256 over payload and binding, truncated to TAG_LEN bytes. */
static void
compute_tag(const uint8 *payload, int len, const bytea *secret, uint8 func, const char *binding,
			const pg_uuid_t *viewer, const pg_uuid_t *subject, uint8 *tag)
{
	pg_hmac_ctx *ctx = pg_hmac_create(PG_SHA256);
	uint8		out[PG_SHA256_DIGEST_LENGTH];
	uint8		sep[2] = {0, func};
	uint8		flag[2] = {viewer != NULL, subject != NULL};
	bool		ok;

	if (ctx == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	ok = pg_hmac_init(ctx, (const uint8 *) VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret)) == 0 &&
		pg_hmac_update(ctx, payload, len) == 0 &&
		pg_hmac_update(ctx, sep, 2) == 0 &&
		pg_hmac_update(ctx, (const uint8 *) binding, strlen(binding) + 1) == 0 &&
		pg_hmac_update(ctx, flag, 2) == 0 &&
		(viewer == NULL || pg_hmac_update(ctx, viewer->data, UUID_LEN) == 0) &&
		(subject == NULL || pg_hmac_update(ctx, subject->data, UUID_LEN) == 0) &&
		pg_hmac_final(ctx, out, sizeof(out)) == 0;
	pg_hmac_free(ctx);
	if (!ok)
		elog(ERROR, "feed cursor HMAC computation failed");
	memcpy(tag, out, TAG_LEN);
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding. */
static char *
b64_encode(const uint8 *src, int len)
{
	char	   *out = palloc((len * 4) / 3 + 4);
	char	   *o = out;
	int			i;

	for (i = 0; i + 2 < len; i += 3)
	{
		uint32		v = (src[i] << 16) | (src[i + 1] << 8) | src[i + 2];

		*o++ = b64url[(v >> 18) & 63];
		*o++ = b64url[(v >> 12) & 63];
		*o++ = b64url[(v >> 6) & 63];
		*o++ = b64url[v & 63];
	}
	if (len - i == 1)
	{
		uint32		v = src[i] << 16;

		*o++ = b64url[(v >> 18) & 63];
		*o++ = b64url[(v >> 12) & 63];
	}
	else if (len - i == 2)
	{
		uint32		v = (src[i] << 16) | (src[i + 1] << 8);

		*o++ = b64url[(v >> 18) & 63];
		*o++ = b64url[(v >> 12) & 63];
		*o++ = b64url[(v >> 6) & 63];
	}
	*o = '\0';
	return out;
}

/* Value of one base64url character, -1 if it is not one. */
static int
b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Strict base64url decode (canonical: unused trailing bits must be zero). */
static int
b64_decode(const char *s, int slen, uint8 *dst)
{
	int			n = 0,
				i;
	uint32		acc = 0;
	int			bits = 0;

	if (slen % 4 == 1)
		bad_cursor("The cursor has an impossible length (truncated?).");
	for (i = 0; i < slen; i++)
	{
		int			v = b64_val((unsigned char) s[i]);

		if (v < 0)
			bad_cursor("The cursor contains characters that are not base64url.");
		acc = (acc << 6) | v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			dst[n++] = (acc >> bits) & 0xFF;
		}
	}
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		bad_cursor("The cursor is not canonical base64url (edited?).");
	return n;
}

/* Serialize, sign and encode a cursor for the state after an item. */
char *
ff_cursor_encode(const FeedState *st, const bytea *secret, const char *binding,
				 const pg_uuid_t *viewer, const pg_uuid_t *subject)
{
	Buf			b;
	uint8		tag[TAG_LEN];
	char	   *out;

	b.len = 0;
	put_u8(&b, FF_CURSOR_VERSION);
	put_u8(&b, st->func);
	put_u64(&b, (uint64) st->as_of);
	put_varint(&b, (uint64) st->k);
	if (st->func == FF_FUNC_HOME)
	{
		int			s;

		for (s = 0; s < FF_NSOURCES; s++)
			put_varint(&b, (uint64) st->taken[s]);
		put_u8(&b, st->has_last ? 1 : 0);
		if (st->has_last)
			put_bytes(&b, st->last_entity.data, UUID_LEN);
		put_varint(&b, (uint64) st->nwin);
		put_bytes(&b, st->win, (st->nwin + 7) / 8);
		for (s = 0; s < FF_NSOURCES; s++)
		{
			const FeedPos *p = &st->pos[s];

			put_u8(&b, (p->started ? 1 : 0) | (p->dry ? 2 : 0) | ((p->tbl & 3) << 2));
			if (p->started)
			{
				put_f64(&b, p->key);
				put_zigzag(&b, p->id);
			}
		}
	}
	else
	{
		const FeedPos *p = &st->pos[0];

		put_u8(&b, (p->started ? 1 : 0) | (p->dry ? 2 : 0) | ((p->tbl & 3) << 2));
		if (p->started)
		{
			put_u64(&b, (uint64) p->ts);
			put_zigzag(&b, p->id);
		}
	}
	compute_tag(b.data, b.len, secret, st->func, binding, viewer, subject, tag);
	put_bytes(&b, tag, TAG_LEN);
	out = b64_encode(b.data, b.len);
	if (strlen(out) > FF_CURSOR_MAX_CHARS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("feed cursor state does not fit in %d characters", FF_CURSOR_MAX_CHARS)));
	return out;
}

/* Read one stream position. */
static void
get_pos(Reader *r, FeedPos *p, bool profile)
{
	uint8		f = get_u8(r);

	if (f & ~0x0F)
		r->bad = true;
	p->started = (f & 1) != 0;
	p->dry = (f & 2) != 0;
	p->tbl = (f >> 2) & 3;
	if (p->tbl > FF_TBL_EVENTS)
		r->bad = true;
	if (p->started)
	{
		if (profile)
		{
			p->ts = (TimestampTz) get_u64(r);
			if (TIMESTAMP_NOT_FINITE(p->ts))
				r->bad = true;
		}
		else
		{
			p->key = get_f64(r);
			if (isnan(p->key) || isinf(p->key))
				r->bad = true;
		}
		p->id = get_zigzag(r);
	}
}

/* Check the signature and binding of a cursor, then parse it into *st. */
void
ff_cursor_decode(const char *text, FeedState *st, uint8 func, const bytea *secret,
				 const char *binding, const pg_uuid_t *viewer, const pg_uuid_t *subject)
{
	int			slen = strlen(text);
	uint8		raw[MAX_RAW + 4];
	uint8		tag[TAG_LEN];
	int			n,
				s;
	Reader		r;
	uint64		v;
	int64		sum = 0;

	memset(st, 0, sizeof(*st));
	if (slen == 0)
		bad_cursor("The cursor is empty.");
	if (slen > FF_CURSOR_MAX_CHARS)
		bad_cursor("The cursor is longer than any cursor this server issues.");
	n = b64_decode(text, slen, raw);
	if (n < TAG_LEN + 11)
		bad_cursor("The cursor is too short (truncated?).");
	compute_tag(raw, n - TAG_LEN, secret, func, binding, viewer, subject, tag);
	/* constant-time comparison */
	{
		uint8		diff = 0;
		int			i;

		for (i = 0; i < TAG_LEN; i++)
			diff |= tag[i] ^ raw[n - TAG_LEN + i];
		if (diff != 0)
			bad_cursor("The cursor's signature does not match: it was edited or truncated, or it was "
					   "issued for another viewer, lane, profile or function.");
	}
	r.p = raw;
	r.len = n - TAG_LEN;
	r.off = 0;
	r.bad = false;
	if (get_u8(&r) != FF_CURSOR_VERSION)
		bad_cursor("The cursor was issued by an unsupported version.");
	st->func = get_u8(&r);
	if (st->func != func)
		bad_cursor("The cursor was issued for another function.");
	st->as_of = (TimestampTz) get_u64(&r);
	v = get_varint(&r);
	if (v > PG_INT32_MAX)
		r.bad = true;
	st->k = (int64) v;
	if (func == FF_FUNC_HOME)
	{
		uint8		f;

		for (s = 0; s < FF_NSOURCES; s++)
		{
			v = get_varint(&r);
			if (v > PG_INT32_MAX)
				r.bad = true;
			st->taken[s] = (int64) v;
			sum += st->taken[s];
		}
		f = get_u8(&r);
		if (f & ~1)
			r.bad = true;
		st->has_last = (f & 1) != 0;
		if (st->has_last)
		{
			const uint8 *p = get_bytes(&r, UUID_LEN);

			if (p)
				memcpy(st->last_entity.data, p, UUID_LEN);
		}
		v = get_varint(&r);
		if (v > FF_MAX_WINDOW)
			r.bad = true;
		else
		{
			const uint8 *p;

			st->nwin = (int) v;
			p = get_bytes(&r, (st->nwin + 7) / 8);
			if (p)
				memcpy(st->win, p, (st->nwin + 7) / 8);
		}
		for (s = 0; s < FF_NSOURCES; s++)
			get_pos(&r, &st->pos[s], false);
		if (!r.bad && sum != st->k)
			r.bad = true;
	}
	else
		get_pos(&r, &st->pos[0], true);
	if (!r.bad && r.off != r.len)
		r.bad = true;
	if (!r.bad && (TIMESTAMP_NOT_FINITE(st->as_of) || st->k < 1))
		r.bad = true;
	if (r.bad)
		bad_cursor("The cursor's contents are malformed.");
}

/* Fill buf with cryptographically strong random bytes (secret generation). */
void
ff_random_fill(uint8 *buf, int len)
{
	if (!pg_strong_random(buf, len))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not generate random bytes")));
}
