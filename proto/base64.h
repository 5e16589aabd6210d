/*
 * Base64 (RFC 4648, with padding) for binary payloads inside JSON-RPC
 * messages, such as a screenshot's PNG bytes.
 */
#ifndef PROTO_BASE64_H
#define PROTO_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* A malloc'ed NUL-terminated encoding of buf, or NULL without memory. */
char *base64_encode(const uint8_t *buf, size_t len);
/* Decodes text into a malloc'ed buffer; -1 on malformed input or no memory. */
int base64_decode(const char *text, uint8_t **out, size_t *out_len);

#endif
