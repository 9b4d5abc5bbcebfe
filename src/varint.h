/*
 * varint.h — the one LEB128 varint codec (cursors, latency sketches).
 *
 * Unsigned LEB128: 7 bits per byte, low group first, high bit = more follows; at
 * most 10 bytes for 64 bits.  Zigzag maps signed to unsigned so small negative
 * numbers stay short.  Decoding is bounds-checked and rejects overlong or
 * overflowing input, so it is safe on bytes a client supplied.
 */
#ifndef FF_VARINT_H
#define FF_VARINT_H

#include "postgres.h"

#define FF_VARINT_MAX_BYTES 10

/* Write v at p (room for FF_VARINT_MAX_BYTES); returns the byte after it. */
static inline uint8 *
ff_varint_put(uint8 *p, uint64 v)
{
	while (v >= 0x80)
	{
		*p++ = (uint8) (v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8) v;
	return p;
}

/*
 * Read a varint from [*pp, end); on success advance *pp and return true.  False on
 * truncation, on more than 10 bytes, or when the value overflows 64 bits.
 */
static inline bool
ff_varint_get(const uint8 **pp, const uint8 *end, uint64 *out)
{
	const uint8 *p = *pp;
	uint64		v = 0;

	for (int shift = 0; shift < 64 && p < end; shift += 7)
	{
		uint8		b = *p++;

		if (shift == 63 && (b & 0x7E))
			return false;		/* bits beyond 64 */
		v |= (uint64) (b & 0x7F) << shift;
		if ((b & 0x80) == 0)
		{
			*pp = p;
			*out = v;
			return true;
		}
	}
	return false;
}

/* Zigzag: 0, -1, 1, -2, ... → 0, 1, 2, 3, ... */
static inline uint64
ff_zigzag_encode(int64 v)
{
	return ((uint64) v << 1) ^ (v < 0 ? ~UINT64CONST(0) : UINT64CONST(0));
}

/* Inverse of ff_zigzag_encode. */
static inline int64
ff_zigzag_decode(uint64 u)
{
	return (int64) ((u >> 1) ^ (~(u & 1) + 1));
}

#endif							/* FF_VARINT_H */
