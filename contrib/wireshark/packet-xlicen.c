/*
 * A Wireshark 4.0 dissector plugin for gss-xlicen (docs/PROTOCOL.md): TCP
 * port 128 (a preference for others), frames, HELLO and ALERT bodies,
 * CONTEXT tokens handed to Wireshark's GSS-API/Kerberos dissectors, and
 * DATA frames: the gss_wrap token goes to the GSS-API dissector with a
 * gssapi_encrypt_info_t, and when Wireshark can decrypt it (the service
 * keytab given with -o kerberos.decrypt:TRUE -o kerberos.file:KEYTAB,
 * and the connection's AP-REQ and AP-REP in the capture) the plaintext
 * message is shown field by field.
 *
 * Names come from the project's own tables: message types, tag names and
 * value kinds from common/msg.c (msg_type_info, msg_tag_info), error
 * names from common/err.c, which are compiled into this plugin, so the
 * dissector cannot drift from the codec.  A C plugin because a Lua
 * dissector can call the gssapi dissector but cannot pass it the
 * gssapi_encrypt_info_t that asks for decryption and returns the
 * plaintext (see contrib/wireshark/README.md).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <wireshark.h>
#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/expert.h>
#include <epan/proto_data.h>
#include <epan/dissectors/packet-tcp.h>
#include <epan/dissectors/packet-dcerpc.h>	/* packet-gssapi.h needs it */
#include <epan/dissectors/packet-gssapi.h>

#include "err.h"
#include "frame.h"
#include "limits.h"
#include "msg.h"
#include "../../server/config.h"	/* CONFIG_FRAME_MAX */

#ifndef XLICEN_VERSION
#define XLICEN_VERSION "0"
#endif

WS_DLL_PUBLIC_DEF const gchar plugin_version[] = XLICEN_VERSION;
WS_DLL_PUBLIC_DEF const int plugin_want_major = WIRESHARK_VERSION_MAJOR;
WS_DLL_PUBLIC_DEF const int plugin_want_minor = WIRESHARK_VERSION_MINOR;
WS_DLL_PUBLIC void plugin_register(void);

#define XLICEN_HDR	LIMIT_FRAME_HDR
/* Timestamps from 10000-01-01 on are shown as numbers only (a date's year
 * has four digits). */
#define XLICEN_WS_TIME_END	INT64_C(253402300800)

static int proto_xlicen = -1;
static int hf_frame_type = -1;
static int hf_frame_len = -1;
static int hf_hello_min = -1;
static int hf_hello_max = -1;
static int hf_hello_version = -1;
static int hf_hello_time = -1;
static int hf_alert_code = -1;
static int hf_alert_reason_len = -1;
static int hf_alert_reason = -1;
static int hf_msg_type = -1;
static int hf_msg_id = -1;
static int hf_msg_decrypted = -1;
static int hf_tlv_tag = -1;
static int hf_tlv_critical = -1;
static int hf_tlv_len = -1;
static int hf_tlv_value = -1;
/* One field per tag number (xlicen.product, xlicen.lease, ...). */
static int hf_tag[TAG__MAX + 1];

static gint ett_xlicen = -1;
static gint ett_msg = -1;
static gint ett_tlv = -1;

static expert_field ei_not_decrypted = EI_INIT;
static expert_field ei_malformed = EI_INIT;

static dissector_handle_t xlicen_handle;
static dissector_handle_t gssapi_handle;

static const value_string frame_types[] = {
	{ FRAME_HELLO, "HELLO" },
	{ FRAME_CONTEXT, "CONTEXT" },
	{ FRAME_DATA, "DATA" },
	{ FRAME_ALERT, "ALERT" },
	{ 0, NULL },
};

/* Built at registration from msg.c and err.c. */
static value_string *msg_types_vs;
static value_string *err_vs;

static guint
get_xlicen_pdu_len(packet_info *pinfo _U_, tvbuff_t *tvb, int offset,
    void *data _U_)
{
	guint32 len = tvb_get_ntohl(tvb, offset + 1);

	/* Longer than any server may be configured to accept ([limits]
	 * max_frame): show what is there as one malformed frame rather than
	 * wait for gigabytes. */
	if (len > CONFIG_FRAME_MAX)
		return tvb_reported_length_remaining(tvb, offset);
	return XLICEN_HDR + len;
}

static void
dissect_hello(tvbuff_t *tvb, int off, guint32 len, proto_tree *tree,
    packet_info *pinfo)
{
	if (len == 4) {
		proto_tree_add_item(tree, hf_hello_min, tvb, off, 2, ENC_BIG_ENDIAN);
		proto_tree_add_item(tree, hf_hello_max, tvb, off + 2, 2,
		    ENC_BIG_ENDIAN);
		col_append_fstr(pinfo->cinfo, COL_INFO, " versions %u-%u",
		    tvb_get_ntohs(tvb, off), tvb_get_ntohs(tvb, off + 2));
	} else if (len == 10) {
		proto_tree_add_item(tree, hf_hello_version, tvb, off, 2,
		    ENC_BIG_ENDIAN);
		proto_tree_add_item(tree, hf_hello_time, tvb, off + 2, 8,
		    ENC_TIME_SECS | ENC_BIG_ENDIAN);
		col_append_fstr(pinfo->cinfo, COL_INFO, " version %u",
		    tvb_get_ntohs(tvb, off));
	} else {
		proto_tree_add_expert_format(tree, pinfo, &ei_malformed, tvb,
		    off, len, "HELLO body of %u bytes (4 or 10 expected)", len);
	}
}

static void
dissect_alert(tvbuff_t *tvb, int off, guint32 len, proto_tree *tree,
    packet_info *pinfo)
{
	guint16 code, rlen;

	if (len < 4) {
		proto_tree_add_expert(tree, pinfo, &ei_malformed, tvb, off, len);
		return;
	}
	code = tvb_get_ntohs(tvb, off);
	rlen = tvb_get_ntohs(tvb, off + 2);
	proto_tree_add_item(tree, hf_alert_code, tvb, off, 2, ENC_BIG_ENDIAN);
	proto_tree_add_item(tree, hf_alert_reason_len, tvb, off + 2, 2,
	    ENC_BIG_ENDIAN);
	if ((guint32)rlen + 4 != len) {
		proto_tree_add_expert(tree, pinfo, &ei_malformed, tvb, off, len);
		return;
	}
	proto_tree_add_item(tree, hf_alert_reason, tvb, off + 4, rlen,
	    ENC_UTF_8);
	col_append_fstr(pinfo->cinfo, COL_INFO, " %s",
	    val_to_str(code, err_vs, "code %u"));
}

/* Whether tag num is a UTC-seconds timestamp (PROTOCOL.md section 7.2). */
static gboolean
tag_is_time(guint16 num)
{
	return num == TAG_EXPIRES || num == TAG_START || num == TAG_TIME ||
	    num == TAG_SINCE || num == TAG_LAST_HB || num == TAG_FROM ||
	    num == TAG_TO;
}

/* ": 62" after an integer TLV's name; a timestamp also as UTC, an error
 * code also by name. */
static void
append_int(proto_item *ti, tvbuff_t *tvb, int off, guint16 len, guint16 num)
{
	guint64 v = len == 1 ? tvb_get_guint8(tvb, off) :
	    len == 2 ? tvb_get_ntohs(tvb, off) :
	    len == 4 ? tvb_get_ntohl(tvb, off) : tvb_get_ntoh64(tvb, off);
	char when[32];
	struct tm tm;
	time_t t;

	proto_item_append_text(ti, ": %" PRIu64, v);
	if (num == TAG_CODE) {
		proto_item_append_text(ti, " %s", val_to_str((guint32)v, err_vs,
		    "(unknown code)"));
	} else if (tag_is_time(num) && v != 0 && v < (guint64)XLICEN_WS_TIME_END) {
		t = (time_t)v;
		if (gmtime_r(&t, &tm) != NULL &&
		    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
			proto_item_append_text(ti, " (%s)", when);
	}
}

/* The TLVs in tvb from off to end; list values (POOL, HOLDER, ROW) are
 * shown as a subtree of their own TLVs, one level deep as on the wire. */
static void
dissect_tlvs(tvbuff_t *tvb, int off, int end, proto_tree *tree,
    packet_info *pinfo, int depth)
{
	while (off < end) {
		proto_item *ti;
		proto_tree *tt;
		const char *name;
		guint16 tag, num, len;
		int kind;

		if (end - off < 4 || end - off - 4 < tvb_get_ntohs(tvb, off + 2)) {
			proto_tree_add_expert_format(tree, pinfo, &ei_malformed,
			    tvb, off, end - off, "TLV runs past the end");
			return;
		}
		tag = tvb_get_ntohs(tvb, off);
		len = tvb_get_ntohs(tvb, off + 2);
		num = tag & ~MSG_TAG_CRITICAL;
		name = msg_tag_info(num, &kind);
		if (name != NULL)
			tt = proto_tree_add_subtree_format(tree, tvb, off,
			    4 + len, ett_tlv, &ti, "%s%s", name,
			    (tag & MSG_TAG_CRITICAL) ? " (critical)" : "");
		else
			tt = proto_tree_add_subtree_format(tree, tvb, off,
			    4 + len, ett_tlv, &ti, "Unknown tag %u%s", num,
			    (tag & MSG_TAG_CRITICAL) ? " (critical)" : "");
		proto_tree_add_item(tt, hf_tlv_tag, tvb, off, 2, ENC_BIG_ENDIAN);
		proto_tree_add_item(tt, hf_tlv_critical, tvb, off, 2,
		    ENC_BIG_ENDIAN);
		proto_tree_add_item(tt, hf_tlv_len, tvb, off + 2, 2,
		    ENC_BIG_ENDIAN);
		off += 4;
		if (kind == MSG_KIND_LIST && depth == 0) {
			dissect_tlvs(tvb, off, off + len, tt, pinfo, 1);
		} else if (kind == MSG_KIND_STR) {
			proto_tree_add_item(tt, hf_tag[num], tvb, off, len,
			    ENC_UTF_8);
			proto_item_append_text(ti, ": %s", tvb_format_text(
			    pinfo->pool, tvb, off, len));
		} else if ((kind == MSG_KIND_U8 && len == 1) ||
		    (kind == MSG_KIND_U16 && len == 2) ||
		    (kind == MSG_KIND_U32 && len == 4) ||
		    (kind == MSG_KIND_U64 && len == 8)) {
			proto_tree_add_item(tt, hf_tag[num], tvb, off, len,
			    ENC_BIG_ENDIAN);
			append_int(ti, tvb, off, len, num);
		} else {
			proto_tree_add_item(tt, hf_tlv_value, tvb, off, len,
			    ENC_NA);
		}
		off += len;
	}
}

/* One plaintext message: u16 type | u32 id | TLV*. */
static void
dissect_msg(tvbuff_t *tvb, proto_tree *tree, packet_info *pinfo)
{
	int n = (int)tvb_reported_length(tvb);
	proto_tree *mt;
	guint16 type;

	mt = proto_tree_add_subtree(tree, tvb, 0, n, ett_msg, NULL,
	    "Message (decrypted)");
	proto_tree_add_boolean(mt, hf_msg_decrypted, tvb, 0, 0, TRUE);
	if (n < 6) {
		proto_tree_add_expert(mt, pinfo, &ei_malformed, tvb, 0, n);
		return;
	}
	type = tvb_get_ntohs(tvb, 0);
	proto_tree_add_item(mt, hf_msg_type, tvb, 0, 2, ENC_BIG_ENDIAN);
	proto_tree_add_item(mt, hf_msg_id, tvb, 2, 4, ENC_BIG_ENDIAN);
	col_append_fstr(pinfo->cinfo, COL_INFO, " %s id=%u",
	    val_to_str(type, msg_types_vs, "type 0x%04x"),
	    tvb_get_ntohl(tvb, 2));
	dissect_tlvs(tvb, 6, n, mt, pinfo, 0);
}

/* A DATA body: the wrap token to the GSS-API dissector, asking it to
 * decrypt; the plaintext, if it could, as a message. */
static void
dissect_data(tvbuff_t *tvb, int off, guint32 len, proto_tree *tree,
    packet_info *pinfo)
{
	gssapi_encrypt_info_t gi;
	tvbuff_t *tok = tvb_new_subset_length(tvb, off, len);

	memset(&gi, 0, sizeof(gi));
	gi.decrypt_gssapi_tvb = DECRYPT_GSSAPI_NORMAL;
	call_dissector_with_data(gssapi_handle, tok, pinfo, tree, &gi);
	if (gi.gssapi_decrypted_tvb == NULL) {
		col_append_str(pinfo->cinfo, COL_INFO, " (encrypted)");
		proto_tree_add_expert(tree, pinfo, &ei_not_decrypted, tvb, off,
		    len);
		return;
	}
	add_new_data_source(pinfo, gi.gssapi_decrypted_tvb,
	    "Decrypted gss-xlicen message");
	dissect_msg(gi.gssapi_decrypted_tvb, tree, pinfo);
}

static int
dissect_xlicen_pdu(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree,
    void *data _U_)
{
	guint8 type = tvb_get_guint8(tvb, 0);
	guint32 len = tvb_get_ntohl(tvb, 1);
	proto_item *ti;
	proto_tree *xt;

	col_set_str(pinfo->cinfo, COL_PROTOCOL, "gss-xlicen");
	col_append_sep_str(pinfo->cinfo, COL_INFO, ", ",
	    val_to_str(type, frame_types, "frame type %u"));
	col_set_fence(pinfo->cinfo, COL_INFO);
	ti = proto_tree_add_item(tree, proto_xlicen, tvb, 0, -1, ENC_NA);
	xt = proto_item_add_subtree(ti, ett_xlicen);
	proto_tree_add_item(xt, hf_frame_type, tvb, 0, 1, ENC_BIG_ENDIAN);
	proto_tree_add_item(xt, hf_frame_len, tvb, 1, 4, ENC_BIG_ENDIAN);
	if (len > (guint32)tvb_reported_length_remaining(tvb, XLICEN_HDR) ||
	    len == 0) {
		proto_tree_add_expert(xt, pinfo, &ei_malformed, tvb, 0, -1);
		return tvb_captured_length(tvb);
	}
	switch (type) {
	case FRAME_HELLO:
		dissect_hello(tvb, XLICEN_HDR, len, xt, pinfo);
		break;
	case FRAME_ALERT:
		dissect_alert(tvb, XLICEN_HDR, len, xt, pinfo);
		break;
	case FRAME_CONTEXT:
		call_dissector(gssapi_handle, tvb_new_subset_length(tvb,
		    XLICEN_HDR, len), pinfo, xt);
		break;
	case FRAME_DATA:
		dissect_data(tvb, XLICEN_HDR, len, xt, pinfo);
		break;
	default:
		proto_tree_add_expert(xt, pinfo, &ei_malformed, tvb, 0, -1);
		break;
	}
	return tvb_captured_length(tvb);
}

static int
dissect_xlicen(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree,
    void *data)
{
	col_clear(pinfo->cinfo, COL_INFO);
	tcp_dissect_pdus(tvb, pinfo, tree, TRUE, XLICEN_HDR,
	    get_xlicen_pdu_len, dissect_xlicen_pdu, data);
	return tvb_captured_length(tvb);
}

/* value_strings of the message types and error codes, and one field per
 * tag, from the project's tables. */
static void
xlicen_build_tables(hf_register_info **hfp, size_t *nhf)
{
	hf_register_info *hf;
	const char *name;
	uint16_t type;
	size_t i, n = 0;
	int kind, code;

	for (i = 0; msg_type_info(i, &type, &name); i++)
		;
	msg_types_vs = g_new0(value_string, i + 1);
	for (i = 0; msg_type_info(i, &type, &name); i++) {
		msg_types_vs[i].value = type;
		msg_types_vs[i].strptr = name;
	}
	err_vs = g_new0(value_string, 256);
	for (code = 1, i = 0; code < 255; code++)
		if (err_known(code)) {
			err_vs[i].value = (guint32)code;
			err_vs[i++].strptr = err_name(-code);
		}
	hf = g_new0(hf_register_info, TAG__MAX + 1);
	for (i = 0; i <= TAG__MAX; i++) {
		hf_tag[i] = -1;
		if ((name = msg_tag_info((uint16_t)i, &kind)) == NULL)
			continue;
		hf[n].p_id = &hf_tag[i];
		hf[n].hfinfo.name = name;
		hf[n].hfinfo.abbrev = g_strconcat("xlicen.",
		    g_ascii_strdown(name, -1), NULL);
		hf[n].hfinfo.display = BASE_DEC;
		switch (kind) {
		case MSG_KIND_STR:
			hf[n].hfinfo.type = FT_STRING;
			hf[n].hfinfo.display = BASE_NONE;
			break;
		case MSG_KIND_U8:
			hf[n].hfinfo.type = FT_UINT8;
			break;
		case MSG_KIND_U16:
			hf[n].hfinfo.type = FT_UINT16;
			if (i == TAG_CODE)
				hf[n].hfinfo.strings = VALS(err_vs);
			break;
		case MSG_KIND_U32:
			hf[n].hfinfo.type = FT_UINT32;
			break;
		case MSG_KIND_U64:
			hf[n].hfinfo.type = FT_UINT64;
			break;
		default:
			hf[n].hfinfo.type = FT_NONE;
			hf[n].hfinfo.display = BASE_NONE;
			break;
		}
		hf[n].hfinfo.blurb = "gss-xlicen TLV (docs/PROTOCOL.md 7.2)";
		hf[n].hfinfo.id = -1;
		hf[n].hfinfo.parent = -1;
		hf[n].hfinfo.ref_type = HF_REF_TYPE_NONE;
		hf[n].hfinfo.same_name_prev_id = -1;
		n++;
	}
	*hfp = hf;
	*nhf = n;
}

static void
proto_register_xlicen(void)
{
	static hf_register_info hf[] = {
		{ &hf_frame_type, { "Frame type", "xlicen.frame.type", FT_UINT8,
		    BASE_DEC, VALS(frame_types), 0, NULL, HFILL } },
		{ &hf_frame_len, { "Length", "xlicen.frame.length", FT_UINT32,
		    BASE_DEC, NULL, 0, NULL, HFILL } },
		{ &hf_hello_min, { "Min version", "xlicen.hello.min_version",
		    FT_UINT16, BASE_DEC, NULL, 0, NULL, HFILL } },
		{ &hf_hello_max, { "Max version", "xlicen.hello.max_version",
		    FT_UINT16, BASE_DEC, NULL, 0, NULL, HFILL } },
		{ &hf_hello_version, { "Version", "xlicen.hello.version",
		    FT_UINT16, BASE_DEC, NULL, 0, NULL, HFILL } },
		{ &hf_hello_time, { "Server time", "xlicen.hello.time",
		    FT_ABSOLUTE_TIME, ABSOLUTE_TIME_UTC, NULL, 0, NULL, HFILL } },
		{ &hf_alert_code, { "Code", "xlicen.alert.code", FT_UINT16,
		    BASE_DEC, NULL, 0, NULL, HFILL } },
		{ &hf_alert_reason_len, { "Reason length",
		    "xlicen.alert.reason_len", FT_UINT16, BASE_DEC, NULL, 0,
		    NULL, HFILL } },
		{ &hf_alert_reason, { "Reason", "xlicen.alert.reason",
		    FT_STRING, BASE_NONE, NULL, 0, NULL, HFILL } },
		{ &hf_msg_type, { "Message type", "xlicen.msg.type", FT_UINT16,
		    BASE_HEX, NULL, 0, NULL, HFILL } },
		{ &hf_msg_id, { "Request id", "xlicen.msg.id", FT_UINT32,
		    BASE_DEC, NULL, 0, NULL, HFILL } },
		{ &hf_msg_decrypted, { "Decrypted", "xlicen.msg.decrypted",
		    FT_BOOLEAN, BASE_NONE, NULL, 0, NULL, HFILL } },
		{ &hf_tlv_tag, { "Tag", "xlicen.tlv.tag", FT_UINT16, BASE_DEC,
		    NULL, 0x7fff, NULL, HFILL } },
		{ &hf_tlv_critical, { "Critical", "xlicen.tlv.critical",
		    FT_BOOLEAN, 16, NULL, MSG_TAG_CRITICAL, NULL, HFILL } },
		{ &hf_tlv_len, { "Length", "xlicen.tlv.length", FT_UINT16,
		    BASE_DEC, NULL, 0, NULL, HFILL } },
		{ &hf_tlv_value, { "Value", "xlicen.tlv.value", FT_BYTES,
		    BASE_NONE, NULL, 0, NULL, HFILL } },
	};
	static gint *ett[] = { &ett_xlicen, &ett_msg, &ett_tlv };
	static ei_register_info ei[] = {
		{ &ei_not_decrypted, { "xlicen.not_decrypted", PI_UNDECODED,
		    PI_NOTE, "Not decrypted (give the service keytab: -o "
		    "kerberos.decrypt:TRUE -o kerberos.file:KEYTAB)",
		    EXPFILL } },
		{ &ei_malformed, { "xlicen.malformed", PI_MALFORMED, PI_ERROR,
		    "Malformed gss-xlicen frame or message", EXPFILL } },
	};
	hf_register_info *tag_hf;
	expert_module_t *em;
	size_t ntag;

	proto_xlicen = proto_register_protocol("GSS X License Verification "
	    "(gss-xlicen)", "gss-xlicen", "xlicen");
	xlicen_build_tables(&tag_hf, &ntag);
	/* hf[6] and hf[9]: the alert code and message type, named from the
	 * tables just built. */
	hf[6].hfinfo.strings = VALS(err_vs);
	hf[9].hfinfo.strings = VALS(msg_types_vs);
	proto_register_field_array(proto_xlicen, hf, array_length(hf));
	proto_register_field_array(proto_xlicen, tag_hf, (int)ntag);
	proto_register_subtree_array(ett, array_length(ett));
	em = expert_register_protocol(proto_xlicen);
	expert_register_field_array(em, ei, array_length(ei));
}

static void
proto_reg_handoff_xlicen(void)
{
	xlicen_handle = create_dissector_handle(dissect_xlicen, proto_xlicen);
	gssapi_handle = find_dissector_add_dependency("gssapi", proto_xlicen);
	dissector_add_uint_with_preference("tcp.port", XLICEN_DEFAULT_PORT,
	    xlicen_handle);
}

void
plugin_register(void)
{
	static proto_plugin plug;

	plug.register_protoinfo = proto_register_xlicen;
	plug.register_handoff = proto_reg_handoff_xlicen;
	proto_register_plugin(&plug);
}
