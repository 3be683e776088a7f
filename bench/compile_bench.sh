#!/bin/sh
# Time to compile all of Debian's profiles (apparmor, apparmor-profiles,
# apparmor-profiles-extra): capgate check side by side with
# apparmor_parser -Q -K (compile, no kernel load, no cache) on the same
# files, in one hyperfine run. Run by hand as root after `make`.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
feat=${FEATURES:-$top/../shared/conformance/apparmor/tst/features_files/features.all}
files=$(find /etc/apparmor.d /usr/share/apparmor/extra-profiles -maxdepth 1 -type f ! -name README | sort | tr '\n' ' ')
echo "$(echo $files | wc -w) profile files"
hyperfine --warmup 1 --runs ${RUNS:-5} \
	-n capgate "$top/build/bin/capgate check -I /etc/apparmor.d $files" \
	-n apparmor_parser "apparmor_parser -Q -K -M $feat -I /etc/apparmor.d $files"
