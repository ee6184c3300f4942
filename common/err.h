/*
 * Error codes: names and human text for the table in xlicen_errors.h, and
 * the one helper that prints a message into a caller's error buffer.
 */
#ifndef XLICEN_ERR_H
#define XLICEN_ERR_H

#include <stddef.h>

#include "xlicen_errors.h"

/* Human text for a code (negative or 0).  Never NULL; unknown codes get a
 * generic string.  Positive wire values are accepted too. */
const char *err_str(int code);

/* Stable symbolic name ("NO_SEATS") for a code; "UNKNOWN" if not in the
 * table.  Used in logs, JSON output and the CLI. */
const char *err_name(int code);

/* Whether a positive wire value names a code in the table. */
int err_known(int wire_code);

/*
 * printf into the caller's message buffer err of errlen bytes (always
 * NUL-terminated, cut to fit).  Does nothing if err is NULL or errlen 0,
 * so a caller that wants only the code may pass NULL, 0.
 */
void err_setf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
