# Packaging: the man page, the shell completions, the deployment examples, and
# the Debian packages CPack builds from the install rules (`make package`,
# scripts/package.sh).
#
# Two install components, one package each:
#   smelt      the binary, the adapters and their data, the native connectors,
#              the man page, the completions, the systemd examples
#   dev        (package smelt-dev) sdk.h, smelt-sdk.pc, ABI.md, the example adapter
# The root CMakeLists.txt sets CMAKE_INSTALL_DEFAULT_COMPONENT_NAME around
# add_subdirectory(sdk) so the SDK's rules land in "dev" and all others in "smelt".
#
# Paths follow Debian when the tree is configured with CMAKE_INSTALL_PREFIX=/usr
# (scripts/package.sh does): GNUInstallDirs then makes CMAKE_INSTALL_LIBDIR
# lib/<multiarch>, so adapters go to /usr/lib/<multiarch>/smelt/adapters.  The
# binary finds its adapters and connectors relative to its own folder
# (host/src/build_config.h.in: ../<SMELT_ADAPTER_SUBDIR>, ../<SMELT_LIBEXEC_SUBDIR>),
# so the packaged layout works only when the build that made the binary used
# the same prefix as the package.  XXX: keep both in step.

set(SMELT_DEB_MAINTAINER "Smelt maintainers <maintainers@users.noreply.b-seed-58233f71.example>"
    CACHE STRING "Maintainer field of the Debian packages")
set(SMELT_DEB_RELEASE 1 CACHE STRING "Debian revision of the packages (the -N of VERSION-N)")
set(SMELT_DEB_VERSION "${PROJECT_VERSION}-${SMELT_DEB_RELEASE}")
set(SMELT_DEV_DOCDIR ${CMAKE_INSTALL_DATADIR}/doc/smelt-dev)

if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(STATUS "Packaging: CMAKE_INSTALL_PREFIX is ${CMAKE_INSTALL_PREFIX}; Debian packages "
                 "want a tree configured with -DCMAKE_INSTALL_PREFIX=/usr (make package does that)")
endif()

# The date of the source: SOURCE_DATE_EPOCH, else the last commit, else now.
# It dates the man page and the Debian changelog, so they only change with the source.
if(NOT DEFINED ENV{SOURCE_DATE_EPOCH})
  find_package(Git QUIET)
  if(GIT_FOUND)
    execute_process(COMMAND ${GIT_EXECUTABLE} log -1 --format=%ct
                    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} OUTPUT_VARIABLE _smelt_epoch
                    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _smelt_git_rc)
    if(_smelt_git_rc EQUAL 0 AND _smelt_epoch MATCHES "^[0-9]+$")
      set(ENV{SOURCE_DATE_EPOCH} ${_smelt_epoch})
    endif()
  endif()
endif()
string(TIMESTAMP SMELT_SOURCE_DATE "%Y-%m-%d" UTC)
string(TIMESTAMP SMELT_SOURCE_DATE_RFC2822 "%a, %d %b %Y %H:%M:%S +0000" UTC)

# ---- the man page: written from the binary's option tables ('smelt help --man', scripts/manpage.sh) ----
set(SMELT_MAN_DIR ${CMAKE_BINARY_DIR}/man/man1)   # a MANPATH entry: man -M build/man smelt
add_custom_command(OUTPUT ${SMELT_MAN_DIR}/smelt.1 ${SMELT_MAN_DIR}/smelt.1.gz
  COMMAND ${CMAKE_COMMAND} -E make_directory ${SMELT_MAN_DIR}
  # A sanitized smelt runs here too; its exit must not depend on leak reports.
  COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=0
          sh ${PROJECT_SOURCE_DIR}/scripts/manpage.sh $<TARGET_FILE:smelt> ${PROJECT_VERSION}
          ${SMELT_SOURCE_DATE} ${SMELT_MAN_DIR}/smelt.1
  COMMAND gzip -9nkf ${SMELT_MAN_DIR}/smelt.1
  DEPENDS smelt ${PROJECT_SOURCE_DIR}/scripts/manpage.sh
  COMMENT "Writing the smelt(1) man page from smelt help --man"
  VERBATIM)

# ---- the Debian changelog, compressed as Debian policy asks (gzip -9n) ----
set(SMELT_DEB_DIR ${CMAKE_BINARY_DIR}/debian)
configure_file(${PROJECT_SOURCE_DIR}/cmake/debian/changelog.in ${SMELT_DEB_DIR}/changelog.Debian @ONLY)
add_custom_command(OUTPUT ${SMELT_DEB_DIR}/changelog.Debian.gz
  COMMAND gzip -9nkf ${SMELT_DEB_DIR}/changelog.Debian
  DEPENDS ${SMELT_DEB_DIR}/changelog.Debian
  VERBATIM)
add_custom_target(smelt_docs ALL DEPENDS ${SMELT_MAN_DIR}/smelt.1.gz ${SMELT_DEB_DIR}/changelog.Debian.gz)

# ---- the smelt package ----
install(FILES ${SMELT_MAN_DIR}/smelt.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT smelt)
install(FILES ${PROJECT_SOURCE_DIR}/completions/smelt.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME smelt COMPONENT smelt)
install(FILES ${PROJECT_SOURCE_DIR}/completions/_smelt
        DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions COMPONENT smelt)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT smelt)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/deploy/systemd/
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/systemd COMPONENT smelt)
# Files only a Debian package carries: EXCLUDE_FROM_ALL keeps them out of a plain
# `cmake --install`, CPack installs them because it asks for the component by name.
install(FILES ${PROJECT_SOURCE_DIR}/cmake/debian/copyright ${SMELT_DEB_DIR}/changelog.Debian.gz
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT smelt EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/cmake/debian/smelt.lintian-overrides
        DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME smelt COMPONENT smelt EXCLUDE_FROM_ALL)

# The files adapters ship (plugins/*/CMakeLists.txt install them beside the .so, in
# <adapter dir>/<adapter>/, where SMELT_PATH_ADAPTER_DATA points) are architecture
# independent, so they move to <datadir>/smelt/<adapter>/ and a relative symbolic link
# stays in their place: adapters still find them with today's code.  This rule must come
# after add_subdirectory(plugins) (policy CMP0082: install rules run in the order written).
install(CODE "
  set(_adapters \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${SMELT_ADAPTER_SUBDIR}\")
  set(_data \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATADIR}/smelt\")
  file(GLOB _entries LIST_DIRECTORIES true \"\${_adapters}/*\")
  foreach(_dir \${_entries})
    if(IS_DIRECTORY \"\${_dir}\" AND NOT IS_SYMLINK \"\${_dir}\")
      get_filename_component(_name \"\${_dir}\" NAME)
      file(REMOVE_RECURSE \"\${_data}/\${_name}\")
      file(MAKE_DIRECTORY \"\${_data}\")
      file(RENAME \"\${_dir}\" \"\${_data}/\${_name}\")
      file(RELATIVE_PATH _link \"\${_adapters}\" \"\${_data}/\${_name}\")
      file(CREATE_LINK \"\${_link}\" \"\${_dir}\" SYMBOLIC)
      message(STATUS \"Moved: \${_data}/\${_name} (linked from \${_dir})\")
    endif()
  endforeach()
" COMPONENT smelt)

# ---- the smelt-dev package ----
install(FILES ${PROJECT_SOURCE_DIR}/sdk/ABI.md DESTINATION ${SMELT_DEV_DOCDIR} COMPONENT dev)
install(FILES ${PROJECT_SOURCE_DIR}/examples/adapter-hello/Makefile
              ${PROJECT_SOURCE_DIR}/examples/adapter-hello/hello.c
        DESTINATION ${SMELT_DEV_DOCDIR}/examples/adapter-hello COMPONENT dev)
install(FILES ${PROJECT_SOURCE_DIR}/cmake/debian/copyright ${SMELT_DEB_DIR}/changelog.Debian.gz
        DESTINATION ${SMELT_DEV_DOCDIR} COMPONENT dev EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/cmake/debian/smelt-dev.lintian-overrides
        DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME smelt-dev COMPONENT dev EXCLUDE_FROM_ALL)

# ---- CPack: one .deb per component ----
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME smelt)
set(CPACK_PACKAGE_VENDOR "Smelt")
set(CPACK_PACKAGE_CONTACT "${SMELT_DEB_MAINTAINER}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL smelt dev)
set(CPACK_COMPONENTS_GROUPING IGNORE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${SMELT_DEB_RELEASE})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${SMELT_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

set(CPACK_DEBIAN_SMELT_PACKAGE_NAME smelt)
set(CPACK_DEBIAN_SMELT_PACKAGE_SECTION utils)
# dpkg-shlibdeps adds the libraries the binaries link; libcurl and libmicrohttpd
# are not among them because the Hub client and `smelt serve` dlopen() them
# (host/src/util/curl_lazy.c: libcurl.so.4 then libcurl-gnutls.so.4;
# host/src/serve/mhd_lazy.c: libmicrohttpd.so.12), so they are named here.
# XXX: keep in step with those sonames.
set(CPACK_DEBIAN_SMELT_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_SMELT_PACKAGE_DEPENDS "libcurl4 | libcurl3-gnutls, libmicrohttpd12")
# Plugins are Python tools installed into virtualenvs (uv when on PATH, else venv).
# libpq5: dlopen()ed only when database_uri names PostgreSQL (host/src/util/pq_lazy.c).
set(CPACK_DEBIAN_SMELT_PACKAGE_RECOMMENDS "python3-venv, ca-certificates, libpq5")
set(CPACK_DEBIAN_SMELT_PACKAGE_SUGGESTS "sqlite3")
set(CPACK_DEBIAN_SMELT_DESCRIPTION "control plane of a data stack
Smelt reads a project file (smelt.yml, or a Meltano project's meltano.yml
unchanged), installs the stack's tools as plugins, one virtualenv each, and
runs them: Singer taps and targets, dbt, Great Expectations and Superset,
with schedules handed to Airflow.  It ships native C Singer connectors
(tap-csv, target-sqlite, target-jsonl) that need no Python.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME smelt-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "smelt (= ${SMELT_DEB_VERSION})")
set(CPACK_DEBIAN_DEV_PACKAGE_RECOMMENDS "pkgconf, gcc | c-compiler")
set(CPACK_DEBIAN_DEV_DESCRIPTION "SDK for writing Smelt adapters
The header smelt/sdk.h and the pkg-config file smelt-sdk are all an adapter
needs: adapters are shared objects built against the header only and never
link the host.  ABI.md lists what each minor version of the ABI added;
examples/adapter-hello is the smallest complete adapter, built out of tree.")

include(CPack)
