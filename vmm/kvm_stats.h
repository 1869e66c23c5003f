/*
 * KVM's own counters for the VM and its vCPU (KVM_GET_STATS_FD, the binary statistics
 * interface): exits by kind, shadow-MMU work, interrupts injected. -v prints the ones
 * that moved, at exit, so a run says where the hypervisor spent its time without
 * debugfs (locked down on our hosts).
 */
#ifndef VMM_KVM_STATS_H
#define VMM_KVM_STATS_H

#include <stddef.h>

/*
 * The cumulative counters of a VM or vCPU fd that are not zero, in KVM's order, as
 * " name=N name=N ..." into buf (cut at buflen). => how many; 0 also when this KVM
 * has no binary statistics.
 */
int kvm_stats_format(int obj_fd, char *buf, size_t buflen);

#endif
