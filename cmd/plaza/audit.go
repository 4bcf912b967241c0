package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/plaza-im/plaza/internal/audit"
)

// anchorList collects repeated --anchor flags.
type anchorList []audit.Anchor

func (a *anchorList) String() string {
	s := make([]string, len(*a))
	for i, x := range *a {
		s[i] = x.String()
	}
	return strings.Join(s, ",")
}

func (a *anchorList) Set(v string) error {
	x, err := audit.ParseAnchor(v)
	if err != nil {
		return err
	}
	*a = append(*a, x)
	return nil
}

// runAudit runs plaza admin audit verify, anchor or rotate-key.
func runAudit(ctx context.Context, cfg *Config, sub string, anchors []audit.Anchor, log *slog.Logger, stdout io.Writer) error {
	db, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	path := cfg.AuditKeyPath()
	keys, _, err := audit.OpenKeys(ctx, db, path, false)
	missing := errors.Is(err, os.ErrNotExist)
	if err != nil && !missing {
		return err
	}
	if sub == "rotate-key" {
		if missing {
			return fmt.Errorf("no audit key file at %s: the server creates it at first start", path)
		}
		from, to, err := keys.Rotate()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "audit key rotated: %s → %s; new rows are signed with %s, and %s stays in %s to verify older rows\n", from, to, to, from, path)
		return nil
	}
	l := audit.New(db)
	if missing {
		fmt.Fprintf(stdout, "no audit key file at %s: checking unsigned rows only\n", path)
	} else {
		l = audit.NewKeyed(db, keys)
	}
	rep, err := l.Verify(ctx, anchors...)
	if err != nil {
		return err
	}
	if !rep.OK {
		fmt.Fprintf(stdout, "audit log BROKEN at row %d: %s (%d rows before it are intact)\n", rep.FirstBroken, rep.Problem, rep.Rows)
		return &exitError{code: 1, err: fmt.Errorf("audit log chain is broken at row %d", rep.FirstBroken)}
	}
	if sub == "anchor" {
		if rep.Rows == 0 {
			fmt.Fprintln(stdout, "audit log is empty: nothing to anchor yet")
			return nil
		}
		fmt.Fprintf(stdout, "row %d head %s\n", rep.Head.Seq, rep.Head.Hash)
		fmt.Fprintf(stdout, "record it outside this server; check later with: plaza admin audit verify --anchor %s\n", rep.Head)
		return nil
	}
	fmt.Fprintf(stdout, "audit log OK: %d %s, hash chain intact", rep.Rows, plural(rep.Rows, "row", "rows"))
	if len(anchors) > 0 {
		fmt.Fprintf(stdout, ", %d %s matched", len(anchors), plural(int64(len(anchors)), "anchor", "anchors"))
	}
	fmt.Fprintln(stdout)
	return nil
}
