// SPDX-License-Identifier: GPL-2.0
/*
 * The check tcp_fastopen_backup_key.sh makes after each run of
 * tcp_fastopen_backup_key ("nstat -az | grep TcpExtTCPFastOpenPassiveFail"
 * must say 0), linked into the test itself so that it runs in the same
 * kernel - inside lx, where no second program can run after the test yet.
 *
 * tests/selftests/build.sh links it with -Wl,--wrap=main: the C runtime's
 * call of main() comes here, the test's own main() runs, and if it
 * succeeded the counter is read from /proc/net/netstat (the counters of
 * the caller's network namespace).  Exit status 1 if the counter is not 0
 * or cannot be read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int __real_main(int argc, char **argv);
int __wrap_main(int argc, char **argv);

#define COUNTER_GROUP	"TcpExt:"
#define COUNTER_NAME	"TCPFastOpenPassiveFail"

/* The counter's value, or -1 if /proc/net/netstat does not have it. */
static long long read_counter(void)
{
	static char names[8192], values[8192];
	char *n, *v, *ns, *vs;
	long long ret = -1;
	FILE *f;

	f = fopen("/proc/net/netstat", "r");
	if (!f) {
		perror("netstat_check: /proc/net/netstat");
		return -1;
	}
	/* the file is pairs of lines: "Group: names..." "Group: values..." */
	while (fgets(names, sizeof(names), f) &&
	       fgets(values, sizeof(values), f)) {
		if (strncmp(names, COUNTER_GROUP, strlen(COUNTER_GROUP)) ||
		    strncmp(values, COUNTER_GROUP, strlen(COUNTER_GROUP)))
			continue;
		n = strtok_r(names, " \n", &ns);
		v = strtok_r(values, " \n", &vs);
		while ((n = strtok_r(NULL, " \n", &ns)) &&
		       (v = strtok_r(NULL, " \n", &vs))) {
			if (!strcmp(n, COUNTER_NAME)) {
				ret = strtoll(v, NULL, 10);
				break;
			}
		}
		break;
	}
	fclose(f);
	return ret;
}

int __wrap_main(int argc, char **argv)
{
	int ret = __real_main(argc, argv);
	long long val;

	if (ret)
		return ret;
	fflush(stdout);
	val = read_counter();
	printf("netstat_check: TcpExt%s %lld\n", COUNTER_NAME, val);
	if (val != 0) {
		printf("FAIL: TcpExt%s %s\n", COUNTER_NAME,
		       val < 0 ? "not found" : "non-zero");
		return 1;
	}
	return 0;
}
