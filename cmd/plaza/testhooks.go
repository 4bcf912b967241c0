package main

import "time"

// testHooks slow the server down or shorten its timeouts so that the
// end-to-end tests can catch it in the middle of something (an export
// being written) and restart it without waiting for a lease. They are
// zero, and change nothing, in every build but the one the tests make:
// only a binary built with the plazatest tag sets them (from
// PLAZA_TEST_* variables, see testhooks_plazatest.go), so no flag or
// setting of a released server can reach them.
var testHooks struct {
	// exportPageDelay is slept after each page an export reads, and
	// exportPageSize is the rows a page holds.
	exportPageDelay time.Duration
	exportPageSize  int
	// jobsLease is the job queue's lease.
	jobsLease time.Duration
}
