# contrib/debian/cpack.cmake: the Debian packages of gss-xlicen, one per
# install component (see the top-level CMakeLists.txt), made by CPack's DEB
# generator from a tree configured with -DCMAKE_INSTALL_PREFIX=/usr:
# scripts/mkdeb runs it and lintian.  Split by audience as Debian splits
# such projects:
#   gss-xlicend     the server (no X11 dependency), adduser for its user
#   libxlicen0      the client library (section libs)
#   libxlicen-xt0   the Xt glue library
#   libxlicen-dev   headers, .so links, .pc files, libxlicen.a, libxlicen(3)
#   xlicen          the command-line tools xlicen and xlicen-license
#   xlicen-x11      xlicen-xdemo and xlicen-xmon with their app-defaults
# Every package has /usr/share/doc/PACKAGE/copyright and changelog.gz
# (a native package's); contrib/debian/prebuild.cmake compresses the man
# pages and the changelog and strips the static library in CPack's
# staging directory.  Depends: dpkg-shlibdeps for the system libraries,
# plus exact versions of this source's own packages.

set(XLICEN_DEB_PACKAGES
  server gss-xlicend  lib libxlicen0  dev libxlicen-dev  cli xlicen)
if(XLICEN_HAVE_X11)
  list(APPEND XLICEN_DEB_PACKAGES libxt libxlicen-xt0 x11 xlicen-x11)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME "gss-xlicen")
set(CPACK_PACKAGE_VENDOR "gss-xlicen")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "gss-xlicen maintainers <gss-xlicen@example.org>")
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING IGNORE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# CPACK_COMPONENT_<C>_DEPENDS become Depends: PACKAGE (= VERSION).
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
# The packages' own libraries (libxlicen.so.0, libxlicen-xt.so.0) are in
# this build: dpkg-shlibdeps finds them there, and the packages that use
# them depend on their package by component dependency (below).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS
    "${CMAKE_CURRENT_BINARY_DIR}" "${CMAKE_CURRENT_BINARY_DIR}/client/x11")
# A shlibs file in the library packages.  With it CPack also writes a
# postinst and postrm that run ldconfig; the library packages add the
# ldconfig trigger Debian uses (contrib/debian/triggers), and their lintian
# overrides say why the old way is still there.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_STRIP_FILES ON)
set(CPACK_PRE_BUILD_SCRIPTS "${CMAKE_CURRENT_SOURCE_DIR}/contrib/debian/prebuild.cmake")

set(CPACK_COMPONENTS_ALL "")
set(XLICEN_DEB_DIR "${CMAKE_CURRENT_BINARY_DIR}/debian-control")
# The native changelog, compressed by prebuild.cmake like the man pages.
list(LENGTH XLICEN_DEB_PACKAGES n)
math(EXPR last "${n} - 1")
foreach(i RANGE 0 ${last} 2)
  math(EXPR j "${i} + 1")
  list(GET XLICEN_DEB_PACKAGES ${i} comp)
  list(GET XLICEN_DEB_PACKAGES ${j} pkg)
  string(TOUPPER "${comp}" COMP)
  list(APPEND CPACK_COMPONENTS_ALL ${comp})
  set(CPACK_DEBIAN_${COMP}_PACKAGE_NAME "${pkg}")
  set(CPACK_DEBIAN_${COMP}_FILE_NAME DEB-DEFAULT)
  install(FILES contrib/debian/copyright contrib/debian/changelog
          DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${pkg} COMPONENT ${comp})
  # Tags lintian reports that stay, each with its reason.
  if(EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/contrib/debian/lintian/${pkg}")
    install(FILES contrib/debian/lintian/${pkg}
            DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/lintian/overrides COMPONENT ${comp})
  endif()
endforeach()

set(CPACK_DEBIAN_SERVER_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_SERVER_DESCRIPTION
    "GSS X License Verification server (TCP port 128)\ngss-xlicend serves license seats on TCP port 128 (IANA gss-xlicen) to\nclients authenticated with Kerberos 5 through GSS-API; leases live in\nSQLite; licenses are Ed25519-signed files.  It runs as the system user\ngss-xlicen, socket-activated by systemd.")
file(WRITE "${XLICEN_DEB_DIR}/server/conffiles"
     "/etc/gss-xlicen/gss-xlicend.conf\n/etc/logrotate.d/gss-xlicend\n")
foreach(script postinst prerm postrm)
  configure_file(contrib/debian/${script} "${XLICEN_DEB_DIR}/server/${script}" COPYONLY)
endforeach()
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
    "${XLICEN_DEB_DIR}/server/conffiles;${XLICEN_DEB_DIR}/server/postinst;${XLICEN_DEB_DIR}/server/prerm;${XLICEN_DEB_DIR}/server/postrm")

set(CPACK_DEBIAN_LIB_PACKAGE_SECTION "libs")
set(CPACK_DEBIAN_LIB_PACKAGE_CONTROL_EXTRA "${CMAKE_CURRENT_SOURCE_DIR}/contrib/debian/triggers")
set(CPACK_DEBIAN_LIB_DESCRIPTION
    "gss-xlicen client library\nlibxlicen checks out license seats from a gss-xlicend server, keeps the\nlease alive with heartbeats and releases it, authenticated with\nKerberos 5 through GSS-API, with blocking calls or a non-blocking API\nfor event loops.\n\nThis package has the shared library.")

set(CPACK_DEBIAN_DEV_PACKAGE_SECTION "libdevel")
set(CPACK_COMPONENT_DEV_DEPENDS lib)
# xlicen-xt.pc requires xt; libxlicen.a needs the Kerberos and OpenSSL
# libraries that pkg-config --static names.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libkrb5-dev, libssl-dev")
set(CPACK_DEBIAN_DEV_DESCRIPTION
    "gss-xlicen client library: development files\nlibxlicen checks out license seats from a gss-xlicend server over\nGSS-API (Kerberos 5).\n\nThis package has the headers, the pkg-config files xlicen.pc and\nxlicen-xt.pc, the static library and libxlicen(3).")

set(CPACK_DEBIAN_CLI_PACKAGE_SECTION "net")
set(CPACK_COMPONENT_CLI_DEPENDS lib)
set(CPACK_DEBIAN_CLI_DESCRIPTION
    "gss-xlicen command-line tools\nxlicen checks out a seat for a command, shows the seats in use, and\nadministers a gss-xlicend server (holders, removal, reports, the audit\ntrail).  xlicen-license is the vendor's tool: key pairs and signed\nlicense files.")

if(XLICEN_HAVE_X11)
  set(CPACK_DEBIAN_LIBXT_PACKAGE_SECTION "libs")
  set(CPACK_DEBIAN_LIBXT_PACKAGE_CONTROL_EXTRA "${CMAKE_CURRENT_SOURCE_DIR}/contrib/debian/triggers")
  set(CPACK_COMPONENT_LIBXT_DEPENDS lib)
  set(CPACK_DEBIAN_LIBXT_DESCRIPTION
      "gss-xlicen client library: Xt glue\nlibxlicen-xt runs a libxlicen license session inside the main loop of\nan X Toolkit (Xt) application.\n\nThis package has the shared library.")
  list(APPEND CPACK_COMPONENT_DEV_DEPENDS libxt)
  set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "${CPACK_DEBIAN_DEV_PACKAGE_DEPENDS}, libxt-dev")
  set(CPACK_DEBIAN_X11_PACKAGE_SECTION "x11")
  set(CPACK_COMPONENT_X11_DEPENDS lib libxt)
  set(CPACK_DEBIAN_X11_DESCRIPTION
      "gss-xlicen X11 tools\nxlicen-xdemo is a licensed Xt/Athena application that holds a seat while\nit runs; xlicen-xmon shows the seats in use per product and, for\nadministrators, who holds them.")
  file(WRITE "${XLICEN_DEB_DIR}/x11/conffiles"
       "/etc/X11/app-defaults/XlicenXdemo\n/etc/X11/app-defaults/XlicenXmon\n")
  set(CPACK_DEBIAN_X11_PACKAGE_CONTROL_EXTRA "${XLICEN_DEB_DIR}/x11/conffiles")
endif()

if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(STATUS "Debian packages (scripts/mkdeb): configure with -DCMAKE_INSTALL_PREFIX=/usr")
endif()
include(CPack)
