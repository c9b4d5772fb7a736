/**
 * @file portpool.c  Pool of RTP/RTCP port pairs
 *
 * The pool holds the even ports p of [min, max] with p + 1 <= max; a call
 * side uses p for RTP and p + 1 for RTCP (RFC 3550 11). Free ports sit in a
 * FIFO ring, so a port that was just given back is handed out last: late
 * packets of a finished call do not land in the next one.
 *
 * Locking: the relay worker threads give ports back while the SIP thread
 * takes them, so every access to the ring and to the bitmap of taken ports
 * holds pp->lock. min, cap and the allocations themselves never change
 * after portpool_alloc().
 */

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <re.h>
#include "core/core.h"
#include "media/media.h"

#define DEBUG_MODULE "portpool"


/** A pool of even ports */
struct portpool {
	pthread_mutex_t lock; /**< covers ring, head, count and taken */
	bool lock_ok;	      /**< lock was initialised               */
	uint16_t first;	      /**< lowest even port                   */
	uint32_t cap;	      /**< number of port pairs               */
	uint16_t *ring;	      /**< FIFO of free pair indexes          */
	uint32_t head;	      /**< ring index of the oldest free pair */
	uint32_t count;	      /**< number of free pairs               */
	uint8_t *taken;	      /**< bitmap, one bit per pair index     */
};


static void destructor(void *arg)
{
	struct portpool *pp = arg;

	mem_deref(pp->ring);
	mem_deref(pp->taken);
	if (pp->lock_ok)
		pthread_mutex_destroy(&pp->lock);
}


static bool is_taken(const struct portpool *pp, uint32_t idx)
{
	return (pp->taken[idx / 8] >> (idx % 8)) & 1;
}


static void set_taken(struct portpool *pp, uint32_t idx, bool taken)
{
	const uint8_t bit = (uint8_t)(1u << (idx % 8));

	if (taken)
		pp->taken[idx / 8] |= bit;
	else
		pp->taken[idx / 8] &= (uint8_t)~bit;
}


/**
 * Allocate a port pool
 *
 * @param ppp Pointer to allocated port pool
 * @param min Lowest port of the range (rounded up to an even port)
 * @param max Highest port of the range (an RTCP port may use it)
 *
 * @return 0 if success, EINVAL if the range holds no even port p with
 *         p + 1 <= max, otherwise errorcode
 */
int portpool_alloc(struct portpool **ppp, uint16_t min, uint16_t max)
{
	struct portpool *pp;
	uint32_t first;
	int err;

	if (!ppp || !min)
		return EINVAL;

	first = (uint32_t)min + (min & 1u);
	if (first + 1 > max)
		return EINVAL;

	pp = mem_zalloc(sizeof(*pp), destructor);
	if (!pp)
		return ENOMEM;

	err = pthread_mutex_init(&pp->lock, NULL);
	if (err) {
		mem_deref(pp);
		return err;
	}
	pp->lock_ok = true;

	pp->first = (uint16_t)first;
	pp->cap = ((uint32_t)max - 1 - first) / 2 + 1;
	pp->ring = mem_alloc(pp->cap * sizeof(*pp->ring), NULL);
	pp->taken = mem_zalloc((pp->cap + 7) / 8, NULL);
	if (!pp->ring || !pp->taken) {
		mem_deref(pp);
		return ENOMEM;
	}

	/* Ascending at first; afterwards the order of puts decides. */
	for (uint32_t i = 0; i < pp->cap; i++)
		pp->ring[i] = (uint16_t)i;
	pp->head = 0;
	pp->count = pp->cap;

	*ppp = pp;

	return 0;
}


/**
 * Take the least recently returned port pair
 *
 * @param pp   Port pool
 * @param port Returned even (RTP) port; port + 1 is the RTCP port
 *
 * @return 0 if success, ENOSPC if every pair is in use, otherwise errorcode
 */
int portpool_get(struct portpool *pp, uint16_t *port)
{
	uint32_t idx;

	if (!pp || !port)
		return EINVAL;

	pthread_mutex_lock(&pp->lock);

	if (!pp->count) {
		pthread_mutex_unlock(&pp->lock);
		return ENOSPC;
	}

	idx = pp->ring[pp->head];
	pp->head = (pp->head + 1) % pp->cap;
	--pp->count;
	set_taken(pp, idx, true);

	pthread_mutex_unlock(&pp->lock);

	*port = (uint16_t)(pp->first + 2 * idx);

	return 0;
}


/**
 * Give a port pair back; it goes to the end of the queue
 *
 * A port that is odd, outside the pool or not taken is ignored with a
 * warning, so a double put cannot hand the same pair to two calls.
 *
 * @param pp   Port pool
 * @param port Even port returned by portpool_get()
 */
void portpool_put(struct portpool *pp, uint16_t port)
{
	uint32_t idx;

	if (!pp)
		return;

	if (port < pp->first || (port - pp->first) % 2 ||
	    (uint32_t)(port - pp->first) / 2 >= pp->cap) {
		log_warn("put of port %u outside the pool ignored\n", port);
		return;
	}

	idx = (uint32_t)(port - pp->first) / 2;

	pthread_mutex_lock(&pp->lock);

	if (!is_taken(pp, idx)) {
		pthread_mutex_unlock(&pp->lock);
		log_warn("put of port %u that is not taken ignored\n", port);
		return;
	}

	set_taken(pp, idx, false);
	pp->ring[(pp->head + pp->count) % pp->cap] = (uint16_t)idx;
	++pp->count;

	pthread_mutex_unlock(&pp->lock);
}


/**
 * Count the free port pairs
 *
 * @param pp Port pool
 *
 * @return Number of pairs portpool_get() can still hand out
 */
uint32_t portpool_free_count(struct portpool *pp)
{
	uint32_t n;

	if (!pp)
		return 0;

	pthread_mutex_lock(&pp->lock);
	n = pp->count;
	pthread_mutex_unlock(&pp->lock);

	return n;
}


/**
 * Get the size of the pool
 *
 * @param pp Port pool
 *
 * @return Number of port pairs in the pool
 */
uint32_t portpool_capacity(const struct portpool *pp)
{
	return pp ? pp->cap : 0;
}
