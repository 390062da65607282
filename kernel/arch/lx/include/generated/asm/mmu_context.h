#include <asm-generic/mmu_context.h>
