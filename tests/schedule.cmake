# Scheduling hints for CTest (included last by the top-level CMakeLists,
# once every test exists).  CTest starts the tests with the highest COST
# first; a fresh build tree has no timing data of its own
# (Testing/Temporary/CTestCostData.txt), so without these hints the long
# tests start in declaration order and the install and fuzz tests, added
# last, form a tail that runs alone at the end of the run.  A COST is the
# test's seconds on an idle 2-core machine (RelWithDebInfo build; the
# sanitizer build takes up to twice as long); a wrong value only changes
# the order.
#
# PROCESSORS: the tests that keep a core busy the whole time (libFuzzer,
# compiling, the load test's servers and clients) count for 2 of
# scripts/test's job slots, which it sets to twice the cores because most
# tests wait on timers, the KDC and the server.
function(xlicen_test_cost seconds)
  foreach(t IN LISTS ARGN)
    if(TEST ${t})
      set_tests_properties(${t} PROPERTIES COST ${seconds})
    endif()
  endforeach()
endfunction()

xlicen_test_cost(70 integration.ticket_life)
xlicen_test_cost(45 install.usr_build)  # install.prefix and install.deb wait for it
xlicen_test_cost(40 install.deb integration.orphan)
xlicen_test_cost(30 integration.crash integration.audit)
xlicen_test_cost(22 integration.pg_load integration.spec_rules unit.test_store)
xlicen_test_cost(16 integration.pg_two integration.pg_promote integration.borrow
  integration.async_auth)
xlicen_test_cost(13 integration.pg_kill integration.reclaim integration.queue_serve
  integration.queue integration.dup hostile.data integration.cli)
xlicen_test_cost(10 daemon.term daemon.startup_run integration.reply_backlog
  install.demo_user x11.xmon hostile.timeout)

if(TEST integration.pg_load)
  set_tests_properties(integration.pg_load PROPERTIES PROCESSORS 2)
endif()
if(XLICEN_FUZZ)
  get_property(xlicen_fuzz_tests DIRECTORY ${PROJECT_SOURCE_DIR}/tests/fuzz PROPERTY TESTS)
  foreach(t IN LISTS xlicen_fuzz_tests)
    set_tests_properties(${t} PROPERTIES COST 20 PROCESSORS 2)
  endforeach()
endif()
