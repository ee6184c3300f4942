/*
 * The message codec (see msg.h).  Each message type has a table of the
 * fields it carries; encode and decode both walk the table, so the wire
 * format of a message is defined in exactly one place.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "xlicen_errors.h"

enum field_kind { K_STR, K_U8, K_U16, K_U32, K_U64, K_POOLS };

/* Where a tag's value lives in struct msg / struct msg_pool. */
struct field_desc {
	uint16_t tag;
	uint8_t kind;
	size_t off;
};

#define MF(tag, kind, member) { tag, kind, offsetof(struct msg, member) }
#define PF(tag, kind, member) { tag, kind, offsetof(struct msg_pool, member) }

static const struct field_desc msg_fields[] = {
	MF(TAG_PRODUCT, K_STR, product),
	MF(TAG_VERSION, K_STR, version),
	MF(TAG_COUNT, K_U32, count),
	MF(TAG_HOST, K_STR, host),
	MF(TAG_DISPLAY, K_STR, display),
	MF(TAG_PID, K_U32, pid),
	MF(TAG_FLAGS, K_U32, flags),
	MF(TAG_LEASE, K_STR, lease),
	MF(TAG_EXPIRES, K_U64, expires),
	MF(TAG_HEARTBEAT, K_U32, heartbeat),
	MF(TAG_IN_USE, K_U32, in_use),
	MF(TAG_TOTAL, K_U32, total),
	MF(TAG_CODE, K_U16, code),
	MF(TAG_REASON, K_STR, reason),
	MF(TAG_TIME, K_U64, time),
	{ TAG_POOL, K_POOLS, 0 },
};

static const struct field_desc pool_fields[] = {
	PF(TAG_PRODUCT, K_STR, product),
	PF(TAG_VERSIONS, K_STR, versions),
	PF(TAG_VENDOR, K_STR, vendor),
	PF(TAG_SERIAL, K_STR, serial),
	PF(TAG_TOTAL, K_U32, total),
	PF(TAG_IN_USE, K_U32, in_use),
	PF(TAG_START, K_U64, start),
	PF(TAG_EXPIRES, K_U64, expires),
	PF(TAG_STATE, K_U8, state),
};

/* Which fields a message type carries, and which of them it requires. */
struct msg_spec {
	uint16_t type;
	const char *name;
	uint32_t allowed;
	uint32_t required;
};

static const struct msg_spec msg_specs[] = {
	{ MSG_CHECKOUT, "CHECKOUT",
	    MSG_F(TAG_PRODUCT) | MSG_F(TAG_VERSION) | MSG_F(TAG_COUNT) |
	    MSG_F(TAG_HOST) | MSG_F(TAG_DISPLAY) | MSG_F(TAG_PID) | MSG_F(TAG_FLAGS),
	    MSG_F(TAG_PRODUCT) | MSG_F(TAG_VERSION) | MSG_F(TAG_COUNT) },
	{ MSG_HEARTBEAT, "HEARTBEAT", MSG_F(TAG_LEASE), MSG_F(TAG_LEASE) },
	{ MSG_RELEASE, "RELEASE", MSG_F(TAG_LEASE), MSG_F(TAG_LEASE) },
	{ MSG_STATUS, "STATUS", MSG_F(TAG_PRODUCT), 0 },
	{ MSG_GRANT, "GRANT",
	    MSG_F(TAG_LEASE) | MSG_F(TAG_EXPIRES) | MSG_F(TAG_HEARTBEAT) |
	    MSG_F(TAG_IN_USE) | MSG_F(TAG_TOTAL),
	    MSG_F(TAG_LEASE) | MSG_F(TAG_EXPIRES) | MSG_F(TAG_HEARTBEAT) },
	{ MSG_DENY, "DENY",
	    MSG_F(TAG_CODE) | MSG_F(TAG_REASON) | MSG_F(TAG_IN_USE) | MSG_F(TAG_TOTAL),
	    MSG_F(TAG_CODE) },
	{ MSG_OK, "OK", MSG_F(TAG_EXPIRES), 0 },
	{ MSG_STATUS_REPLY, "STATUS_REPLY", MSG_F(TAG_TIME) | MSG_F(TAG_POOL),
	    MSG_F(TAG_TIME) },
	{ MSG_ERROR, "ERROR", MSG_F(TAG_CODE) | MSG_F(TAG_REASON), MSG_F(TAG_CODE) },
};

/* Fields every pool must carry. */
#define POOL_REQUIRED (MSG_F(TAG_PRODUCT) | MSG_F(TAG_VERSIONS) | \
	MSG_F(TAG_TOTAL) | MSG_F(TAG_IN_USE) | MSG_F(TAG_EXPIRES) | MSG_F(TAG_STATE))
#define POOL_ALLOWED (POOL_REQUIRED | MSG_F(TAG_VENDOR) | MSG_F(TAG_SERIAL) | \
	MSG_F(TAG_START))

static const struct msg_spec *
msg_spec_find(uint16_t type)
{
	size_t i;

	for (i = 0; i < sizeof(msg_specs) / sizeof(msg_specs[0]); i++)
		if (msg_specs[i].type == type)
			return &msg_specs[i];
	return NULL;
}

const char *
msg_type_name(uint16_t type)
{
	const struct msg_spec *s = msg_spec_find(type);

	return s != NULL ? s->name : "UNKNOWN";
}

void
msg_init(struct msg *m, uint16_t type, uint32_t id)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->id = id;
}

void
msg_clear(struct msg *m)
{
	if (m == NULL)
		return;
	free(m->pools);
	memset(m, 0, sizeof(*m));
}

static const struct field_desc *
field_find(const struct field_desc *tab, size_t n, uint16_t tag)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (tab[i].tag == tag)
			return &tab[i];
	return NULL;
}

int
msg_set_str(struct msg *m, int tag, const char *s)
{
	const struct field_desc *f;
	size_t n;

	f = field_find(msg_fields, sizeof(msg_fields) / sizeof(msg_fields[0]),
	    (uint16_t)tag);
	if (f == NULL || f->kind != K_STR || s == NULL)
		return XLICEN_E_INVALID;
	n = strlen(s);
	if (n > LIMIT_STRING || !buf_utf8_valid((const uint8_t *)s, n))
		return XLICEN_E_STRING;
	memcpy((char *)m + f->off, s, n + 1);
	m->have |= MSG_F(tag);
	return 0;
}

int
msg_add_pool(struct msg *m, const struct msg_pool *p)
{
	struct msg_pool *np;

	if (m->npools >= LIMIT_STATUS_POOLS)
		return XLICEN_E_TLV_COUNT;
	np = realloc(m->pools, (m->npools + 1) * sizeof(*np));
	if (np == NULL)
		return XLICEN_E_NOMEM;
	m->pools = np;
	m->pools[m->npools++] = *p;
	m->have |= MSG_F(TAG_POOL);
	return 0;
}

/* Append one TLV whose value is the field at base+f->off. */
static int
tlv_put(struct buf *out, const struct field_desc *f, const void *base)
{
	const char *p = (const char *)base + f->off;
	size_t start, n;
	uint64_t v64;
	uint32_t v32;
	uint16_t v16;
	int rc;

	if ((rc = buf_put_u16(out, f->tag)) != 0)
		return rc;
	start = out->len;
	if ((rc = buf_put_u16(out, 0)) != 0)
		return rc;
	switch (f->kind) {
	case K_STR:
		n = strnlen(p, LIMIT_STRING + 1);
		if (n > LIMIT_STRING)
			return XLICEN_E_STRING;
		rc = buf_put_bytes(out, p, n);
		break;
	case K_U8:
		rc = buf_put_u8(out, *(const uint8_t *)p);
		break;
	case K_U16:
		memcpy(&v16, p, sizeof(v16));
		rc = buf_put_u16(out, v16);
		break;
	case K_U32:
		memcpy(&v32, p, sizeof(v32));
		rc = buf_put_u32(out, v32);
		break;
	case K_U64:
		memcpy(&v64, p, sizeof(v64));
		rc = buf_put_u64(out, v64);
		break;
	default:
		return XLICEN_E_INTERNAL;
	}
	if (rc != 0)
		return rc;
	return buf_poke_u16(out, start, (uint16_t)(out->len - start - 2));
}

static int
pool_encode(struct buf *out, const struct msg_pool *pool)
{
	size_t i, start;
	int rc;

	if ((pool->have & POOL_REQUIRED) != POOL_REQUIRED)
		return XLICEN_E_INVALID;
	if ((rc = buf_put_u16(out, TAG_POOL)) != 0)
		return rc;
	start = out->len;
	if ((rc = buf_put_u16(out, 0)) != 0)
		return rc;
	for (i = 0; i < sizeof(pool_fields) / sizeof(pool_fields[0]); i++) {
		if (!(pool->have & MSG_F(pool_fields[i].tag) & POOL_ALLOWED))
			continue;
		if ((rc = tlv_put(out, &pool_fields[i], pool)) != 0)
			return rc;
	}
	if (out->len - start - 2 > UINT16_MAX)
		return XLICEN_E_INVALID;
	return buf_poke_u16(out, start, (uint16_t)(out->len - start - 2));
}

int
msg_encode(const struct msg *m, struct buf *out)
{
	const struct msg_spec *spec;
	size_t i, j, start = out->len;
	int rc = 0;

	if ((spec = msg_spec_find(m->type)) == NULL)
		return XLICEN_E_MSG_TYPE;
	if ((m->have & spec->required) != spec->required)
		return XLICEN_E_INVALID;
	if ((rc = buf_put_u16(out, m->type)) != 0 ||
	    (rc = buf_put_u32(out, m->id)) != 0)
		goto out;
	for (i = 0; i < sizeof(msg_fields) / sizeof(msg_fields[0]); i++) {
		const struct field_desc *f = &msg_fields[i];

		if (!(m->have & spec->allowed & MSG_F(f->tag)))
			continue;
		if (f->kind == K_POOLS) {
			for (j = 0; j < m->npools; j++)
				if ((rc = pool_encode(out, &m->pools[j])) != 0)
					goto out;
		} else if ((rc = tlv_put(out, f, m)) != 0) {
			goto out;
		}
	}
out:
	if (rc != 0)
		out->len = start;
	return rc;
}

/* Store one TLV value into the field at base+f->off. */
static int
tlv_get(const struct field_desc *f, const uint8_t *v, uint16_t len, void *base)
{
	char *p = (char *)base + f->off;
	struct buf_reader r;
	uint64_t v64;
	uint32_t v32;
	uint16_t v16;
	uint8_t v8;

	buf_reader_init(&r, v, len);
	switch (f->kind) {
	case K_STR:
		if (len > LIMIT_STRING || !buf_utf8_valid(v, len))
			return XLICEN_E_STRING;
		memcpy(p, v, len);
		p[len] = '\0';
		return 0;
	case K_U8:
		if (len != 1)
			return XLICEN_E_TLV_LENGTH;
		buf_get_u8(&r, &v8);
		*(uint8_t *)p = v8;
		return 0;
	case K_U16:
		if (len != 2)
			return XLICEN_E_TLV_LENGTH;
		buf_get_u16(&r, &v16);
		memcpy(p, &v16, sizeof(v16));
		return 0;
	case K_U32:
		if (len != 4)
			return XLICEN_E_TLV_LENGTH;
		buf_get_u32(&r, &v32);
		memcpy(p, &v32, sizeof(v32));
		return 0;
	case K_U64:
		if (len != 8)
			return XLICEN_E_TLV_LENGTH;
		buf_get_u64(&r, &v64);
		memcpy(p, &v64, sizeof(v64));
		return 0;
	}
	return XLICEN_E_INTERNAL;
}

/* Read the next TLV header and value. */
static int
tlv_next(struct buf_reader *r, uint16_t *tag, uint16_t *len,
    const uint8_t **val)
{
	int rc;

	if ((rc = buf_get_u16(r, tag)) != 0 ||
	    (rc = buf_get_u16(r, len)) != 0 ||
	    (rc = buf_get_bytes(r, *len, val)) != 0)
		return rc;
	return 0;
}

static int
pool_decode(const uint8_t *p, uint16_t n, struct msg_pool *pool)
{
	const struct field_desc *f;
	struct buf_reader r;
	const uint8_t *val;
	uint16_t tag, len, num;
	unsigned count = 0;
	int rc;

	memset(pool, 0, sizeof(*pool));
	buf_reader_init(&r, p, n);
	while (buf_reader_avail(&r) > 0) {
		if ((rc = tlv_next(&r, &tag, &len, &val)) != 0)
			return rc;
		if (++count > LIMIT_TLV_COUNT)
			return XLICEN_E_TLV_COUNT;
		num = tag & ~MSG_TAG_CRITICAL;
		f = field_find(pool_fields,
		    sizeof(pool_fields) / sizeof(pool_fields[0]), num);
		if (f == NULL) {
			if (tag & MSG_TAG_CRITICAL)
				return XLICEN_E_TLV_CRITICAL;
			continue;
		}
		if (pool->have & MSG_F(num))
			return XLICEN_E_TLV_DUP;
		if ((rc = tlv_get(f, val, len, pool)) != 0)
			return rc;
		pool->have |= MSG_F(num);
	}
	if ((pool->have & POOL_REQUIRED) != POOL_REQUIRED)
		return XLICEN_E_TLV_MISSING;
	return 0;
}

int
msg_decode(const uint8_t *p, size_t n, struct msg *m)
{
	const struct msg_spec *spec;
	const struct field_desc *f;
	struct buf_reader r;
	struct msg_pool pool;
	const uint8_t *val;
	uint16_t tag, len, num;
	unsigned count = 0;
	int rc;

	memset(m, 0, sizeof(*m));
	buf_reader_init(&r, p, n);
	if ((rc = buf_get_u16(&r, &m->type)) != 0 ||
	    (rc = buf_get_u32(&r, &m->id)) != 0)
		goto out;
	if ((spec = msg_spec_find(m->type)) == NULL) {
		rc = XLICEN_E_MSG_TYPE;
		goto out;
	}
	while (buf_reader_avail(&r) > 0) {
		if ((rc = tlv_next(&r, &tag, &len, &val)) != 0)
			goto out;
		num = tag & ~MSG_TAG_CRITICAL;
		f = NULL;
		if (num < 32 && (spec->allowed & MSG_F(num)))
			f = field_find(msg_fields,
			    sizeof(msg_fields) / sizeof(msg_fields[0]), num);
		/* Pools are bounded by LIMIT_STATUS_POOLS, and their inner
		 * TLVs per pool; every other TLV counts against the limit. */
		if ((f == NULL || f->kind != K_POOLS) &&
		    ++count > LIMIT_TLV_COUNT) {
			rc = XLICEN_E_TLV_COUNT;
			goto out;
		}
		if (f == NULL) {
			if (tag & MSG_TAG_CRITICAL) {
				rc = XLICEN_E_TLV_CRITICAL;
				goto out;
			}
			continue;
		}
		if (f->kind == K_POOLS) {
			if ((rc = pool_decode(val, len, &pool)) != 0 ||
			    (rc = msg_add_pool(m, &pool)) != 0)
				goto out;
			continue;
		}
		if (m->have & MSG_F(num)) {
			rc = XLICEN_E_TLV_DUP;
			goto out;
		}
		if ((rc = tlv_get(f, val, len, m)) != 0)
			goto out;
		m->have |= MSG_F(num);
	}
	if ((m->have & spec->required) != spec->required)
		rc = XLICEN_E_TLV_MISSING;
out:
	if (rc != 0)
		msg_clear(m);
	return rc;
}
