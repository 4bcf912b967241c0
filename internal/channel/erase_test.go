package channel

import (
	"context"
	"testing"

	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestDeleteAccountData: erasing an account takes its channel follows
// (with the counts), editorships and applications, and closes the
// channels it owned. Erasing again changes nothing.
func TestDeleteAccountData(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db, envOptions{users: 3})
		e.accts.OnDelete(e.svc.DeleteAccountData)
		leaver, owner, follower := e.user(0), e.user(1), e.user(2)
		mine := e.newChannel(t, leaver, "leavers", "subscription")
		theirs := e.newChannel(t, owner, "owners", "subscription")
		if _, err := e.svc.AddEditor(ctx, owner, theirs, leaver); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Follow(ctx, leaver, theirs); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Follow(ctx, follower, theirs); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Follow(ctx, follower, mine); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Apply(ctx, leaver, ApplicationInput{Handle: "pending", Name: "Pending", Description: "waits", Kind: "service"}); err != nil {
			t.Fatal(err)
		}

		for i := range 2 {
			if err := e.accts.Erase(ctx, leaver); err != nil {
				t.Fatalf("erase %d: %v", i, err)
			}
			if c := e.get(t, owner, theirs); c.FollowerCount != 1 || len(c.EditorIDs) != 0 {
				t.Errorf("erase %d: the other channel has %d followers and editors %v, want 1 and none", i, c.FollowerCount, c.EditorIDs)
			}
			var status string
			var followers int64
			if err := db.Read().QueryRowContext(ctx, `SELECT status, follower_count FROM channels WHERE id = $1`, mine).Scan(&status, &followers); err != nil {
				t.Fatal(err)
			}
			if status != StatusClosed || followers != 1 {
				t.Errorf("erase %d: the owned channel is %s with %d followers, want closed with its 1 follower", i, status, followers)
			}
			for what, q := range map[string]string{
				"follows":      `SELECT COUNT(*) FROM channel_followers WHERE account_id = $1`,
				"editorships":  `SELECT COUNT(*) FROM channel_editors WHERE account_id = $1`,
				"applications": `SELECT COUNT(*) FROM channel_applications WHERE applicant_id = $1`,
			} {
				var n int
				if err := db.Read().QueryRowContext(ctx, q, leaver).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 0 {
					t.Errorf("erase %d: %d %s left, want 0", i, n, what)
				}
			}
		}
	})
}
