#include <asm-generic/atomic.h>
