/*
 * Runs cases on the host CPU through the 32-bit native runner: the cases
 * go to a temporary file that becomes the runner's stdin (so neither side
 * can block the other on a full pipe), the results come back on a pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/diff/native.h"

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int native_run(const char *runner, const struct diff_case *const *cases, size_t n,
               struct diff_result *results, char *why, size_t whylen)
{
	FILE *tmp = tmpfile();
	if (!tmp) {
		snprintf(why, whylen, "tmpfile: %s", strerror(errno));
		return -1;
	}
	int fd = fileno(tmp);
	for (size_t i = 0; i < n; i++) {
		if (write_all(fd, cases[i], sizeof *cases[i]) != 0) {
			snprintf(why, whylen, "writing cases: %s", strerror(errno));
			fclose(tmp);
			return -1;
		}
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		snprintf(why, whylen, "lseek: %s", strerror(errno));
		fclose(tmp);
		return -1;
	}
	int out[2];
	if (pipe(out) != 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		fclose(tmp);
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(out[0]);
		close(out[1]);
		fclose(tmp);
		return -1;
	}
	if (pid == 0) {
		if (dup2(fd, 0) < 0 || dup2(out[1], 1) < 0)
			_exit(126);
		close(out[0]);
		close(out[1]);
		execl(runner, runner, (char *)NULL);
		fprintf(stderr, "cpu_diff: cannot run %s: %s\n", runner, strerror(errno));
		_exit(127);
	}
	close(out[1]);
	fclose(tmp);
	size_t want = n * sizeof *results, got = 0;
	char *dst = (char *)results;
	while (got < want) {
		ssize_t r = read(out[0], dst + got, want - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(out[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			snprintf(why, whylen, "waitpid: %s", strerror(errno));
			return -1;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && got == 0) {
		snprintf(why, whylen, "cannot execute the 32-bit native runner %s", runner);
		return -2;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFSIGNALED(status))
			snprintf(why, whylen, "native runner killed by signal %d after %zu of %zu cases",
			         WTERMSIG(status), got / sizeof *results, n);
		else
			snprintf(why, whylen, "native runner exited with status %d after %zu of %zu cases",
			         WEXITSTATUS(status), got / sizeof *results, n);
		return -1;
	}
	if (got != want) {
		snprintf(why, whylen, "native runner returned %zu of %zu results", got / sizeof *results, n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (results[i].magic != DIFF_MAGIC_RESULT || results[i].id != cases[i]->id) {
			snprintf(why, whylen, "native result %zu is malformed", i);
			return -1;
		}
	}
	return 0;
}
