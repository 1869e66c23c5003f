/*
 * Sleep queues (vm/vm_sleepq.h): a hash of wait channels to FIFOs of sleeper records.
 * The caller serializes; nothing here sleeps, allocates or takes a lock.
 */
#include "vm/vm_sleepq.h"

#include <stddef.h>

static inline struct vm_sleepq_bucket *sq_bucket(struct vm_sleepq_table *sq,
    const void *chan)
{
	uint64_t h = (uint64_t)(uintptr_t)chan;

	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ull;
	return &sq->sq_buckets[(h >> 32) & (VM_SLEEPQ_HASH - 1)];
}

/* Unlink the record *pp points at from sb (its predecessor's link is pp). */
static inline void sq_unlink(struct vm_sleepq_table *sq, struct vm_sleepq_bucket *sb,
    struct vm_sleeper **pp)
{
	struct vm_sleeper *vs = *pp;

	*pp = vs->vs_next;
	if (sb->sb_tailp == &vs->vs_next)
		sb->sb_tailp = pp;
	vs->vs_next = NULL;
	vs->vs_queued = false;
	__atomic_store_n(&sq->sq_count, sq->sq_count - 1, __ATOMIC_RELAXED);
}

void vm_sleepq_insert(struct vm_sleepq_table *sq, struct vm_sleeper *vs, void *chan,
    const char *wmesg, uint64_t deadline)
{
	struct vm_sleepq_bucket *sb = sq_bucket(sq, chan);

	vs->vs_chan = chan;
	vs->vs_wmesg = wmesg;
	vs->vs_deadline = deadline;
	vs->vs_woken = false;
	vs->vs_queued = true;
	vs->vs_next = NULL;
	if (sb->sb_tailp == NULL)
		sb->sb_tailp = &sb->sb_head;
	*sb->sb_tailp = vs;
	sb->sb_tailp = &vs->vs_next;
	__atomic_store_n(&sq->sq_count, sq->sq_count + 1, __ATOMIC_RELAXED);
}

bool vm_sleepq_remove(struct vm_sleepq_table *sq, struct vm_sleeper *vs)
{
	struct vm_sleepq_bucket *sb;

	if (!vs->vs_queued)
		return false;
	sb = sq_bucket(sq, vs->vs_chan);
	for (struct vm_sleeper **pp = &sb->sb_head; *pp != NULL; pp = &(*pp)->vs_next) {
		if (*pp == vs) {
			sq_unlink(sq, sb, pp);
			return true;
		}
	}
	return false;   /* not reached: a queued record is in its channel's bucket */
}

unsigned vm_sleepq_wakeup(struct vm_sleepq_table *sq, void *chan, bool one)
{
	struct vm_sleepq_bucket *sb = sq_bucket(sq, chan);
	struct vm_sleeper **pp = &sb->sb_head;
	unsigned n = 0;

	while (*pp != NULL) {
		struct vm_sleeper *vs = *pp;
		if (vs->vs_chan != chan) {
			pp = &vs->vs_next;
			continue;
		}
		sq_unlink(sq, sb, pp);
		vs->vs_woken = true;
		n++;
		if (sq->sq_wake != NULL)
			sq->sq_wake(vs);
		if (one)
			break;
	}
	return n;
}

unsigned vm_sleepq_expire(struct vm_sleepq_table *sq, uint64_t now)
{
	unsigned n = 0;

	for (int i = 0; i < VM_SLEEPQ_HASH && sq->sq_count != 0; i++) {
		struct vm_sleepq_bucket *sb = &sq->sq_buckets[i];
		struct vm_sleeper **pp = &sb->sb_head;
		while (*pp != NULL) {
			struct vm_sleeper *vs = *pp;
			if (vs->vs_deadline != 0 && vs->vs_deadline <= now) {
				sq_unlink(sq, sb, pp);
				n++;
				if (sq->sq_wake != NULL)
					sq->sq_wake(vs);
			} else {
				pp = &vs->vs_next;
			}
		}
	}
	return n;
}

uint64_t vm_sleepq_next_deadline(const struct vm_sleepq_table *sq)
{
	uint64_t next = 0;

	for (int i = 0; i < VM_SLEEPQ_HASH; i++)
		for (const struct vm_sleeper *vs = sq->sq_buckets[i].sb_head; vs != NULL;
		    vs = vs->vs_next)
			if (vs->vs_deadline != 0 && (next == 0 || vs->vs_deadline < next))
				next = vs->vs_deadline;
	return next;
}

unsigned vm_sleepq_count(const struct vm_sleepq_table *sq, const void *chan)
{
	const struct vm_sleepq_bucket *sb = sq_bucket((struct vm_sleepq_table *)sq, chan);
	unsigned n = 0;

	for (const struct vm_sleeper *vs = sb->sb_head; vs != NULL; vs = vs->vs_next)
		if (vs->vs_chan == chan)
			n++;
	return n;
}
