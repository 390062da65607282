#include <asm-generic/spinlock.h>
