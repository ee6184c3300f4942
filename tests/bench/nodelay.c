/*
 * LD_PRELOAD shim for the benchmark: turn on TCP_NODELAY on every TCP
 * socket a program connects or accepts.  MIT's gss-sample writes a token
 * as three write() calls (flag, length, body); without TCP_NODELAY the
 * later writes wait for a delayed ACK and its exchange rate falls from
 * hundreds to about ten per second.  Our own client and server set the
 * option themselves; this puts gss-server and gss-client on the same
 * footing.  Not part of any installed program.
 */
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <sys/socket.h>

/* Best effort: a socket that is not TCP just refuses the option. */
static void
nodelay_set(int fd)
{
	int one = 1, saved = errno;

	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	errno = saved;
}

int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	static int (*real)(int, const struct sockaddr *, socklen_t);
	if (real == NULL &&
	    (real = (int (*)(int, const struct sockaddr *, socklen_t))
	    dlsym(RTLD_NEXT, "connect")) == NULL) {
		errno = ENOSYS;
		return -1;
	}
	/* Before connecting: the HELLO or token that follows goes out at
	 * once even when the connect completes later (non-blocking). */
	if (sa != NULL && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6))
		nodelay_set(fd);
	return real(fd, sa, len);
}

int
accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	static int (*real)(int, struct sockaddr *, socklen_t *);
	int nfd;

	if (real == NULL &&
	    (real = (int (*)(int, struct sockaddr *, socklen_t *))
	    dlsym(RTLD_NEXT, "accept")) == NULL) {
		errno = ENOSYS;
		return -1;
	}
	nfd = real(fd, sa, len);
	nodelay_set(nfd);
	return nfd;
}

int
accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	static int (*real)(int, struct sockaddr *, socklen_t *, int);
	int nfd;

	if (real == NULL &&
	    (real = (int (*)(int, struct sockaddr *, socklen_t *, int))
	    dlsym(RTLD_NEXT, "accept4")) == NULL) {
		errno = ENOSYS;
		return -1;
	}
	nfd = real(fd, sa, len, flags);
	nodelay_set(nfd);
	return nfd;
}
