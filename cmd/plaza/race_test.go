//go:build race

package main

// The tests run with -race: build the server under test with it as well.
func init() { raceBuild = true }
