# cairn-datastore with its third-party libraries linked statically (gRPC, protobuf, abseil,
# dqlite, raft, libuv, SQLite, OpenSSL, re2, c-ares, upb, zlib, libstdc++); glibc (and liblz4,
# which Debian ships without an archive) stay shared.
#
# Why: on a node the datastore is the last service ready, and with 63 shared objects its
# exec spent more time in the dynamic loader than in main(): ~18k symbol relocations plus
# every library's symbol tables and relocated pages read cold through dm-verity. Under QEMU
# TCG (the boot benchmark, docs/image.md "Boot time") that was 1.1-4.5 s before main(); the
# static binary starts in 0.9-1.2 s at the same host load. The static archives are Debian's
# own (the -dev packages ship them), so nothing new is built from source.
#
# The archives go right after cairn's own libraries, in one linker group; the shared objects
# the pkg-config targets still name come later and, with --as-needed, are dropped because
# nothing is left for them to resolve. The POST_BUILD check fails the build if one of them
# is still NEEDED (two copies of gRPC's global state in one process would be a real bug).
#
# Sets CAIRN_DATASTORE_STATIC_LIBS (link items) or leaves it empty when an archive is missing
# (then the binary stays dynamically linked, with a message saying which one).
find_package(PkgConfig REQUIRED)
pkg_check_modules(CAIRN_DS_STATIC QUIET grpc++ protobuf dqlite)
set(CAIRN_DATASTORE_STATIC_LIBS "")
set(_archives "")
set(_shared "")
set(_missing "")
# raft compresses snapshots with lz4 (its .pc file does not say so for static links).
foreach(_name IN LISTS CAIRN_DS_STATIC_STATIC_LIBRARIES ITEMS ssl crypto lz4)
  if(_name MATCHES "^(pthread|dl|rt|m|c|atomic)$")
    list(APPEND _shared "-l${_name}")
    continue()
  endif()
  set(_file "lib${_name}.a")
  if(_name STREQUAL "uv")
    set(_file "libuv_a.a")  # Debian's name for libuv's archive
  endif()
  find_library(CAIRN_DS_ARCHIVE_${_name} NAMES ${_file} NO_CACHE)
  if(CAIRN_DS_ARCHIVE_${_name})
    list(APPEND _archives "${CAIRN_DS_ARCHIVE_${_name}}")
  elseif(_name STREQUAL "lz4")
    # No archive without liblz4-dev (not a build dependency): the runtime library is fine.
    find_library(CAIRN_DS_LZ4 NAMES lz4 liblz4.so.1 NO_CACHE)
    if(CAIRN_DS_LZ4)
      list(APPEND _shared "${CAIRN_DS_LZ4}")
    else()
      list(APPEND _missing "liblz4")
    endif()
  else()
    list(APPEND _missing "${_file}")
  endif()
endforeach()
list(REMOVE_DUPLICATES _archives)
list(REMOVE_DUPLICATES _shared)
if(NOT CAIRN_DS_STATIC_FOUND)
  message(STATUS "cairn-datastore: dynamically linked (pkg-config found no grpc++/protobuf/dqlite)")
elseif(_missing)
  message(STATUS "cairn-datastore: dynamically linked (no static archive: ${_missing})")
else()
  set(CAIRN_DATASTORE_STATIC_LIBS -Wl,--start-group ${_archives} -Wl,--end-group ${_shared})
  # Shared objects of these libraries must not be NEEDED by the result (see above).
  set(CAIRN_DATASTORE_STATIC_FORBIDDEN
      "lib(grpc|gpr|upb|address_sorting|protobuf|absl_|dqlite|raft|uv|sqlite3|ssl|crypto|re2|cares|z|stdc\\+\\+)[.]")
endif()
