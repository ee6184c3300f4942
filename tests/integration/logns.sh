# logns.sh: run a command in a private mount namespace whose /dev is a
# fresh tmpfs holding only null, zero, random and urandom (bound from the
# real /dev), so that /dev/log is certainly absent whatever the host has;
# with NS_SYSLOG set, /dev/log is a symlink to that socket instead (as
# systemd-journald's is).  The command is exec'd, so its pid is the one
# `unshare` had.  Usage (root): unshare -m --propagation private \
#     bash logns.sh OLDDEV CMD...
set -e
old=$1
shift
mkdir -p "$old"
mount --bind /dev "$old"
mount -t tmpfs -o mode=755 xlicen-dev /dev
for n in null zero random urandom; do
	: >"/dev/$n"
	mount --bind "$old/$n" "/dev/$n"
done
[ -z "${NS_SYSLOG:-}" ] || ln -s "$NS_SYSLOG" /dev/log
exec "$@"
