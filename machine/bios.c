#include "machine/bios.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "machine/memory.h"

int image_read_file(const char *path, size_t max, uint8_t **data, size_t *size,
                    char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd;

	*data = NULL;
	*size = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > max) {
		snprintf(err, errlen, "%s: %lld bytes is too large (at most %zu)", path,
		         (long long)st.st_size, max);
		close(fd);
		return -1;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: %s", path, n < 0 ? strerror(errno) : "file shrank while reading");
			free(buf);
			close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	*data = buf;
	*size = got;
	return 0;
}

int bios_load_file(struct memory *m, const char *path, char *err, size_t errlen)
{
	uint8_t *image;
	size_t size;
	char why[200];
	int rc;

	if (image_read_file(path, MEM_MAX_BIOS, &image, &size, err, errlen) != 0)
		return -1;
	rc = memory_set_bios(m, image, size, why, sizeof(why));
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", path, why);
	free(image);
	return rc;
}
