#!/usr/bin/env bash
# Boots a Linux guest whose kernel mounts a 9P2000.L export from this host over TCP (trans=tcp), runs a
# workload on it and powers off. Debian's own kernel (linux-image-amd64) under qemu's software emulation
# (no KVM needed), with an initramfs made here from busybox-static and the kernel's 9p modules. The
# guest's serial console is this script's standard output: each step prints an `@@ step` line and then
# what it printed.
#
#   Captures/linux-guest.sh PORT ANAME [WORKLOAD]
#
# The guest reaches the host's 127.0.0.1 as 10.0.2.2 (qemu's user-mode network): PORT is a TCP port on
# the host's loopback — `ninescope proxy`, diod or `ninescope serve`. ANAME is the attach name (diod and
# `serve --driver local:DIR` take the export's path). WORKLOAD (see the init script below):
#   files   (default) ls, cat, sha256sum of big.bin, create, write, mkdir, mv, symlink, hard link, chmod,
#           touch, rm, readlink, stat, df, umount
#   flush   against `serve --driver synth`: a write to /FLUSH (it blocks until flushed) from a process that
#           is killed, so the kernel sends Tflush; then a listing on the same mount
#   sample  a short session for Captures/linux-guest.pcapng: ls, two cats, create and write, mkdir, mv,
#           rm, rmdir, umount
#   stress  many requests, some at once: copies /bin (a few hundred symlinks), writes four 2.5 MiB files
#           in parallel and checks their sha256, find, tar c and x, truncate, rename, rm -rf (about
#           60,000 messages)
#   dialects  mounts the export three times, with version=9p2000, 9p2000.u and 9p2000.L (a connection
#           each), and on each makes the usual errors (a missing file, an existing directory, a directory
#           not empty, a file walked as a directory) and renames a file (mv): each step's output shows the
#           error the program got, or the renamed file's contents
#   users   mounts with access=user (each user its own attach, n_uname its uid): root writes a file
#           of mode 0600; nobody (busybox su) reads, creates a file, and cannot read root's
#   calls   the calls the others leave out, with a second mount (cache=mmap, locktimeout=1: its own
#           connection): fcntl and flock locks taken through one mount and waited for through the other,
#           xattrs, a shared mmap written and msync'd, fsync and fdatasync, O_DIRECT, a file read and
#           written after its unlink, a directory of 600 names of 230 bytes (more than one Rreaddir)
#           listed and removed, a path of 20 names walked by another user (a Twalk of 16 names and one
#           of 4), names of 255 and 256 bytes and UTF-8, mkfifo and mknod, touch -d, truncate down and
#           up, a hard link across directories, mv over a file and across directories, df. The calls
#           busybox has no applet for are Captures/linux-guest-probe.c, built static here (needs a C
#           compiler and a static libc)
#   faults  through `proxy --fault error=Tmkdir:ENOSPC,delay=Tread:300ms,hang=Twrite`: a mkdir the proxy
#           refuses, a cat whose reads it holds back, a write it hangs from a process that is killed (the
#           kernel flushes it), a listing after
# GUEST_MOUNT_OPTIONS adds options to the mount's own (e.g. cache=loose, cache=mmap; comma-separated, no
# spaces), to see how the kernel's caching modes change its traffic.
# Needs qemu-system-x86, linux-image-amd64 and busybox-static, and for `calls` gcc and libc6-dev (`make test`
# installs them). Used by Tests/IntegrationTests/KernelClientTests.swift and Captures/make-samples.sh.
set -euo pipefail
if [ $# -lt 2 ]; then echo "usage: $0 PORT ANAME [files|flush|sample|stress|dialects|users|faults|calls]" >&2; exit 2; fi
PORT=$1; ANAME=$2; WORKLOAD=${3:-files}
case "$WORKLOAD" in files|flush|sample|stress|dialects|users|faults|calls) ;; *) echo "linux-guest: unknown workload '$WORKLOAD'" >&2; exit 2;; esac
QEMU=$(command -v qemu-system-x86_64) || { echo "linux-guest: qemu-system-x86_64 is not installed (qemu-system-x86)" >&2; exit 1; }
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || { echo "linux-guest: busybox is not installed (busybox-static)" >&2; exit 1; }

# The newest kernel that has the 9p modules.
KERNEL=""; MODULES=""
for dir in $(ls -d /lib/modules/*/ 2>/dev/null | sort -rV); do
  v=$(basename "$dir")
  if [ -f "/boot/vmlinuz-$v" ] && [ -n "$(find "$dir" -name '9p.ko*' -print -quit)" ]; then KERNEL=/boot/vmlinuz-$v; MODULES=$dir; break; fi
done
[ -n "$KERNEL" ] || { echo "linux-guest: no kernel with 9p modules in /boot and /lib/modules (linux-image-amd64)" >&2; exit 1; }
[ -r "$KERNEL" ] || { echo "linux-guest: $KERNEL is not readable by this user (Debian installs it mode 0600)" >&2; exit 1; }

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/ninescope-guest.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/root/bin" "$STAGE/root/lib" "$STAGE/root/proc" "$STAGE/root/sys" "$STAGE/root/dev" "$STAGE/root/mnt" "$STAGE/root/etc"
printf 'root:x:0:0::/:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n' > "$STAGE/root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$STAGE/root/etc/group"
cp "$BUSYBOX" "$STAGE/root/bin/busybox"
if [ "$WORKLOAD" = calls ]; then
  ${CC:-cc} -static -O2 -o "$STAGE/root/bin/probe" "$(dirname "$0")/linux-guest-probe.c" ||
    { echo "linux-guest: cannot build linux-guest-probe.c static (a C compiler and libc6-dev)" >&2; exit 1; }
fi
ln -s busybox "$STAGE/root/bin/sh"
# Loaded in this order; a module built into the kernel is simply not found. 9pnet_fd holds the tcp transport.
for m in e1000 netfs fscache 9pnet 9pnet_fd 9p; do
  f=$(find "$MODULES" -name "$m.ko*" -print -quit)
  [ -n "$f" ] || continue
  case "$f" in
    *.xz) xz -dc "$f" ;; *.zst) zstd -dc "$f" ;; *.gz) gzip -dc "$f" ;; *) cat "$f" ;;
  esac > "$STAGE/root/lib/$m.ko"
done

cat > "$STAGE/root/init" <<'INIT'
#!/bin/sh
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
export PATH=/bin
mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in e1000 netfs fscache 9pnet 9pnet_fd 9p; do [ -f /lib/$m.ko ] && insmod /lib/$m.ko; done
arg() { tr ' ' '\n' < /proc/cmdline | sed -n "s/^$1=//p"; }
PORT=$(arg ninep_port); ANAME=$(arg ninep_aname); WORK=$(arg ninep_work); EXTRA=$(arg ninep_opts)
ip link set lo up; ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0; ip route add default via 10.0.2.2
[ "$WORK" = users ] && EXTRA=access=user${EXTRA:+,$EXTRA}
echo "@@ mount 10.0.2.2:$PORT $ANAME $WORK${EXTRA:+ $EXTRA}"
if [ "$WORK" = dialects ]; then
  for V in 9p2000 9p2000.u 9p2000.L; do
    M=/m/$V; D=$M/d-$V; mkdir -p $M
    if ! mount -t 9p -o trans=tcp,port=$PORT,version=$V,aname=$ANAME,msize=65536${EXTRA:+,$EXTRA} 10.0.2.2 $M; then
      echo "@@ $V:mount-failed"; dmesg | tail -4; continue
    fi
    echo "@@ $V:mounted"
    echo "@@ $V:enoent"; cat $M/missing 2>&1
    echo "@@ $V:mkdir"; mkdir $D 2>&1 && echo made
    echo "@@ $V:eexist"; mkdir $D 2>&1
    echo "in-$V" > $D/f
    echo "@@ $V:enotempty"; rmdir $D 2>&1
    echo "@@ $V:enotdir"; cat $D/f/x 2>&1
    echo "@@ $V:cat"; cat $D/f
    echo "@@ $V:mv"; mv $D/f $D/g 2>&1 && cat $D/g
    rm -f $D/f $D/g; rmdir $D
    echo "@@ $V:ls"; ls -1 $M
    umount $M && echo "@@ $V:unmounted"
  done
elif ! mount -t 9p -o trans=tcp,port=$PORT,version=9p2000.L,aname=$ANAME,msize=131072${EXTRA:+,$EXTRA} 10.0.2.2 /mnt; then
  echo "@@ mount-failed"; dmesg | tail -8
elif [ "$WORK" = flush ]; then
  echo "@@ mounted"
  printf x 1<>/mnt/FLUSH &
  W=$!; sleep 2; kill $W; wait $W; echo "@@ killed $?"
  echo "@@ after"; ls -1 /mnt/ReadDirDir | wc -l
  umount /mnt && echo "@@ unmounted"
elif [ "$WORK" = users ]; then
  # access=user: each user its own Tattach (n_uname its uid); root and nobody, whom every host knows.
  echo "@@ mounted"
  echo "@@ root"; id -u; echo by-root > /mnt/root.txt; chmod 600 /mnt/root.txt; ls -ln /mnt/root.txt | awk '{print $1, $3}'
  echo "@@ nobody"; su -s /bin/sh nobody -c "id -u; cat /mnt/hello.txt; echo by-nobody > /mnt/nobody.txt; ls -ln /mnt/nobody.txt | awk '{print \$3}'"
  echo "@@ denied"; su -s /bin/sh nobody -c 'cat /mnt/root.txt' 2>&1
  echo "@@ owner"; cat /mnt/root.txt
  umount /mnt && echo "@@ unmounted"
elif [ "$WORK" = faults ]; then
  # Against a proxy with --fault error=Tmkdir:ENOSPC,delay=Tread:300ms,hang=Twrite in front of a real server.
  echo "@@ mounted"
  echo "@@ mkdir"; mkdir /mnt/made 2>&1 || true
  echo "@@ cat"; cat /mnt/hello.txt
  printf x > /mnt/hung.txt &
  W=$!; sleep 2; kill $W; wait $W; echo "@@ killed $?"
  echo "@@ after"; ls -1 /mnt | sort | tr '\n' ' '; echo
  umount /mnt && echo "@@ unmounted"
elif [ "$WORK" = calls ]; then
  echo "@@ mounted"
  mkdir -p /m2
  mount -t 9p -o trans=tcp,port=$PORT,version=9p2000.L,aname=$ANAME,msize=131072,cache=mmap,locktimeout=1 10.0.2.2 /m2 &&
    echo "@@ second" || echo "@@ second-failed"
  echo "@@ locks"; probe locks /mnt/locked /m2/locked
  echo "@@ xattr"; echo x > /mnt/attrs; probe xattr /mnt/attrs
  echo "@@ mmap"; probe mmap /m2/mapped
  echo "@@ mapped"; head -c 11 /mnt/mapped; echo; dd if=/mnt/mapped bs=1 skip=5000 count=11 2>/dev/null; echo
  echo "@@ fsync"; probe fsync /mnt/synced; cat /mnt/synced
  echo "@@ direct"; probe direct /mnt/direct
  echo "@@ unlinked"; probe unlinked /mnt/gone; ls /mnt/gone 2>&1
  L=$(printf '%0226d' 0 | tr 0 n); mkdir /mnt/many
  for i in $(seq 1000 1599); do printf "" > /mnt/many/$L$i; done
  echo "@@ bigdir"; ls /mnt/many > /listed; wc -l < /listed; sort -u /listed | wc -l
  echo "@@ rmbig"; rm -r /mnt/many 2>&1 | head -3; ls /mnt | grep -c '^many$'
  D=/mnt/d01; for i in 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16 17 18 19 20; do D=$D/d$i; done
  mkdir -p $D; echo deep > $D/f
  echo "@@ deep"; (cd $D && su -s /bin/sh nobody -c 'cat f; ls')
  N=$(printf '%0255d' 0 | tr 0 a)
  echo "@@ long"; echo long > /mnt/$N && cat /mnt/$N; ls /mnt | grep -c "^$N\$"
  echo "@@ toolong"; echo x 2>&1 > /mnt/${N}b
  echo "@@ utf8"; echo utf > "/mnt/ünï-名前-🙂"; find /mnt -maxdepth 1 -name '*名前*'; cat "/mnt/ünï-名前-🙂"
  echo "@@ special"; mkfifo /mnt/fifo; mknod /mnt/null c 1 3; stat -c '%F %t,%T' /mnt/fifo /mnt/null
  echo "@@ times"; touch -d '2001-02-03 04:05:06' /mnt/hello.txt; stat -c %Y /mnt/hello.txt
  echo "@@ truncate"; echo abcdefgh > /mnt/t; truncate -s 3 /mnt/t; cat /mnt/t; echo
  truncate -s 100000 /mnt/t; stat -c %s /mnt/t; tail -c 5 /mnt/t | od -An -tx1
  echo "@@ links"; mkdir /mnt/a /mnt/b; echo linked > /mnt/a/f; ln /mnt/a/f /mnt/b/g; stat -c %h /mnt/a/f; cat /mnt/b/g
  echo "@@ rename"; echo old > /mnt/b/over; mv -f /mnt/a/f /mnt/b/over; cat /mnt/b/over; stat -c %h /mnt/b/g
  mkdir /mnt/a/sub; echo in-sub > /mnt/a/sub/x; mv /mnt/a/sub /mnt/b/; cat /mnt/b/sub/x; ls /mnt/a | wc -l
  echo "@@ df"; df /mnt | tail -1
  umount /m2 && echo "@@ unmounted-second"
  umount /mnt && echo "@@ unmounted"
elif [ "$WORK" = stress ]; then
  echo "@@ mounted"
  mkdir /mnt/s; cp -a /bin /mnt/s/bin
  echo "@@ copied"; echo "$(ls /mnt/s/bin | wc -l) of $(ls /bin | wc -l)"
  for i in 1 2 3 4; do (dd if=/dev/urandom of=/mnt/s/r$i bs=65536 count=40 2>/dev/null; sha256sum /mnt/s/r$i > /mnt/s/r$i.sum) & done
  wait
  echo "@@ parallel"; for i in 1 2 3 4; do sha256sum -c /mnt/s/r$i.sum; done
  echo "@@ find"; find /mnt/s | wc -l
  echo "@@ tar"; tar cf /mnt/s/t.tar -C /mnt/s bin && tar tf /mnt/s/t.tar | wc -l
  mkdir /mnt/s/x; tar xf /mnt/s/t.tar -C /mnt/s/x
  echo "@@ untar"; ls /mnt/s/x/bin | wc -l
  echo "@@ trunc"; dd if=/dev/zero of=/mnt/s/r3 bs=1 count=0 seek=1000 2>/dev/null; stat -c %s /mnt/s/r3
  echo "@@ rename"; for i in 1 2 3 4; do mv /mnt/s/r$i /mnt/s/m$i; done; ls /mnt/s | tr '\n' ' '; echo
  echo "@@ rm"; rm -rf /mnt/s; ls /mnt | tr '\n' ' '; echo
  sync
  umount /mnt && echo "@@ unmounted"
elif [ "$WORK" = sample ]; then
  echo "@@ mounted"
  echo "@@ ls"; ls -1 /mnt
  echo "@@ cat"; cat /mnt/hello.txt /mnt/sub/deeper/n.txt
  echo written-by-linux > /mnt/new.txt
  mkdir /mnt/d; mv /mnt/new.txt /mnt/d/moved.txt
  echo "@@ moved"; cat /mnt/d/moved.txt
  rm /mnt/d/moved.txt; rmdir /mnt/d
  umount /mnt && echo "@@ unmounted"
else
  echo "@@ mounted"
  echo "@@ ls"; ls -1 /mnt
  echo "@@ cat"; cat /mnt/hello.txt
  echo "@@ sha"; sha256sum /mnt/big.bin
  echo written-by-guest > /mnt/new.txt
  mkdir /mnt/dir; echo x > /mnt/dir/f; mv /mnt/dir/f /mnt/dir/g
  ln -s new.txt /mnt/link; ln /mnt/new.txt /mnt/hard
  chmod 600 /mnt/new.txt; touch /mnt/dir/g; rm /mnt/dir/g
  echo "@@ readlink"; readlink /mnt/link
  echo "@@ stat"; stat -c '%a %s %h' /mnt/new.txt
  echo "@@ df"; df /mnt | tail -1
  sync
  umount /mnt && echo "@@ unmounted"
fi
echo "@@ end"
poweroff -f
INIT
chmod 755 "$STAGE/root/init"
(cd "$STAGE/root" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null) > "$STAGE/initramfs.cpio"

# A guest that hangs is stopped after GUEST_TIMEOUT seconds (240 by default), so that no qemu outlives
# its caller's patience.
timeout -k 10 "${GUEST_TIMEOUT:-240}" "$QEMU" -accel tcg -m 384 -display none -monitor none -serial stdio -no-reboot \
  -kernel "$KERNEL" -initrd "$STAGE/initramfs.cpio" \
  -append "console=ttyS0 quiet panic=-1 ninep_port=$PORT ninep_aname=$ANAME ninep_work=$WORKLOAD${GUEST_MOUNT_OPTIONS:+ ninep_opts=$GUEST_MOUNT_OPTIONS}" \
  -netdev user,id=n0 -device e1000,netdev=n0 < /dev/null
