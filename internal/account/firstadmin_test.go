package account_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestHostileFirstAdminRace: several people racing through the setup
// link get one administrator; the others are refused and leave no
// account behind; once there is an administrator, nobody else gets in.
func TestHostileFirstAdminRace(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		if has, err := svc.HasAdmin(ctx); err != nil || has {
			t.Fatalf("HasAdmin on a fresh database: %v, %v; want false", has, err)
		}
		const racers = 6
		var wg sync.WaitGroup
		results := make([]error, racers)
		accounts := make([]account.Account, racers)
		for i := range racers {
			wg.Go(func() {
				accounts[i], _, results[i] = svc.RegisterFirstAdmin(ctx, registration(t, svc, fmt.Sprintf("racer%d", i)))
			})
		}
		wg.Wait()
		won := 0
		for i, err := range results {
			switch {
			case err == nil:
				won++
				if !slices.Contains(accounts[i].Roles, account.Admin) {
					t.Errorf("the winner's roles are %v, want admin", accounts[i].Roles)
				}
			case plaza.ErrorCode(err) == plaza.EConflict:
				if _, _, err := svc.Login(ctx, fmt.Sprintf("racer%d", i), testPassword, "t"); plaza.ErrorCode(err) != plaza.EUnauthenticated {
					t.Errorf("racer%d was refused but can sign in (%v): its account was kept", i, err)
				}
			default:
				t.Errorf("racer%d: %v, want nil or conflict", i, err)
			}
		}
		if won != 1 {
			t.Fatalf("%d first administrators, want 1 (%v)", won, results)
		}
		var admins int
		if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM account_roles WHERE role = 'admin'`).Scan(&admins); err != nil || admins != 1 {
			t.Fatalf("%d admin roles (%v), want 1", admins, err)
		}
		if has, err := svc.HasAdmin(ctx); err != nil || !has {
			t.Errorf("HasAdmin after the setup: %v, %v; want true", has, err)
		}
		_, _, err := svc.RegisterFirstAdmin(ctx, registration(t, svc, "latecomer"))
		if plaza.ErrorCode(err) != plaza.EConflict {
			t.Errorf("a setup after the first: %v, want conflict", err)
		}
		// Invalid input is refused as a registration is, before the check.
		bad := registration(t, svc, "x")
		if _, _, err := svc.RegisterFirstAdmin(ctx, bad); plaza.ErrorCode(err) != plaza.EInvalid {
			t.Errorf("a bad handle: %v, want invalid", err)
		}
	})
}
