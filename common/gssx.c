/*
 * GSS-API helpers (see gssx.h).  The checks every DATA frame needs live
 * here so client and server cannot disagree on them: a token must unwrap,
 * must have been encrypted, and the context must not have expired (MIT
 * still produces tokens after expiry but says GSS_S_CONTEXT_EXPIRED).
 */
#include <stdio.h>
#include <string.h>

#include <gssapi/gssapi_krb5.h>

#include "frame.h"
#include "gssx.h"
#include "limits.h"
#include "xlicen_errors.h"

int
gssx_flags_ok(OM_uint32 flags)
{
	return (flags & GSSX_REQUIRED_FLAGS) == GSSX_REQUIRED_FLAGS;
}

void
gssx_flags_missing(OM_uint32 flags, char *out, size_t outlen)
{
	static const struct { OM_uint32 flag; const char *name; } names[] = {
		{ GSS_C_MUTUAL_FLAG, "mutual" },
		{ GSS_C_REPLAY_FLAG, "replay" },
		{ GSS_C_SEQUENCE_FLAG, "sequence" },
		{ GSS_C_CONF_FLAG, "confidentiality" },
		{ GSS_C_INTEG_FLAG, "integrity" },
	};
	size_t i, used = 0;
	int n;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (flags & names[i].flag)
			continue;
		n = snprintf(out + used, outlen - used, "%s%s",
		    used > 0 ? " " : "", names[i].name);
		if (n < 0 || (size_t)n >= outlen - used)
			return;
		used += (size_t)n;
	}
}

/* Append every message of one status type to out. */
static void
gssx_status_append(OM_uint32 code, int type, char *out, size_t outlen)
{
	OM_uint32 maj, min, ctx = 0;
	gss_buffer_desc msg = GSS_C_EMPTY_BUFFER;
	size_t used;

	do {
		maj = gss_display_status(&min, code, type, GSS_C_NO_OID, &ctx, &msg);
		if (GSS_ERROR(maj))
			break;
		used = strlen(out);
		if (used + 1 < outlen)
			snprintf(out + used, outlen - used, "%s%.*s",
			    used > 0 ? "; " : "", (int)msg.length,
			    (const char *)msg.value);
		gss_release_buffer(&min, &msg);
	} while (ctx != 0);
}

void
gssx_status_text(OM_uint32 major, OM_uint32 minor, char *out, size_t outlen)
{
	if (outlen == 0)
		return;
	out[0] = '\0';
	gssx_status_append(major, GSS_C_GSS_CODE, out, outlen);
	if (minor != 0)
		gssx_status_append(minor, GSS_C_MECH_CODE, out, outlen);
}

int
gssx_import_service(const char *service, gss_name_t *out, char *err,
    size_t errlen)
{
	OM_uint32 maj, min;
	gss_buffer_desc nb;

	*out = GSS_C_NO_NAME;
	nb.value = (void *)service;
	nb.length = strlen(service);
	maj = gss_import_name(&min, &nb, GSS_C_NT_HOSTBASED_SERVICE, out);
	if (GSS_ERROR(maj)) {
		gssx_status_text(maj, min, err, errlen);
		return XLICEN_E_GSS;
	}
	return 0;
}

int
gssx_display_name(gss_name_t name, char *out, size_t outlen)
{
	OM_uint32 maj, min;
	gss_buffer_desc b = GSS_C_EMPTY_BUFFER;
	int rc = 0;

	if (outlen > 0)
		out[0] = '\0';
	maj = gss_display_name(&min, name, &b, NULL);
	if (GSS_ERROR(maj))
		return XLICEN_E_GSS;
	if (b.length >= outlen || memchr(b.value, '\0', b.length) != NULL) {
		rc = XLICEN_E_STRING;
	} else {
		memcpy(out, b.value, b.length);
		out[b.length] = '\0';
	}
	gss_release_buffer(&min, &b);
	return rc;
}

int
gssx_wrap_frame(gss_ctx_id_t ctx, const void *p, size_t n, struct buf *out,
    char *err, size_t errlen)
{
	OM_uint32 maj, min;
	gss_buffer_desc in, tok = GSS_C_EMPTY_BUFFER;
	int conf = 0, rc;

	if (errlen > 0)
		err[0] = '\0';
	in.value = (void *)p;
	in.length = n;
	maj = gss_wrap(&min, ctx, 1, GSS_C_QOP_DEFAULT, &in, &conf, &tok);
	if (GSS_ROUTINE_ERROR(maj) == GSS_S_CONTEXT_EXPIRED) {
		rc = XLICEN_E_CONTEXT_EXPIRED;
		snprintf(err, errlen, "security context expired");
		goto out;
	}
	if (GSS_ERROR(maj)) {
		gssx_status_text(maj, min, err, errlen);
		rc = XLICEN_E_GSS;
		goto out;
	}
	if (!conf) {
		snprintf(err, errlen, "mechanism did not encrypt the message");
		rc = XLICEN_E_GSS_FLAGS;
		goto out;
	}
	rc = frame_encode(out, FRAME_DATA, tok.value, tok.length);
out:
	gss_release_buffer(&min, &tok);
	return rc;
}

int
gssx_unwrap(gss_ctx_id_t ctx, const uint8_t *p, size_t n, struct buf *out,
    char *err, size_t errlen)
{
	OM_uint32 maj, min;
	gss_buffer_desc in, msg = GSS_C_EMPTY_BUFFER;
	int conf = 0, rc = 0;

	if (errlen > 0)
		err[0] = '\0';
	buf_reset(out);
	in.value = (void *)p;
	in.length = n;
	maj = gss_unwrap(&min, ctx, &in, &msg, &conf, NULL);
	if (GSS_ERROR(maj) && GSS_ROUTINE_ERROR(maj) == GSS_S_CONTEXT_EXPIRED) {
		snprintf(err, errlen, "security context expired");
		rc = XLICEN_E_CONTEXT_EXPIRED;
		goto out;
	}
	/* Supplementary bits (duplicate, old, unseq, gap) mean a replayed or
	 * reordered token: on an ordered stream that is an attack. */
	if (GSS_ERROR(maj) || GSS_SUPPLEMENTARY_INFO(maj) != 0) {
		gssx_status_text(maj, min, err, errlen);
		if (err[0] == '\0' || GSS_SUPPLEMENTARY_INFO(maj) != 0)
			snprintf(err, errlen, "replayed or out-of-sequence token");
		rc = XLICEN_E_UNWRAP;
		goto out;
	}
	if (!conf) {
		snprintf(err, errlen, "message was not encrypted");
		rc = XLICEN_E_UNWRAP;
		goto out;
	}
	rc = buf_put_bytes(out, msg.value, msg.length);
out:
	gss_release_buffer(&min, &msg);
	return rc;
}
