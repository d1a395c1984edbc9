# cairn-datastore's allocator, optionally gperftools' tcmalloc (the "minimal" variant, no
# profiler) linked statically from Debian's libgoogle-perftools-dev into the static release
# binary: -DCAIRN_DATASTORE_TCMALLOC=ON. Off by default.
#
# Why it exists: under `etcdctl check perf --load=l` glibc's malloc/free was ~16% of gRPC's
# request threads (arena locks, consolidation of fragmented bins), and with tcmalloc the
# throughput rose 6-9% at the same CPU per write. Why it is off: the resident size after
# 100,000 keys of 1 KiB went from 182-190 MiB (1.86-1.90x the live data) to 216 MiB (2.21x),
# 214 MiB (2.09x) with TCMALLOC_AGGRESSIVE_DECOMMIT, past the 2x target (docs/benchmarks.md,
# "load l, session 5"). datastore/main/memory.cc finds tcmalloc through weak references to
# its C interface (MallocExtension_*) and then caps the thread caches and releases free spans
# instead of calling malloc_trim.
#
# Never under sanitizers or fuzzing (ASan/UBSan bring their own allocator) nor in the dynamic
# link; the binary then runs on glibc's malloc with the mallopt settings of memory.cc.
# Expects CAIRN_DATASTORE_STATIC_LIBS (static_deps.cmake) to be set already.
option(CAIRN_DATASTORE_TCMALLOC "Link tcmalloc_minimal into the static cairn-datastore" OFF)
if(CAIRN_DATASTORE_TCMALLOC AND CAIRN_DATASTORE_STATIC_LIBS AND NOT CAIRN_SANITIZE
   AND NOT CAIRN_FUZZ)
  find_library(CAIRN_DS_TCMALLOC NAMES libtcmalloc_minimal.a NO_CACHE)
  if(CAIRN_DS_TCMALLOC)
    # Whole archive: every allocation entry point (malloc, new, memalign, malloc_usable_size,
    # the MallocExtension C calls) must come from tcmalloc, none from glibc by accident.
    target_link_libraries(cairn-datastore PRIVATE
                          "-Wl,--whole-archive" ${CAIRN_DS_TCMALLOC} "-Wl,--no-whole-archive")
    message(STATUS "cairn-datastore: allocator tcmalloc (${CAIRN_DS_TCMALLOC})")
  else()
    message(STATUS "cairn-datastore: allocator glibc (no libtcmalloc_minimal.a: install "
                   "libgoogle-perftools-dev for CAIRN_DATASTORE_TCMALLOC)")
  endif()
endif()
