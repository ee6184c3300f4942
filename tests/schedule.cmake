# Scheduling hints for CTest.  CTest starts the tests with the highest
# COST first; a fresh build tree has no timing data of its own
# (Testing/Temporary/CTestCostData.txt), so without these hints the long
# tests start in declaration order and the install and fuzz tests, added
# last, form a tail that runs alone at the end of the run.  A COST is the
# test's seconds on an idle 2-core machine (RelWithDebInfo build; the
# sanitizer build takes up to twice as long); a wrong value only changes
# the order.
#
# PROCESSORS: the tests of the normal build that keep a core busy the
# whole time (the load test's servers and clients; install.usr_build,
# which compiles, says so itself) count for 2 of scripts/test's job slots
# there, which are twice the cores because most tests wait (on timers, the
# KDC, the server) far more than they compute.  The sanitizer build runs
# one job per core, and its fuzz targets, one core each, need no more.
#
# Test properties can only be set in the directory that added the test
# (CMake 3.25), so each tests/ subdirectory calls xlicen_test_schedule()
# once its tests exist.
set(XLICEN_TEST_COSTS
  integration.ticket_life=70
  install.usr_build=45      # install.prefix and install.deb wait for it
  install.deb=40 integration.orphan=40
  integration.crash=30 integration.audit=30
  integration.pg_load=22 integration.spec_rules=22 unit.test_store=22
  integration.ticket_blocking=18
  integration.pg_two=16 integration.pg_promote=22 integration.borrow=16
  integration.async_auth=16
  integration.pg_kill=13 integration.reclaim=13 integration.queue_serve=13
  integration.queue=13 integration.dup=13 hostile.data=13 integration.cli=13
  daemon.term=10 daemon.startup_run=10 integration.reply_backlog=10
  install.demo_user=10 x11.xmon=10 hostile.timeout=10)
set(XLICEN_TEST_BUSY integration.pg_load)

function(xlicen_test_schedule)
  foreach(entry IN LISTS XLICEN_TEST_COSTS)
    string(REPLACE "=" ";" kv "${entry}")
    list(GET kv 0 name)
    list(GET kv 1 seconds)
    if(TEST ${name})
      set_tests_properties(${name} PROPERTIES COST ${seconds})
    endif()
  endforeach()
  foreach(name IN LISTS XLICEN_TEST_BUSY)
    if(TEST ${name})
      set_tests_properties(${name} PROPERTIES PROCESSORS 2)
    endif()
  endforeach()
endfunction()
