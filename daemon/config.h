/*
 * vmd's configuration: what conf/vmd.conf.5 describes, parsed into plain
 * structs (no event loop involved, so the parser is unit-tested alone).
 */
#ifndef DAEMON_CONFIG_H
#define DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VM_NAME_MAX 64
#define VM_MEMORY_MIN (4ull << 20)
/* An i686 without PAE addresses 4 GiB, minus the PCI hole. */
#define VM_MEMORY_MAX (3ull << 30)
#define CONFIG_MAX_DISKS 4
#define CONFIG_MAX_NETS 4
#define CONFIG_MAX_FWDS 16

struct hostfwd {
	bool udp;
	uint16_t host_port;
	uint16_t guest_port;
};

struct net_config {
	struct hostfwd fwd[CONFIG_MAX_FWDS];
	size_t nfwd;
};

struct vm_config {
	char name[VM_NAME_MAX + 1];
	uint64_t memory;              /* bytes, a multiple of 1 MiB */
	char *kernel, *initrd, *cmdline, *bios;
	char *disk[CONFIG_MAX_DISKS];
	size_t ndisk;
	struct net_config net[CONFIG_MAX_NETS];
	size_t nnet;
	char *vnc_listen;             /* "ADDR:PORT" or NULL */
	char *vnc_password_file;
	bool has_owner_uid, has_owner_gid;
	uid_t owner_uid;
	gid_t owner_gid;
	bool autostart;
	char where[256];              /* "file:line" of its definition, or "vmctl create" */
};

struct config {
	char *socket_path;            /* NULL: the default */
	bool has_socket_gid;
	gid_t socket_gid;
	char *guest_binary;           /* NULL: vmd-guest next to vmd */
	int shutdown_timeout;         /* seconds */
	struct vm_config **vm;
	size_t nvm;
};

#define CONFIG_DEFAULT_SHUTDOWN_TIMEOUT 30

void config_init(struct config *cfg);
void config_free(struct config *cfg);
/*
 * Parses text (named file in messages). Returns 0, or -1 with err holding
 * every problem found, one "file:line: message" per line (parsing goes on
 * after an error to report the others).
 */
int config_parse_string(struct config *cfg, const char *file, const char *text,
			char *err, size_t errlen);
int config_parse_file(struct config *cfg, const char *path, char *err, size_t errlen);

struct vm_config *vm_config_new(void);
void vm_config_free(struct vm_config *vc);
struct vm_config *vm_config_dup(const struct vm_config *vc);
bool vm_config_equal(const struct vm_config *a, const struct vm_config *b);
/* Names: 1-64 of [A-Za-z0-9._-], not starting with '-' or '.'. */
bool vm_name_valid(const char *name);
/* "256M", "1G", "65536K", "512" (MiB): bytes, or 0 with why set. */
uint64_t parse_memory_size(const char *s, char *why, size_t whylen);
/* "user", "user:group", ":group"; false with why set. */
bool parse_owner(const char *s, struct vm_config *vc, char *why, size_t whylen);

#endif
