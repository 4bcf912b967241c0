//go:build plazatest

package main

import (
	"os"
	"strconv"
	"time"
)

// In a binary built for the end-to-end tests (go build -tags plazatest),
// these variables set the test hooks.
func init() {
	if d, err := time.ParseDuration(os.Getenv("PLAZA_TEST_EXPORT_PAGE_DELAY")); err == nil {
		testHooks.exportPageDelay = d
	}
	if n, err := strconv.Atoi(os.Getenv("PLAZA_TEST_EXPORT_PAGE_SIZE")); err == nil {
		testHooks.exportPageSize = n
	}
	if d, err := time.ParseDuration(os.Getenv("PLAZA_TEST_JOBS_LEASE")); err == nil {
		testHooks.jobsLease = d
	}
}
