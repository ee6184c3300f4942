/*
 * Lowercase hexadecimal: the one encoder for ids and digests shown as
 * text (queue ids, license serials, audit hashes).
 */
#ifndef XLICEN_HEX_H
#define XLICEN_HEX_H

#include <stddef.h>
#include <stdint.h>

/*
 * Write the n bytes of in as 2n lowercase hex digits and a NUL into out,
 * which the caller provides with room for 2n + 1 bytes.  Cannot fail.
 */
void hex_encode(const uint8_t *in, size_t n, char *out);

#endif
