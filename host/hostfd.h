/* SPDX-License-Identifier: GPL-2.0 */
/* hostfd.h - the host ops of hostfd files, for host.c's ops table. */
#ifndef _LX_HOST_HOSTFD_H
#define _LX_HOST_HOSTFD_H

int lx_hostfd_fd_reopen(int fd, int acc);
/* Keep this process's /proc/self/fd open for reopening (a sandbox has no
 * /proc); 0 or -errno. */
int lx_hostfd_keep_proc(void);
/* A forked process has no business with the home's /proc/self/fd. */
void lx_hostfd_forget_proc(void);
long lx_hostfd_fd_io(int fd, void *iov, int cnt, int write, long long pos,
		     unsigned int flags);
int lx_hostfd_fd_poll(int fd, int events);
void lx_hostfd_fd_arm(int fd, int slot, int events);
long lx_hostfd_fd_ioctl(int fd, unsigned int cmd, unsigned long arg);
int lx_hostfd_fd_stat(int fd, void *st);
void lx_hostfd_fd_close(int fd);
long long lx_hostfd_fd_seek(int fd, long long off, int whence);

/* The home process's poller: started before boot, stopped at halt. */
int lx_hostfd_start(void);
void lx_hostfd_stop(void);

#endif
