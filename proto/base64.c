#include "proto/base64.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const uint8_t *buf, size_t len)
{
	size_t n = (len + 2) / 3 * 4;
	char *out = malloc(n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)buf[i] << 16;
		size_t left = len - i;

		if (left > 1)
			v |= (uint32_t)buf[i + 1] << 8;
		if (left > 2)
			v |= buf[i + 2];
		*o++ = alphabet[(v >> 18) & 63];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = left > 1 ? alphabet[(v >> 6) & 63] : '=';
		*o++ = left > 2 ? alphabet[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int value_of(char c)
{
	const char *p = c ? strchr(alphabet, c) : NULL;

	return p ? (int)(p - alphabet) : -1;
}

int base64_decode(const char *text, uint8_t **out, size_t *out_len)
{
	size_t n = strlen(text), len = 0;
	uint8_t *buf;

	if (n % 4 != 0)
		return -1;
	buf = malloc(n / 4 * 3 + 1);
	if (!buf)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		/* Padding may only end the text: one or two '='. */
		bool last = i + 4 == n;
		int pad = 0;

		for (int k = 0; k < 4; k++) {
			if (text[i + k] == '=' && last && k >= 2) {
				v[k] = 0;
				pad++;
			} else if (pad || (v[k] = value_of(text[i + k])) < 0) {
				free(buf);
				return -1;
			}
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		buf[len++] = (uint8_t)(w >> 16);
		if (pad < 2)
			buf[len++] = (uint8_t)(w >> 8);
		if (pad < 1)
			buf[len++] = (uint8_t)w;
	}
	*out = buf;
	*out_len = len;
	return 0;
}
