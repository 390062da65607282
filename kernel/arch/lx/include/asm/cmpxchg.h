/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LX_CMPXCHG_H
#define _ASM_LX_CMPXCHG_H

/*
 * Real (lock-prefixed) atomics: kernel memory is shared with host threads
 * and processes that do not hold the CPU.
 */
#define arch_xchg(ptr, v) __atomic_exchange_n((ptr), (v), __ATOMIC_SEQ_CST)

#define arch_cmpxchg(ptr, o, n)						\
({									\
	__typeof__(*(ptr)) __old = (o);					\
	__atomic_compare_exchange_n((ptr), &__old, (n), 0,		\
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);\
	__old;								\
})

#define arch_cmpxchg_local arch_cmpxchg
#define arch_cmpxchg64 arch_cmpxchg
#define arch_cmpxchg64_local arch_cmpxchg

#endif
