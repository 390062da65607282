// SPDX-License-Identifier: GPL-2.0
/* arch/lx's assembly needs no structure offsets. */
#include <linux/kbuild.h>

int main(void)
{
	return 0;
}
