// Package testenv finds the outside programs that integration tests drive
// (Chromium, ngircd, promtool, redis-server) and the data sets evaluations read. A test
// that needs one calls Need (or Absent for data): when it is missing the
// test is skipped with a message that says how to get it, unless
// LIVEMOD_TEST_REQUIRE names it (CI sets LIVEMOD_TEST_REQUIRE=redis,browser,ircd,
// promtool), in which case it fails.
//
// Its functions only read the environment; they are goroutine-safe.
package testenv
