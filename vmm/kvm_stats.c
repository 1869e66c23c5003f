/*
 * KVM's binary statistics: a read-only fd with a header, a table of descriptors (name,
 * type, size, offset) and the data. Only single cumulative counters are reported:
 * instantaneous values and histograms say nothing about a whole run.
 */
#include "kvm_stats.h"

#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int kvm_stats_format(int obj_fd, char *buf, size_t buflen)
{
	struct kvm_stats_header hdr;
	int fd = ioctl(obj_fd, KVM_GET_STATS_FD, NULL);

	if (buflen > 0)
		buf[0] = '\0';
	if (fd < 0)
		return 0;
	if (pread(fd, &hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    hdr.num_desc == 0 || hdr.num_desc > 4096 || hdr.name_size > 4096) {
		close(fd);
		return 0;
	}
	size_t desc_size = sizeof(struct kvm_stats_desc) + hdr.name_size;
	char *descs = malloc(desc_size * hdr.num_desc);
	size_t len = 0;
	int nshown = 0;

	if (descs == NULL || pread(fd, descs, desc_size * hdr.num_desc, hdr.desc_offset) !=
	    (ssize_t)(desc_size * hdr.num_desc))
		goto out;
	for (uint32_t i = 0; i < hdr.num_desc; i++) {
		struct kvm_stats_desc *d = (struct kvm_stats_desc *)(descs + i * desc_size);
		uint64_t value;

		if ((d->flags & KVM_STATS_TYPE_MASK) != KVM_STATS_TYPE_CUMULATIVE ||
		    d->size != 1 ||
		    pread(fd, &value, sizeof(value), hdr.data_offset + d->offset) !=
		    (ssize_t)sizeof(value) || value == 0)
			continue;
		d->name[hdr.name_size - 1] = '\0';
		if (len < buflen)
			len += (size_t)snprintf(buf + len, buflen - len, " %s=%llu",
			    d->name, (unsigned long long)value);
		nshown++;
	}
out:
	free(descs);
	close(fd);
	return nshown;
}
