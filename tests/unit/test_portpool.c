/**
 * @file test_portpool.c  Port pool: bounds, exhaustion, FIFO reuse, double
 *                        put, concurrent get/put
 */

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "core/core.h"
#include "media/media.h"


static void test_bounds(void **state)
{
	struct portpool *pp = NULL;
	(void)state;

	assert_int_equal(EINVAL, portpool_alloc(NULL, 30000, 30009));
	assert_int_equal(EINVAL, portpool_alloc(&pp, 0, 30009));
	assert_int_equal(EINVAL, portpool_alloc(&pp, 30010, 30000));
	assert_int_equal(EINVAL, portpool_alloc(&pp, 30000, 30000));
	assert_int_equal(EINVAL, portpool_alloc(&pp, 30001, 30002));
	assert_int_equal(EINVAL, portpool_alloc(&pp, 65535, 65535));
	assert_null(pp);

	/* the defaults: 20000-27999 */
	assert_int_equal(0, portpool_alloc(&pp, 20000, 27999));
	assert_int_equal(4000, portpool_capacity(pp));
	assert_int_equal(4000, portpool_free_count(pp));
	pp = mem_deref(pp);

	/* odd min is rounded up, RTCP may use an odd max */
	assert_int_equal(0, portpool_alloc(&pp, 30001, 30009));
	assert_int_equal(4, portpool_capacity(pp)); /* 30002 .. 30008 */
	pp = mem_deref(pp);

	/* even max: 30010 cannot be RTP, 30011 is outside */
	assert_int_equal(0, portpool_alloc(&pp, 30000, 30010));
	assert_int_equal(5, portpool_capacity(pp)); /* 30000 .. 30008 */
	pp = mem_deref(pp);

	assert_int_equal(0, portpool_alloc(&pp, 30000, 30001));
	assert_int_equal(1, portpool_capacity(pp));
	pp = mem_deref(pp);

	/* the top of the port space */
	assert_int_equal(0, portpool_alloc(&pp, 65530, 65535));
	assert_int_equal(3, portpool_capacity(pp)); /* 65530 .. 65534 */
	pp = mem_deref(pp);

	assert_int_equal(0, portpool_capacity(NULL));
	assert_int_equal(0, portpool_free_count(NULL));
}


static void test_exhaustion(void **state)
{
	struct portpool *pp = NULL;
	bool seen[5] = { false };
	uint16_t port;
	(void)state;

	assert_int_equal(0, portpool_alloc(&pp, 30001, 30011));
	assert_int_equal(5, portpool_capacity(pp)); /* 30002 .. 30010 */

	for (int i = 0; i < 5; i++) {
		assert_int_equal(0, portpool_get(pp, &port));
		assert_int_equal(0, port % 2);
		assert_in_range(port, 30002, 30010);
		assert_false(seen[(port - 30002) / 2]);
		seen[(port - 30002) / 2] = true;
		assert_int_equal(4 - i, portpool_free_count(pp));
	}

	assert_int_equal(ENOSPC, portpool_get(pp, &port));
	assert_int_equal(ENOSPC, portpool_get(pp, &port));

	portpool_put(pp, 30006);
	assert_int_equal(1, portpool_free_count(pp));
	assert_int_equal(0, portpool_get(pp, &port));
	assert_int_equal(30006, port);
	assert_int_equal(ENOSPC, portpool_get(pp, &port));

	assert_int_equal(EINVAL, portpool_get(NULL, &port));
	assert_int_equal(EINVAL, portpool_get(pp, NULL));

	mem_deref(pp);
}


static void test_fifo(void **state)
{
	struct portpool *pp = NULL;
	uint16_t a, b, port;
	(void)state;

	assert_int_equal(0, portpool_alloc(&pp, 30000, 30009)); /* 5 pairs */

	assert_int_equal(0, portpool_get(pp, &a));
	assert_int_equal(30000, a);
	assert_int_equal(0, portpool_get(pp, &b));
	assert_int_equal(30002, b);

	/* a freed port is not the next one handed out */
	portpool_put(pp, a);
	assert_int_equal(0, portpool_get(pp, &port));
	assert_int_equal(30004, port);
	assert_int_equal(0, portpool_get(pp, &port));
	assert_int_equal(30006, port);
	portpool_put(pp, b);
	assert_int_equal(0, portpool_get(pp, &port));
	assert_int_equal(30008, port);

	/* ... it comes back in the order it was returned */
	assert_int_equal(0, portpool_get(pp, &port));
	assert_int_equal(30000, port);
	assert_int_equal(0, portpool_get(pp, &port));
	assert_int_equal(30002, port);
	assert_int_equal(ENOSPC, portpool_get(pp, &port));

	mem_deref(pp);
}


static void test_bad_put(void **state)
{
	struct portpool *pp = NULL;
	uint16_t port, other;
	(void)state;

	assert_int_equal(0, portpool_alloc(&pp, 30000, 30009));
	assert_int_equal(0, portpool_get(pp, &port));
	assert_int_equal(4, portpool_free_count(pp));

	portpool_put(pp, port);
	assert_int_equal(5, portpool_free_count(pp));

	/* double put: ignored, the pair is in the ring only once */
	portpool_put(pp, port);
	assert_int_equal(5, portpool_free_count(pp));

	/* never taken, odd, below, above: ignored */
	portpool_put(pp, 30004);
	portpool_put(pp, 30001);
	portpool_put(pp, 29998);
	portpool_put(pp, 30010);
	portpool_put(NULL, 30000);
	assert_int_equal(5, portpool_free_count(pp));

	/* and every pair is still handed out exactly once */
	for (int i = 0; i < 5; i++) {
		assert_int_equal(0, portpool_get(pp, &other));
		assert_in_range(other, 30000, 30008);
	}
	assert_int_equal(ENOSPC, portpool_get(pp, &other));

	mem_deref(pp);
}


enum {
	THREADS = 4,
	ROUNDS = 20000,
	SMOKE_MIN = 40000,
	SMOKE_PAIRS = 16,
};

struct smoke {
	struct portpool *pp;
	atomic_int owner[SMOKE_PAIRS];
	atomic_int clashes;
	atomic_int gets;
};


static void *smoke_thread(void *arg)
{
	struct smoke *sm = arg;
	uint16_t held[3];

	for (int r = 0; r < ROUNDS; r++) {
		int n = 0;

		/* take up to three, check nobody else holds them, give back */
		for (int k = 0; k < 3; k++) {
			uint16_t port;
			int idx;

			if (portpool_get(sm->pp, &port))
				continue;

			atomic_fetch_add(&sm->gets, 1);
			idx = (port - SMOKE_MIN) / 2;
			if (atomic_exchange(&sm->owner[idx], 1))
				atomic_fetch_add(&sm->clashes, 1);
			held[n++] = port;
		}

		for (int k = 0; k < n; k++) {
			atomic_store(&sm->owner[(held[k] - SMOKE_MIN) / 2], 0);
			portpool_put(sm->pp, held[k]);
		}
	}

	return NULL;
}


static void test_threads(void **state)
{
	struct smoke sm;
	pthread_t tid[THREADS];
	(void)state;

	memset(&sm, 0, sizeof(sm));
	assert_int_equal(0, portpool_alloc(&sm.pp, SMOKE_MIN,
					   SMOKE_MIN + 2 * SMOKE_PAIRS - 1));
	assert_int_equal(SMOKE_PAIRS, portpool_capacity(sm.pp));

	for (int i = 0; i < THREADS; i++)
		assert_int_equal(0, pthread_create(&tid[i], NULL, smoke_thread,
						   &sm));
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(0, pthread_join(tid[i], NULL));

	assert_int_equal(0, atomic_load(&sm.clashes));
	assert_true(atomic_load(&sm.gets) > ROUNDS);
	assert_int_equal(SMOKE_PAIRS, portpool_free_count(sm.pp));

	mem_deref(sm.pp);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_bad_put),
		cmocka_unit_test(test_threads),
	};

	log_setup(LOG_LVL_ERROR, LOG_TARGET_STDERR);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
