# fallback.cmake: cmake -DIN=APP_DEFAULTS_FILE -DOUT=HEADER -P fallback.cmake
# writes the resource lines of an app-defaults file as C string literals,
# one per line ("*font: ...",), for a program's fallback_resources[]: the
# compiled-in copy Xt uses only where it finds no app-defaults file.
# Comment lines (!) and empty lines are left out; a line continued with a
# trailing backslash is not supported (none is used).
file(STRINGS "${IN}" lines)
set(body "/* Made from ${IN} by fallback.cmake; do not edit. */\n")
foreach(l IN LISTS lines)
  if(l MATCHES "^[ \t]*(!|$)")
    continue()
  endif()
  if(l MATCHES "\\\\$")
    message(FATAL_ERROR "${IN}: continued lines are not supported: ${l}")
  endif()
  string(REPLACE "\\" "\\\\" l "${l}")
  string(REPLACE "\"" "\\\"" l "${l}")
  string(APPEND body "\t\"${l}\",\n")
endforeach()
file(WRITE "${OUT}.tmp" "${body}")
file(RENAME "${OUT}.tmp" "${OUT}")
