/* The benchmark's native half: runs bench_work() in a 32-bit process and
 * prints "<checksum> <CPU nanoseconds>" for bench/cpu_bench.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

uint32_t bench_work(uint32_t iters);

int main(int argc, char **argv)
{
	uint32_t iters = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 10;
	struct timespec a, b;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	uint32_t sum = bench_work(iters);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	long long ns = (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
	printf("%u %lld\n", sum, ns);
	return 0;
}
