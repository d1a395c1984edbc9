#!/bin/bash
# See qemu-tests/selftest/services/selftest.toml. Results go straight to the console. Only
# bash and coreutils are assumed (the image has no awk).
exec >/dev/console 2>&1
say() { echo "selftest: $1=$2"; }
# mount_of TARGET: "source,fstype,options" of the last mount on TARGET.
mount_of() {
  local src dst type opts rest found=none
  while read -r src dst type opts rest; do
    [ "$dst" = "$1" ] && found="$src,$type,$opts"
  done </proc/mounts
  echo "$found"
}
say pid1_comm "$(cat /proc/1/comm)"
say pid1_exe "$(readlink /proc/1/exe)"
say hostname "$(cat /proc/sys/kernel/hostname)"
say root_mount "$(mount_of /)"
say var_mount "$(mount_of /var)"
say etc_mount "$(mount_of /etc)"
say boot_mount "$(mount_of /boot)"
if touch /usr/selftest-write 2>/dev/null; then say root_write ok; else say root_write refused; fi
mkdir -p /var/lib/selftest
boots=$(cat /var/lib/selftest/boots 2>/dev/null || echo 0)
say previous_boots "$boots"
echo $((boots + 1)) >/var/lib/selftest/boots && sync && say var_write ok
if echo selftest >/etc/selftest-etc 2>/dev/null; then say etc_write ok; else say etc_write refused; fi
say done 1
touch /run/cairn-selftest.done
exec sleep infinity
