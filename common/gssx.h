/*
 * GSS-API helpers shared by both ends: status text, service names, the
 * flags every context must carry, and wrap/unwrap of DATA frames with the
 * checks the protocol requires (confidentiality, no expired context).
 */
#ifndef XLICEN_GSSX_H
#define XLICEN_GSSX_H

#include <stddef.h>
#include <stdint.h>

#include <gssapi/gssapi.h>

#include "buf.h"

/* What a context must provide, on both sides. */
#define GSSX_REQUIRED_FLAGS (GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG | \
	GSS_C_SEQUENCE_FLAG | GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG)

/* 1 if flags holds every required flag, else 0. */
int gssx_flags_ok(OM_uint32 flags);
/* The missing required flags as text ("conf replay"), for errors. */
void gssx_flags_missing(OM_uint32 flags, char *out, size_t outlen);

/* "major text; minor text" for a failed call, always NUL-terminated. */
void gssx_status_text(OM_uint32 major, OM_uint32 minor, char *out,
    size_t outlen);

/*
 * Import "service@host" as a GSS_C_NT_HOSTBASED_SERVICE name.
 * Returns 0 or XLICEN_E_GSS (text in err).
 */
int gssx_import_service(const char *service, gss_name_t *out, char *err,
    size_t errlen);

/* gss_display_name into out (NUL-terminated).  0, XLICEN_E_GSS, or
 * XLICEN_E_STRING if it does not fit. */
int gssx_display_name(gss_name_t name, char *out, size_t outlen);

/*
 * Wrap n bytes with confidentiality and append a complete DATA frame to
 * out.  Returns 0, XLICEN_E_CONTEXT_EXPIRED, XLICEN_E_GSS_FLAGS (the
 * mechanism gave no confidentiality) or XLICEN_E_GSS; err gets text.
 */
int gssx_wrap_frame(gss_ctx_id_t ctx, const void *p, size_t n,
    struct buf *out, char *err, size_t errlen);

/*
 * Unwrap a DATA body into out (reset first).  A token that does not
 * verify, or that was not encrypted, is XLICEN_E_UNWRAP; an expired
 * context XLICEN_E_CONTEXT_EXPIRED.  err gets the GSS text.
 */
int gssx_unwrap(gss_ctx_id_t ctx, const uint8_t *p, size_t n,
    struct buf *out, char *err, size_t errlen);

#endif
