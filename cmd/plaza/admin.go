package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/identity"
)

const adminUsage = `Usage:
  plaza admin grant  [--data DIR] [--db URL] HANDLE ROLE   give a role (admin, moderator, reviewer, compliance)
  plaza admin revoke [--data DIR] [--db URL] HANDLE ROLE   take a role away
  plaza admin suspend   [--data DIR] [--db URL] HANDLE REASON   suspend any account, admins too
  plaza admin reinstate [--data DIR] [--db URL] HANDLE REASON   lift a suspension
  plaza admin audit verify [--data DIR] [--db URL] [--anchor ROW:HASH]
                                                          check the audit log's signed hash chain
                                                          (and that row ROW still has HASH)
  plaza admin audit anchor [--data DIR] [--db URL]         check the chain and print its head, to
                                                          record outside the server
  plaza admin audit rotate-key [--data DIR]                sign new audit rows with a new key
                                                          (old keys stay in the file to verify old rows)
  plaza admin rotate-key [--data DIR] [--db URL] [--secret-key-file F]
                                                          re-encrypt every legal identity under a new key
  plaza admin backup [--data DIR] [--db URL] [--media URL] [--secret-key-file F] [--audit-key-file F] OUT
                                                          copy the SQLite database, file media and keys
                                                          into the new directory OUT, online
  plaza admin restore BACKUP --data NEWDIR                check a backup and put it into a new data directory

These work while the server runs; it sees the change on the next request.
Restore writes a new data directory for a server to start on.
`

func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, adminUsage)
		return usageError("plaza admin needs a command")
	}
	cmd, args := args[0], args[1:]
	if cmd == "-h" || cmd == "--help" || cmd == "help" {
		fmt.Fprint(stdout, adminUsage)
		return nil
	}
	switch cmd {
	case "backup":
		return runBackup(ctx, args, stdout, stderr)
	case "restore":
		return runRestore(ctx, args, stdout, stderr)
	}
	sub := ""
	if cmd == "audit" {
		if len(args) == 0 || (args[0] != "verify" && args[0] != "anchor" && args[0] != "rotate-key") {
			fmt.Fprint(stderr, adminUsage)
			return usageError("plaza admin audit needs the command verify, anchor or rotate-key")
		}
		sub, args = args[0], args[1:]
	}
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("plaza admin "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, adminUsage); fs.PrintDefaults() }
	cfg.dataFlags(fs)
	var anchors anchorList
	if sub == "verify" {
		fs.Var(&anchors, "anchor", "`ROW:HASH` printed earlier by plaza admin audit anchor; the chain must still have it (repeatable)")
	}
	if err := parse(fs, args); err != nil {
		return usageError("%w", err)
	}
	if err := cfg.ValidateData(); err != nil {
		return usageError("invalid configuration:\n%w", err)
	}
	log := newLogger(stderr, cfg.LogFormat, "warn")
	switch cmd {
	case "grant", "revoke":
		if fs.NArg() != 2 {
			fmt.Fprint(stderr, adminUsage)
			return usageError("plaza admin %s needs HANDLE and ROLE", cmd)
		}
		role, err := account.ParseRole(fs.Arg(1))
		if err != nil {
			return usageError("unknown role %q: use admin, moderator, reviewer or compliance", fs.Arg(1))
		}
		db, err := openDB(ctx, &cfg, log)
		if err != nil {
			return err
		}
		defer db.Close()
		auditLog, err := openAudit(ctx, &cfg, db, log)
		if err != nil {
			return err
		}
		svc := account.NewService(db, account.DefaultConfig())
		svc.UseAudit(auditLog)
		a, err := svc.GetByHandle(ctx, fs.Arg(0))
		if err != nil {
			return fmt.Errorf("account %q: %w", fs.Arg(0), err)
		}
		if cmd == "grant" {
			err = svc.GrantRole(ctx, audit.CLI, a.ID, role)
		} else {
			err = svc.RevokeRole(ctx, audit.CLI, a.ID, role)
		}
		if err != nil {
			return err
		}
		verb := map[string]string{"grant": "granted to", "revoke": "revoked from"}[cmd]
		fmt.Fprintf(stdout, "role %s %s %s (account %s)\n", role, verb, a.Handle, a.ID)
		return nil
	case "suspend", "reinstate":
		// The operator's way to stop an admin, or to bring one back, when
		// no other admin can.
		if fs.NArg() != 2 {
			fmt.Fprint(stderr, adminUsage)
			return usageError("plaza admin %s needs HANDLE and REASON", cmd)
		}
		db, err := openDB(ctx, &cfg, log)
		if err != nil {
			return err
		}
		defer db.Close()
		svc := account.NewService(db, account.DefaultConfig())
		a, err := svc.GetByHandle(ctx, fs.Arg(0))
		if err != nil {
			return fmt.Errorf("account %q: %w", fs.Arg(0), err)
		}
		if cmd == "suspend" {
			a, err = svc.Suspend(ctx, audit.CLI, a.ID, fs.Arg(1), time.Time{})
		} else {
			a, err = svc.Unsuspend(ctx, audit.CLI, a.ID, fs.Arg(1))
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %s (%s) is %s\n", a.Handle, a.ID, a.Status)
		return nil
	case "audit":
		if fs.NArg() != 0 {
			return usageError("plaza admin audit %s takes no arguments", sub)
		}
		return runAudit(ctx, &cfg, sub, anchors, log, stdout)
	case "rotate-key":
		if fs.NArg() != 0 {
			return usageError("plaza admin rotate-key takes no arguments")
		}
		db, err := openDB(ctx, &cfg, log)
		if err != nil {
			return err
		}
		defer db.Close()
		keys, _, err := identity.LoadKeyring(cfg.KeyFile(), false)
		if err != nil {
			return err
		}
		auditLog, err := openAudit(ctx, &cfg, db, log)
		if err != nil {
			return err
		}
		rep, err := identity.RotateKey(ctx, db, keys, auditLog, audit.CLI)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "key rotated: %s → %s, %d identities re-encrypted; the old key is in %s (delete it once no backup needs it)\n",
			rep.From, rep.To, rep.Resealed, rep.Retired)
		return nil
	default:
		fmt.Fprint(stderr, adminUsage)
		return usageError("unknown admin command %q", cmd)
	}
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
