# SQLite and libyaml linked into the executables statically when their
# archives are installed (Debian's libsqlite3-dev and libyaml-dev ship
# them): the dynamic loader then has no ~1.4 MB library to map and no
# SQLite symbols to bind lazily on first call, about 1 ms of a tiny
# `smelt run` and 0.35 ms of `smelt --version` (BENCHMARKS.md, round 6).
# Without an archive, or with -DSMELT_STATIC_DEPS=OFF, the shared
# library found by pkg-config is linked as before.
#
# smelt_dep(TARGET PC_PREFIX ARCHIVE_NAME DEPS...) makes TARGET (an
# imported target to link) from the pkg-config result PC_PREFIX
# (pkg_check_modules(... IMPORTED_TARGET)); DEPS are what the archive
# itself needs.
option(SMELT_STATIC_DEPS "link SQLite and libyaml statically when their archives are installed" ON)

function(smelt_dep target prefix archive)
  set(found "")
  if(SMELT_STATIC_DEPS)
    # The archive of the install pkg-config found (its headers are the ones compiled against): only its
    # folder when pkg-config names one, the system's folders when it names none (a system library).
    if(${prefix}_LIBRARY_DIRS)
      find_library(SMELT_${prefix}_ARCHIVE NAMES ${archive} PATHS ${${prefix}_LIBRARY_DIRS} NO_DEFAULT_PATH)
    else()
      find_library(SMELT_${prefix}_ARCHIVE NAMES ${archive})
    endif()
    set(found "${SMELT_${prefix}_ARCHIVE}")
  endif()
  if(found)
    add_library(${target} STATIC IMPORTED GLOBAL)
    set_target_properties(${target} PROPERTIES
      IMPORTED_LOCATION "${found}"
      INTERFACE_INCLUDE_DIRECTORIES "${${prefix}_INCLUDE_DIRS}"
      INTERFACE_LINK_LIBRARIES "${ARGN}")
    message(STATUS "${prefix}: linked statically (${found})")
  else()
    add_library(${target} INTERFACE IMPORTED GLOBAL)
    set_target_properties(${target} PROPERTIES INTERFACE_LINK_LIBRARIES PkgConfig::${prefix})
    message(STATUS "${prefix}: linked as a shared library")
  endif()
endfunction()
