# contrib/debian/prebuild.cmake: CPack runs this (CPACK_PRE_BUILD_SCRIPTS)
# after installing each package's files into its staging directory and
# before making the .deb files: what debhelper's dh_compress and dh_strip
# would do.  Man pages and the changelog are compressed with gzip -9n (no
# name or time stamp, so the result is reproducible); the static library
# loses its debug sections, and it and the programs and shared libraries
# (already stripped by CPACK_STRIP_FILES) the .comment and .note sections
# that lintian reports.
find_program(XLICEN_GZIP gzip REQUIRED)
find_program(XLICEN_STRIP strip REQUIRED)
find_program(XLICEN_OBJCOPY objcopy REQUIRED)
file(GLOB_RECURSE staged LIST_DIRECTORIES false "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*")
foreach(f ${staged})
  if(IS_SYMLINK "${f}")
    continue()
  endif()
  if(f MATCHES "/share/man/man[1-9]/[^/]+\\.[1-9]$" OR f MATCHES "/share/doc/[^/]+/changelog$")
    execute_process(COMMAND "${XLICEN_GZIP}" -9nf "${f}" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "gzip -9n ${f}: ${rc}")
    endif()
  elseif(f MATCHES "\\.a$")
    execute_process(COMMAND "${XLICEN_STRIP}" --strip-debug --remove-section=.comment
                            --remove-section=.note "${f}" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "strip ${f}: ${rc}")
    endif()
  elseif(f MATCHES "/(s?bin/[^/]+|lib/.*\\.so\\.[0-9.]+)$")
    execute_process(COMMAND "${XLICEN_OBJCOPY}" --remove-section=.comment
                            --remove-section=.note "${f}" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "objcopy ${f}: ${rc}")
    endif()
  endif()
endforeach()
