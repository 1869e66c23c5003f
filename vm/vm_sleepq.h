/*
 * Sleep queues: the table a platform's vm_sleep/vm_wakeup keep their sleepers in
 * (FreeBSD's sleepqueue(9) idea, small). A wait channel hashes to one of VM_SLEEPQ_HASH
 * buckets; a bucket is a FIFO of sleeper records (struct vm_sleeper), each with its
 * channel, a woken flag and a deadline. Records of different channels that share a
 * bucket are told apart by their channel, so the order of one channel's sleepers is the
 * order they went to sleep in: vm_sleepq_wakeup_one wakes the oldest.
 *
 * A record lives in its sleeper's stack frame (no allocation: vm_sleep runs where
 * memory may be short). A wakeup marks records woken and unlinks them; a sleeper that
 * leaves for another reason (its deadline passed) unlinks itself with vm_sleepq_remove.
 *
 * No lock inside: the caller serializes every call on one table (the guest holds its
 * sleep-queue spin lock with interrupts off; the host test is one thread). Only
 * sq_count may be read without it, by vm_sleepq_empty: the fast path of a wakeup
 * nobody waits for (vm_wakeup runs on every page unbusy). A sleeper links its record
 * before it drops the caller's mutex and a waker changes the condition under that mutex
 * before it calls vm_wakeup, so the waker sees the count the insert made.
 *
 * Built into the guest (guest/kern/vm_platform.c) and the host unit tests
 * (tests/unit/test_vm_sleepq.c drives it with simulated sleepers).
 */
#ifndef VM_VM_SLEEPQ_H
#define VM_VM_SLEEPQ_H

#include <stdbool.h>
#include <stdint.h>

#define VM_SLEEPQ_HASH  32              /* buckets: a power of two */

struct vm_sleeper {
	void *vs_chan;                  /* the wait channel */
	const char *vs_wmesg;           /* what it waits for (panic and debug messages) */
	uint64_t vs_deadline;           /* vm_nanotime() it gives up at; 0: none */
	volatile bool vs_woken;         /* set (and unlinked) by a wakeup */
	bool vs_queued;                 /* linked in the table */
	struct vm_sleeper *vs_next;     /* the bucket's FIFO */
	void *vs_owner;                 /* the platform's: the sleeping thread */
};

struct vm_sleepq_bucket {
	struct vm_sleeper *sb_head;
	struct vm_sleeper **sb_tailp;   /* NULL when the bucket was never used: empty */
};

struct vm_sleepq_table {
	uint32_t sq_count;              /* records linked: read unlocked (atomic) */
	/* Called for each record a wakeup or an expiry unlinks, after the unlink, under
	 * the caller's serialization: a platform with threads makes the sleeper runnable
	 * here. NULL: nothing to call (the sleeper polls vs_woken / vs_queued). */
	void (*sq_wake)(struct vm_sleeper *vs);
	struct vm_sleepq_bucket sq_buckets[VM_SLEEPQ_HASH];
};

/* Does nobody sleep? The lock-free fast path of a wakeup. An all-zero table is valid
 * and empty (static tables need no init). */
static inline bool vm_sleepq_empty(const struct vm_sleepq_table *sq)
{
	return __atomic_load_n(&sq->sq_count, __ATOMIC_RELAXED) == 0;
}

/* Link vs as the newest sleeper on chan (vs_woken cleared). deadline 0: none. */
void vm_sleepq_insert(struct vm_sleepq_table *sq, struct vm_sleeper *vs, void *chan,
    const char *wmesg, uint64_t deadline);
/* Unlink vs if it is still linked (not woken). => true if it was. */
bool vm_sleepq_remove(struct vm_sleepq_table *sq, struct vm_sleeper *vs);
/* Wake (mark woken and unlink) every sleeper on chan, or only its oldest when one.
 * => how many were woken. */
unsigned vm_sleepq_wakeup(struct vm_sleepq_table *sq, void *chan, bool one);
/* Unlink every sleeper whose deadline is at or before now (not marked woken: it timed
 * out). => how many. For a platform or test that times sleepers out from outside. */
unsigned vm_sleepq_expire(struct vm_sleepq_table *sq, uint64_t now);
/* The earliest deadline of any linked sleeper, 0 when none has one. */
uint64_t vm_sleepq_next_deadline(const struct vm_sleepq_table *sq);
/* How many sleepers are linked on chan. */
unsigned vm_sleepq_count(const struct vm_sleepq_table *sq, const void *chan);

#endif /* VM_VM_SLEEPQ_H */
