#include <asm-generic/percpu.h>
