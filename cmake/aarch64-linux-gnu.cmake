# Cross-compiling cairn's own binaries for arm64 images with Debian's toolchain
# (gcc-aarch64-linux-gnu, g++-aarch64-linux-gnu: their C library and libstdc++ live in
# /usr/aarch64-linux-gnu). The other arm64 libraries (libseccomp, libcap, toml++ headers, ...)
# come from CAIRN_ARM64_SYSROOT: a tree of arm64 Debian -dev packages extracted by mmdebstrap
# (scripts/cross-arm64.sh makes it; the host's apt sources are never touched). That tree holds
# no libc headers, so it is added as an extra include/library root, not as --sysroot.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

if(NOT CAIRN_ARM64_SYSROOT AND DEFINED ENV{CAIRN_ARM64_SYSROOT})
  set(CAIRN_ARM64_SYSROOT $ENV{CAIRN_ARM64_SYSROOT})
endif()
# try_compile projects re-read this file: hand them the variable.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES CAIRN_ARM64_SYSROOT)

set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
if(CAIRN_ARM64_SYSROOT)
  list(APPEND CMAKE_FIND_ROOT_PATH ${CAIRN_ARM64_SYSROOT})
  set(_arm64_flags "-isystem ${CAIRN_ARM64_SYSROOT}/usr/include -isystem ${CAIRN_ARM64_SYSROOT}/usr/include/aarch64-linux-gnu")
  set(CMAKE_C_FLAGS_INIT "${_arm64_flags}")
  set(CMAKE_CXX_FLAGS_INIT "${_arm64_flags}")
  # -rpath-link: the linker must find the libraries those libraries need (libgrpc++ ->
  # libgrpc -> abseil, re2, c-ares, ...) in the sysroot too; they are never named with -l.
  set(_arm64_libdirs ${CAIRN_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu ${CAIRN_ARM64_SYSROOT}/lib/aarch64-linux-gnu)
  list(JOIN _arm64_libdirs ":" _arm64_rpath_link)
  set(_arm64_ldflags "-L${CAIRN_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu -L${CAIRN_ARM64_SYSROOT}/lib/aarch64-linux-gnu -Wl,-rpath-link,${_arm64_rpath_link}")
  set(CMAKE_EXE_LINKER_FLAGS_INIT "${_arm64_ldflags}")
  set(CMAKE_SHARED_LINKER_FLAGS_INIT "${_arm64_ldflags}")
  set(ENV{PKG_CONFIG_LIBDIR} ${CAIRN_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${CAIRN_ARM64_SYSROOT}/usr/share/pkgconfig)
  set(ENV{PKG_CONFIG_SYSROOT_DIR} ${CAIRN_ARM64_SYSROOT})
else()
  set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
endif()
# Programs run on the build host: protoc and grpc_cpp_plugin are the host's (x86_64) ones
# (datastore/proto/CMakeLists.txt checks their version against the sysroot's protobuf).
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
