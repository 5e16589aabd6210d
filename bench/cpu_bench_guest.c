/*
 * The CPU benchmark's workload: sieve, checksum and string copies, a
 * CPU-bound integer mix. Built twice from this one file: as a 32-bit
 * native program and as a flat binary the emulated CPU runs.
 * Freestanding: no library calls, so both builds do the same work.
 */
#include <stdint.h>

uint32_t bench_work(uint32_t iters);

#define N 32768

static uint8_t sieve[N];
static uint32_t words_a[1024], words_b[1024];
static char text[2048];

static uint32_t count_primes(void)
{
	for (uint32_t i = 0; i < N; i++)
		sieve[i] = 1;
	sieve[0] = sieve[1] = 0;
	for (uint32_t p = 2; p * p < N; p++)
		if (sieve[p])
			for (uint32_t m = p * p; m < N; m += p)
				sieve[m] = 0;
	uint32_t n = 0;
	for (uint32_t i = 0; i < N; i++)
		n += sieve[i];
	return n;
}

static uint32_t checksum(const uint8_t *p, uint32_t len)
{
	uint32_t h = 2166136261u;       /* FNV-1a, then a rotate-xor mix */
	for (uint32_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return (h << 7 | h >> 25) ^ len;
}

static uint32_t strings(uint32_t seed)
{
	for (uint32_t i = 0; i < 1024; i++)
		words_a[i] = seed + i * 2654435761u;
	uint32_t *dst = words_b, *src = words_a;
	uint32_t cnt = 1024;
	__asm__ volatile("cld; rep movsl" : "+D"(dst), "+S"(src), "+c"(cnt) : : "memory");
	uint32_t eq = 0;
	for (uint32_t i = 0; i < 1024; i++)
		eq += words_a[i] == words_b[i];
	for (uint32_t i = 0; i < sizeof(text) - 1; i++)
		text[i] = (char)('a' + (seed + i) % 26);
	text[sizeof(text) - 1] = 0;
	uint32_t len = 0;
	while (text[len])
		len++;
	uint32_t vowels = 0;
	for (uint32_t i = 0; i < len; i++) {
		char c = text[i];
		vowels += c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
	}
	return eq + len * 3 + vowels;
}

uint32_t bench_work(uint32_t iters)
{
	uint32_t sum = 0;
	for (uint32_t it = 0; it < iters; it++) {
		sum = sum * 31 + count_primes();
		sum ^= checksum(sieve, N);
		sum += strings(sum);
	}
	return sum;
}
