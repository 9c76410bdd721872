#!/bin/sh
# The LAN bench's sandbox: runs CMD in a fresh user + network + mount + PID namespace.
#
#   unshare -rnm --propagation private --pid --fork --kill-child sh test/lan/sandbox.sh CMD...
#
# Inside, the network namespace has nothing but `lo` and no route, so no packet can leave the
# machine; /run/netns is a private tmpfs, so the namespaces the bench creates are invisible to the
# host; CMD is PID 1 of the PID namespace, so when it exits (or unshare is killed) the kernel kills
# every process the bench started, and the namespaces vanish with them. Works as root and, where
# unprivileged user namespaces are allowed, as an ordinary user (see
# ../shared/notes/containers-and-netns.md §3.5).
set -eu

# Refuse to go on unless this is a fresh network namespace: never touch the machine's own.
links=$(ip -o link show | wc -l)
routes=$(ip -4 route show | wc -l)
if [ "$links" -ne 1 ] || [ "$routes" -ne 0 ]; then
  echo "sandbox.sh: not in a fresh network namespace ($links links, $routes routes); run me under unshare -rnm" >&2
  exit 70
fi

if [ -d /run/netns ]; then
  mount -t tmpfs -o mode=0755 glacis-lan /run/netns
else
  # /run/netns does not exist and may not be creatable: hide /run behind a private tmpfs instead.
  mount -t tmpfs -o mode=0755 glacis-lan /run
  mkdir /run/netns
fi
ip link set lo up
exec "$@"
