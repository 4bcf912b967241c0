// Package plaza holds the types every part of Plaza shares: the error type
// with its stable codes, field validation problems and the 64-bit IDs.
//
// Everything else lives under internal/, one package per domain
// (account, audit, …) or per piece of infrastructure (sqldb, httpapi, …).
package plaza
