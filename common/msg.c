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

enum field_kind { K_STR, K_U8, K_U16, K_U32, K_U64, K_LIST, K_BLOB };

/* Where a tag's value lives in struct msg (or a list element). */
struct field_desc {
	uint16_t tag;
	uint8_t kind;
	size_t off;		/* K_LIST: index into msg_lists */
};

#define MF(tag, kind, member) { tag, kind, offsetof(struct msg, member) }
#define PF(tag, kind, member) { tag, kind, offsetof(struct msg_pool, member) }
#define HF(tag, kind, member) { tag, kind, offsetof(struct msg_holder, member) }
#define RF(tag, kind, member) { tag, kind, offsetof(struct msg_row, member) }
#define EF(tag, kind, member) { tag, kind, offsetof(struct msg_event, member) }
#define NFIELDS(t)	(sizeof(t) / sizeof((t)[0]))

enum { L_POOLS, L_HOLDERS, L_ROWS, L_LISTEN, L_EVENTS };

/* Top-level fields, in the order they are written.  New tags go at the
 * end, so that the encoding of older messages never changes. */
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
	{ TAG_POOL, K_LIST, L_POOLS },
	MF(TAG_REQUEST, K_U32, request),
	MF(TAG_POSITION, K_U32, position),
	MF(TAG_QUEUE_ID, K_STR, queue_id),
	MF(TAG_WAIT, K_U32, wait),
	MF(TAG_FROM, K_U64, from),
	MF(TAG_TO, K_U64, to),
	{ TAG_HOLDER, K_LIST, L_HOLDERS },
	{ TAG_ROW, K_LIST, L_ROWS },
	MF(TAG_MORE, K_U8, more),
	MF(TAG_EVENTS, K_U64, events),
	MF(TAG_BAD_EVENT, K_U64, bad_event),
	MF(TAG_HASH, K_STR, hash),
	MF(TAG_DETAIL, K_U32, detail),
	MF(TAG_SINCE, K_U64, since),
	MF(TAG_LICDIR, K_STR, licdir),
	MF(TAG_LOADED, K_U32, loaded),
	MF(TAG_REFUSED, K_U32, refused),
	{ TAG_LISTEN, K_LIST, L_LISTEN },
	MF(TAG_TOKEN, K_BLOB, token),
	MF(TAG_AFTER, K_U64, after),
	{ TAG_EVENT, K_LIST, L_EVENTS },
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
	PF(TAG_QUEUED, K_U32, queued),
	PF(TAG_POOL_FLAGS, K_U32, pool_flags),
	PF(TAG_HOSTID, K_STR, hostid),
	PF(TAG_DUP_GROUP, K_STR, dup_group),
	PF(TAG_LINGER, K_U32, linger),
	PF(TAG_TTL, K_U32, ttl),
	PF(TAG_HEARTBEAT, K_U32, heartbeat),
};

static const struct field_desc holder_fields[] = {
	HF(TAG_PRODUCT, K_STR, product),
	HF(TAG_VERSION, K_STR, version),
	HF(TAG_PRINCIPAL, K_STR, principal),
	HF(TAG_HOST, K_STR, host),
	HF(TAG_DISPLAY, K_STR, display),
	HF(TAG_PID, K_U32, pid),
	HF(TAG_LEASE, K_STR, lease),
	HF(TAG_QUEUE_ID, K_STR, queue_id),
	HF(TAG_COUNT, K_U32, count),
	HF(TAG_SINCE, K_U64, since),
	HF(TAG_LAST_HB, K_U64, last_hb),
	HF(TAG_EXPIRES, K_U64, expires),
	HF(TAG_HEARTBEAT, K_U32, heartbeat),
	HF(TAG_STATE, K_U8, state),
	HF(TAG_POSITION, K_U32, position),
	HF(TAG_CONNECTED, K_U8, connected),
	HF(TAG_POOL_FLAGS, K_U32, pool_flags),
};

static const struct field_desc row_fields[] = {
	RF(TAG_PRODUCT, K_STR, product),
	RF(TAG_PRINCIPAL, K_STR, principal),
	RF(TAG_GRANTS, K_U32, grants),
	RF(TAG_DENIALS, K_U32, denials),
	RF(TAG_PEAK, K_U32, peak),
	RF(TAG_AVG_MILLI, K_U32, avg_milli),
	RF(TAG_SECONDS, K_U64, seconds),
};

static const struct field_desc event_fields[] = {
	EF(TAG_EVENT_ID, K_U64, event_id),
	EF(TAG_TIME, K_U64, time),
	EF(TAG_KIND, K_STR, kind),
	EF(TAG_PRINCIPAL, K_STR, principal),
	EF(TAG_HOST, K_STR, host),
	EF(TAG_DISPLAY, K_STR, display),
	EF(TAG_PRODUCT, K_STR, product),
	EF(TAG_VERSION, K_STR, version),
	EF(TAG_LEASE, K_STR, lease),
	EF(TAG_COUNT, K_U32, count),
	EF(TAG_CODE, K_U16, code),
	EF(TAG_NOTE, K_STR, note),
};

static const struct field_desc listen_fields[] = {
	{ TAG_ADDRESS, K_STR, offsetof(struct msg_listen, address) },
};

/*
 * A repeatable field whose value is itself a TLV sequence (a pool, a
 * holder, a report row).  Its elements are decoded against their own
 * field table, have their own limit of LIMIT_TLV_COUNT TLVs, and do not
 * count against the message's limit; the list has a limit of its own.
 */
struct list_desc {
	const struct field_desc *fields;
	size_t nfields;
	uint64_t required;
	size_t elem_size;
	size_t have_off;	/* uint64_t have in the element */
	size_t arr_off;		/* element array pointer in struct msg */
	size_t n_off;		/* size_t count in struct msg */
	size_t limit;
};

#define POOL_REQUIRED (MSG_F(TAG_PRODUCT) | MSG_F(TAG_VERSIONS) | \
	MSG_F(TAG_TOTAL) | MSG_F(TAG_IN_USE) | MSG_F(TAG_EXPIRES) | MSG_F(TAG_STATE))
#define HOLDER_REQUIRED (MSG_F(TAG_PRODUCT) | MSG_F(TAG_PRINCIPAL) | \
	MSG_F(TAG_STATE))
#define ROW_REQUIRED (MSG_F(TAG_PRODUCT))
#define LISTEN_REQUIRED (MSG_F(TAG_ADDRESS))
#define EVENT_REQUIRED (MSG_F(TAG_EVENT_ID) | MSG_F(TAG_TIME) | MSG_F(TAG_KIND))

static const struct list_desc msg_lists[] = {
	[L_POOLS] = { pool_fields, NFIELDS(pool_fields), POOL_REQUIRED,
	    sizeof(struct msg_pool), offsetof(struct msg_pool, have),
	    offsetof(struct msg, pools), offsetof(struct msg, npools),
	    LIMIT_STATUS_POOLS },
	[L_HOLDERS] = { holder_fields, NFIELDS(holder_fields), HOLDER_REQUIRED,
	    sizeof(struct msg_holder), offsetof(struct msg_holder, have),
	    offsetof(struct msg, holders), offsetof(struct msg, nholders),
	    LIMIT_LIST_ITEMS },
	[L_ROWS] = { row_fields, NFIELDS(row_fields), ROW_REQUIRED,
	    sizeof(struct msg_row), offsetof(struct msg_row, have),
	    offsetof(struct msg, rows), offsetof(struct msg, nrows),
	    LIMIT_LIST_ITEMS },
	[L_LISTEN] = { listen_fields, NFIELDS(listen_fields), LISTEN_REQUIRED,
	    sizeof(struct msg_listen), offsetof(struct msg_listen, have),
	    offsetof(struct msg, listens), offsetof(struct msg, nlistens),
	    LIMIT_INFO_LISTEN },
	[L_EVENTS] = { event_fields, NFIELDS(event_fields), EVENT_REQUIRED,
	    sizeof(struct msg_event), offsetof(struct msg_event, have),
	    offsetof(struct msg, evs), offsetof(struct msg, nevs),
	    LIMIT_LIST_ITEMS },
};

/* Which fields a message type carries, and which of them it requires. */
struct msg_spec {
	uint16_t type;
	const char *name;
	uint64_t allowed;
	uint64_t required;
};

#define F_LATE_ANSWER (MSG_F(TAG_REQUEST) | MSG_F(TAG_QUEUE_ID))

static const struct msg_spec msg_specs[] = {
	{ MSG_CHECKOUT, "CHECKOUT",
	    MSG_F(TAG_PRODUCT) | MSG_F(TAG_VERSION) | MSG_F(TAG_COUNT) |
	    MSG_F(TAG_HOST) | MSG_F(TAG_DISPLAY) | MSG_F(TAG_PID) |
	    MSG_F(TAG_FLAGS) | MSG_F(TAG_WAIT) | MSG_F(TAG_QUEUE_ID),
	    MSG_F(TAG_PRODUCT) | MSG_F(TAG_VERSION) | MSG_F(TAG_COUNT) },
	{ MSG_HEARTBEAT, "HEARTBEAT", MSG_F(TAG_LEASE), MSG_F(TAG_LEASE) },
	{ MSG_RELEASE, "RELEASE", MSG_F(TAG_LEASE), MSG_F(TAG_LEASE) },
	{ MSG_STATUS, "STATUS", MSG_F(TAG_PRODUCT), 0 },
	{ MSG_RECLAIM, "RECLAIM",
	    MSG_F(TAG_LEASE) | MSG_F(TAG_HOST) | MSG_F(TAG_DISPLAY) |
	    MSG_F(TAG_PID), MSG_F(TAG_LEASE) },
	{ MSG_LIST_MINE, "LIST_MINE", MSG_F(TAG_PRODUCT), 0 },
	{ MSG_HOLDERS, "HOLDERS", MSG_F(TAG_PRODUCT), 0 },
	{ MSG_REMOVE, "REMOVE", MSG_F(TAG_LEASE), MSG_F(TAG_LEASE) },
	{ MSG_REREAD, "REREAD", 0, 0 },
	{ MSG_SHUTDOWN, "SHUTDOWN", 0, 0 },
	{ MSG_REPORT, "REPORT",
	    MSG_F(TAG_PRODUCT) | MSG_F(TAG_FROM) | MSG_F(TAG_TO) |
	    MSG_F(TAG_FLAGS) | MSG_F(TAG_AFTER), 0 },
	{ MSG_GRANT, "GRANT",
	    MSG_F(TAG_LEASE) | MSG_F(TAG_EXPIRES) | MSG_F(TAG_HEARTBEAT) |
	    MSG_F(TAG_IN_USE) | MSG_F(TAG_TOTAL) | F_LATE_ANSWER,
	    MSG_F(TAG_LEASE) | MSG_F(TAG_EXPIRES) | MSG_F(TAG_HEARTBEAT) },
	{ MSG_DENY, "DENY",
	    MSG_F(TAG_CODE) | MSG_F(TAG_REASON) | MSG_F(TAG_IN_USE) |
	    MSG_F(TAG_TOTAL) | F_LATE_ANSWER | MSG_F(TAG_DETAIL),
	    MSG_F(TAG_CODE) },
	{ MSG_OK, "OK", MSG_F(TAG_EXPIRES) | MSG_F(TAG_REASON) |
	    MSG_F(TAG_FLAGS), 0 },
	{ MSG_STATUS_REPLY, "STATUS_REPLY",
	    MSG_F(TAG_TIME) | MSG_F(TAG_POOL) | MSG_F(TAG_MORE),
	    MSG_F(TAG_TIME) },
	{ MSG_ERROR, "ERROR", MSG_F(TAG_CODE) | MSG_F(TAG_REASON), MSG_F(TAG_CODE) },
	{ MSG_QUEUED, "QUEUED",
	    MSG_F(TAG_POSITION) | MSG_F(TAG_QUEUE_ID) | MSG_F(TAG_EXPIRES) |
	    MSG_F(TAG_IN_USE) | MSG_F(TAG_TOTAL),
	    MSG_F(TAG_POSITION) | MSG_F(TAG_QUEUE_ID) },
	{ MSG_HOLDERS_REPLY, "HOLDERS_REPLY",
	    MSG_F(TAG_TIME) | MSG_F(TAG_HOLDER) | MSG_F(TAG_MORE),
	    MSG_F(TAG_TIME) },
	{ MSG_REPORT_REPLY, "REPORT_REPLY",
	    MSG_F(TAG_TIME) | MSG_F(TAG_FROM) | MSG_F(TAG_TO) |
	    MSG_F(TAG_ROW) | MSG_F(TAG_MORE) | MSG_F(TAG_EVENTS) |
	    MSG_F(TAG_BAD_EVENT) | MSG_F(TAG_HASH) | MSG_F(TAG_REASON) |
	    MSG_F(TAG_EVENT),
	    MSG_F(TAG_TIME) | MSG_F(TAG_FROM) | MSG_F(TAG_TO) },
	{ MSG_INFO, "INFO", 0, 0 },
	{ MSG_INFO_REPLY, "INFO_REPLY",
	    MSG_F(TAG_TIME) | MSG_F(TAG_VERSION) | MSG_F(TAG_SINCE) |
	    MSG_F(TAG_LICDIR) | MSG_F(TAG_LOADED) | MSG_F(TAG_REFUSED) |
	    MSG_F(TAG_LISTEN),
	    MSG_F(TAG_TIME) | MSG_F(TAG_VERSION) | MSG_F(TAG_SINCE) |
	    MSG_F(TAG_LOADED) | MSG_F(TAG_REFUSED) },
	{ MSG_BORROW, "BORROW",
	    MSG_F(TAG_PRODUCT) | MSG_F(TAG_VERSION) | MSG_F(TAG_TO) |
	    MSG_F(TAG_HOST),
	    MSG_F(TAG_PRODUCT) | MSG_F(TAG_VERSION) | MSG_F(TAG_TO) },
	{ MSG_BORROWED, "BORROWED",
	    MSG_F(TAG_LEASE) | MSG_F(TAG_EXPIRES) | MSG_F(TAG_IN_USE) |
	    MSG_F(TAG_TOTAL) | MSG_F(TAG_TOKEN),
	    MSG_F(TAG_LEASE) | MSG_F(TAG_EXPIRES) | MSG_F(TAG_TOKEN) },
	{ MSG_REVOKE, "REVOKE",
	    MSG_F(TAG_LEASE) | MSG_F(TAG_CODE) | MSG_F(TAG_REASON),
	    MSG_F(TAG_LEASE) | MSG_F(TAG_CODE) },
};

static const struct msg_spec *
msg_spec_find(uint16_t type)
{
	size_t i;

	for (i = 0; i < NFIELDS(msg_specs); i++)
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

int
msg_spec_fields(uint16_t type, uint64_t *allowed, uint64_t *required)
{
	const struct msg_spec *s = msg_spec_find(type);

	if (s == NULL)
		return XLICEN_E_MSG_TYPE;
	*allowed = s->allowed;
	*required = s->required;
	return 0;
}

int
msg_list_fields(uint16_t tag, uint64_t *allowed, uint64_t *required)
{
	const struct list_desc *ld;
	size_t i;

	switch (tag) {
	case TAG_POOL:
		ld = &msg_lists[L_POOLS];
		break;
	case TAG_HOLDER:
		ld = &msg_lists[L_HOLDERS];
		break;
	case TAG_ROW:
		ld = &msg_lists[L_ROWS];
		break;
	case TAG_LISTEN:
		ld = &msg_lists[L_LISTEN];
		break;
	case TAG_EVENT:
		ld = &msg_lists[L_EVENTS];
		break;
	default:
		return XLICEN_E_INVALID;
	}
	*allowed = 0;
	for (i = 0; i < ld->nfields; i++)
		*allowed |= MSG_F(ld->fields[i].tag);
	*required = ld->required;
	return 0;
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
	free(m->holders);
	free(m->rows);
	free(m->listens);
	free(m->evs);
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

/* Tag names as PROTOCOL.md section 7.2 spells them, for traces and the
 * Wireshark dissector (contrib/wireshark). */
static const char *const msg_tag_names[TAG__MAX + 1] = {
	[TAG_PRODUCT] = "PRODUCT",
	[TAG_VERSION] = "VERSION",
	[TAG_COUNT] = "COUNT",
	[TAG_HOST] = "HOST",
	[TAG_DISPLAY] = "DISPLAY",
	[TAG_PID] = "PID",
	[TAG_FLAGS] = "FLAGS",
	[TAG_LEASE] = "LEASE",
	[TAG_EXPIRES] = "EXPIRES",
	[TAG_HEARTBEAT] = "HEARTBEAT",
	[TAG_IN_USE] = "IN_USE",
	[TAG_TOTAL] = "TOTAL",
	[TAG_CODE] = "CODE",
	[TAG_REASON] = "REASON",
	[TAG_POOL] = "POOL",
	[TAG_VERSIONS] = "VERSIONS",
	[TAG_START] = "START",
	[TAG_STATE] = "STATE",
	[TAG_TIME] = "TIME",
	[TAG_VENDOR] = "VENDOR",
	[TAG_SERIAL] = "SERIAL",
	[TAG_REQUEST] = "REQUEST",
	[TAG_POSITION] = "POSITION",
	[TAG_QUEUE_ID] = "QUEUE_ID",
	[TAG_WAIT] = "WAIT",
	[TAG_QUEUED] = "QUEUED",
	[TAG_POOL_FLAGS] = "POOL_FLAGS",
	[TAG_HOSTID] = "HOSTID",
	[TAG_DUP_GROUP] = "DUP_GROUP",
	[TAG_LINGER] = "LINGER",
	[TAG_HOLDER] = "HOLDER",
	[TAG_PRINCIPAL] = "PRINCIPAL",
	[TAG_SINCE] = "SINCE",
	[TAG_LAST_HB] = "LAST_HB",
	[TAG_CONNECTED] = "CONNECTED",
	[TAG_FROM] = "FROM",
	[TAG_TO] = "TO",
	[TAG_ROW] = "ROW",
	[TAG_GRANTS] = "GRANTS",
	[TAG_DENIALS] = "DENIALS",
	[TAG_PEAK] = "PEAK",
	[TAG_AVG_MILLI] = "AVG_MILLI",
	[TAG_SECONDS] = "SECONDS",
	[TAG_MORE] = "MORE",
	[TAG_EVENTS] = "EVENTS",
	[TAG_BAD_EVENT] = "BAD_EVENT",
	[TAG_HASH] = "HASH",
	[TAG_TTL] = "TTL",
	[TAG_TOKEN] = "TOKEN",
	[TAG_DETAIL] = "DETAIL",
	[TAG_LICDIR] = "LICDIR",
	[TAG_LOADED] = "LOADED",
	[TAG_REFUSED] = "REFUSED",
	[TAG_LISTEN] = "LISTEN",
	[TAG_ADDRESS] = "ADDRESS",
	[TAG_EVENT] = "EVENT",
	[TAG_EVENT_ID] = "EVENT_ID",
	[TAG_KIND] = "KIND",
	[TAG_NOTE] = "NOTE",
	[TAG_AFTER] = "AFTER",
};

/* A tag's value kind, from the first field table that carries it (a tag
 * has one kind wherever it appears). */
static int
msg_kind_of(uint16_t num)
{
	static const struct {
		const struct field_desc *tab;
		size_t n;
	} tabs[] = {
		{ msg_fields, NFIELDS(msg_fields) },
		{ pool_fields, NFIELDS(pool_fields) },
		{ holder_fields, NFIELDS(holder_fields) },
		{ row_fields, NFIELDS(row_fields) },
		{ listen_fields, NFIELDS(listen_fields) },
		{ event_fields, NFIELDS(event_fields) },
	};
	const struct field_desc *f;
	size_t i;

	for (i = 0; i < NFIELDS(tabs); i++)
		if ((f = field_find(tabs[i].tab, tabs[i].n, num)) != NULL)
			return f->kind == K_LIST ? MSG_KIND_LIST :
			    f->kind == K_STR ? MSG_KIND_STR :
			    f->kind == K_U8 ? MSG_KIND_U8 :
			    f->kind == K_U16 ? MSG_KIND_U16 :
			    f->kind == K_U32 ? MSG_KIND_U32 :
			    f->kind == K_BLOB ? MSG_KIND_BYTES : MSG_KIND_U64;
	return MSG_KIND_NONE;
}

const char *
msg_tag_info(uint16_t num, int *kind)
{
	*kind = MSG_KIND_NONE;
	if (num > TAG__MAX || msg_tag_names[num] == NULL)
		return NULL;
	*kind = msg_kind_of(num);
	return msg_tag_names[num];
}

int
msg_type_info(size_t i, uint16_t *type, const char **name)
{
	if (i >= NFIELDS(msg_specs))
		return 0;
	*type = msg_specs[i].type;
	*name = msg_specs[i].name;
	return 1;
}

/* Copy a checked string into the field at base+f->off and mark it. */
static int
set_str(const struct field_desc *tab, size_t n, void *base, uint64_t *have,
    int tag, const char *s)
{
	const struct field_desc *f;
	size_t len;

	if (tag < 0 || tag > TAG__MAX)
		return XLICEN_E_INVALID;
	f = field_find(tab, n, (uint16_t)tag);
	if (f == NULL || f->kind != K_STR || s == NULL)
		return XLICEN_E_INVALID;
	len = strlen(s);
	if (len > LIMIT_STRING || !buf_utf8_valid((const uint8_t *)s, len))
		return XLICEN_E_STRING;
	memcpy((char *)base + f->off, s, len + 1);
	*have |= MSG_F(tag);
	return 0;
}

int
msg_set_str(struct msg *m, int tag, const char *s)
{
	return set_str(msg_fields, NFIELDS(msg_fields), m, &m->have, tag, s);
}

int
msg_holder_set_str(struct msg_holder *h, int tag, const char *s)
{
	return set_str(holder_fields, NFIELDS(holder_fields), h, &h->have,
	    tag, s);
}

int
msg_row_set_str(struct msg_row *r, int tag, const char *s)
{
	return set_str(row_fields, NFIELDS(row_fields), r, &r->have, tag, s);
}

int
msg_event_set_str(struct msg_event *e, int tag, const char *s)
{
	return set_str(event_fields, NFIELDS(event_fields), e, &e->have, tag,
	    s);
}

/* Append a copy of elem to the list li of m. */
static int
list_add(struct msg *m, int li, const void *elem, int tag)
{
	const struct list_desc *ld = &msg_lists[li];
	void **arr = (void **)((char *)m + ld->arr_off);
	size_t *n = (size_t *)((char *)m + ld->n_off);
	char *na;

	if (*n >= ld->limit)
		return XLICEN_E_TLV_COUNT;
	na = realloc(*arr, (*n + 1) * ld->elem_size);
	if (na == NULL)
		return XLICEN_E_NOMEM;
	memcpy(na + *n * ld->elem_size, elem, ld->elem_size);
	*arr = na;
	(*n)++;
	m->have |= MSG_F(tag);
	return 0;
}

int
msg_add_pool(struct msg *m, const struct msg_pool *p)
{
	return list_add(m, L_POOLS, p, TAG_POOL);
}

int
msg_add_holder(struct msg *m, const struct msg_holder *h)
{
	return list_add(m, L_HOLDERS, h, TAG_HOLDER);
}

int
msg_add_row(struct msg *m, const struct msg_row *r)
{
	return list_add(m, L_ROWS, r, TAG_ROW);
}

int
msg_add_event(struct msg *m, const struct msg_event *e)
{
	return list_add(m, L_EVENTS, e, TAG_EVENT);
}

int
msg_add_listen(struct msg *m, const char *address)
{
	struct msg_listen l;
	int rc;

	memset(&l, 0, sizeof(l));
	if ((rc = set_str(listen_fields, NFIELDS(listen_fields), &l, &l.have,
	    TAG_ADDRESS, address)) != 0)
		return rc;
	return list_add(m, L_LISTEN, &l, TAG_LISTEN);
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
	case K_BLOB:
		memcpy(&v16, p, sizeof(v16));
		if (v16 > LIMIT_BORROW_TOKEN)
			return XLICEN_E_TLV_LENGTH;
		rc = buf_put_bytes(out, p + offsetof(struct msg_blob, data),
		    v16);
		break;
	default:
		return XLICEN_E_INTERNAL;
	}
	if (rc != 0)
		return rc;
	return buf_poke_u16(out, start, (uint16_t)(out->len - start - 2));
}

/* One element of a list as a TLV whose value is the element's TLVs. */
static int
elem_encode(struct buf *out, uint16_t tag, const struct list_desc *ld,
    const void *elem)
{
	uint64_t have;
	size_t i, start;
	int rc;

	memcpy(&have, (const char *)elem + ld->have_off, sizeof(have));
	if ((have & ld->required) != ld->required)
		return XLICEN_E_INVALID;
	if ((rc = buf_put_u16(out, tag)) != 0)
		return rc;
	start = out->len;
	if ((rc = buf_put_u16(out, 0)) != 0)
		return rc;
	for (i = 0; i < ld->nfields; i++) {
		if (!(have & MSG_F(ld->fields[i].tag)))
			continue;
		if ((rc = tlv_put(out, &ld->fields[i], elem)) != 0)
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
	for (i = 0; i < NFIELDS(msg_fields); i++) {
		const struct field_desc *f = &msg_fields[i];

		if (!(m->have & spec->allowed & MSG_F(f->tag)))
			continue;
		if (f->kind == K_LIST) {
			const struct list_desc *ld = &msg_lists[f->off];
			const char *arr = *(char *const *)((const char *)m +
			    ld->arr_off);
			size_t n = *(const size_t *)((const char *)m +
			    ld->n_off);

			for (j = 0; j < n; j++)
				if ((rc = elem_encode(out, f->tag, ld,
				    arr + j * ld->elem_size)) != 0)
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
	case K_BLOB:
		if (len > LIMIT_BORROW_TOKEN)
			return XLICEN_E_TLV_LENGTH;
		memcpy(p + offsetof(struct msg_blob, data), v, len);
		memcpy(p, &len, sizeof(len));
		return 0;
	}
	return XLICEN_E_INTERNAL;
}

/* Read the next TLV header (XLICEN_E_TRUNCATED if incomplete).  The
 * value is read apart (buf_get_bytes), after the TLV has been counted:
 * PROTOCOL.md section 7, step 2. */
static int
tlv_head(struct buf_reader *r, uint16_t *tag, uint16_t *len)
{
	int rc;

	if ((rc = buf_get_u16(r, tag)) != 0 ||
	    (rc = buf_get_u16(r, len)) != 0)
		return rc;
	return 0;
}

/* Decode one list element (the value of a POOL, HOLDER or ROW TLV) into
 * elem, which must be ld->elem_size bytes. */
static int
elem_decode(const uint8_t *p, uint16_t n, const struct list_desc *ld,
    void *elem)
{
	const struct field_desc *f;
	struct buf_reader r;
	const uint8_t *val;
	uint64_t have = 0;
	uint16_t tag, len, num;
	unsigned count = 0;
	int rc;

	memset(elem, 0, ld->elem_size);
	buf_reader_init(&r, p, n);
	while (buf_reader_avail(&r) > 0) {
		if ((rc = tlv_head(&r, &tag, &len)) != 0)
			return rc;
		if (++count > LIMIT_TLV_COUNT)
			return XLICEN_E_TLV_COUNT;
		if ((rc = buf_get_bytes(&r, len, &val)) != 0)
			return rc;
		num = tag & ~MSG_TAG_CRITICAL;
		f = field_find(ld->fields, ld->nfields, num);
		if (f == NULL) {
			if (tag & MSG_TAG_CRITICAL)
				return XLICEN_E_TLV_CRITICAL;
			continue;
		}
		if (have & MSG_F(num))
			return XLICEN_E_TLV_DUP;
		if ((rc = tlv_get(f, val, len, elem)) != 0)
			return rc;
		have |= MSG_F(num);
	}
	memcpy((char *)elem + ld->have_off, &have, sizeof(have));
	if ((have & ld->required) != ld->required)
		return XLICEN_E_TLV_MISSING;
	return 0;
}

int
msg_decode(const uint8_t *p, size_t n, struct msg *m)
{
	const struct msg_spec *spec;
	const struct field_desc *f;
	struct buf_reader r;
	union {
		struct msg_pool pool;
		struct msg_holder holder;
		struct msg_row row;
		struct msg_listen listen;
		struct msg_event event;
	} elem;
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
		if ((rc = tlv_head(&r, &tag, &len)) != 0)
			goto out;
		num = tag & ~MSG_TAG_CRITICAL;
		f = NULL;
		if (num <= TAG__MAX && (spec->allowed & MSG_F(num)))
			f = field_find(msg_fields, NFIELDS(msg_fields), num);
		/* List elements are bounded by their list's limit, and their
		 * inner TLVs per element; every other TLV counts against the
		 * message's limit. */
		if ((f == NULL || f->kind != K_LIST) &&
		    ++count > LIMIT_TLV_COUNT) {
			rc = XLICEN_E_TLV_COUNT;
			goto out;
		}
		if ((rc = buf_get_bytes(&r, len, &val)) != 0)
			goto out;
		if (f == NULL) {
			if (tag & MSG_TAG_CRITICAL) {
				rc = XLICEN_E_TLV_CRITICAL;
				goto out;
			}
			continue;
		}
		if (f->kind == K_LIST) {
			if ((rc = elem_decode(val, len, &msg_lists[f->off],
			    &elem)) != 0 ||
			    (rc = list_add(m, (int)f->off, &elem, num)) != 0)
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
