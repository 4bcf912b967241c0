package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// verifyPhone verifies a phone number for account with the code from the
// outbox.
func (e *env) verifyPhone(tb testing.TB, account plaza.ID, phone string) {
	tb.Helper()
	ctx := context.Background()
	if _, err := e.ids.StartPhone(ctx, account, phone); err != nil {
		tb.Fatalf("start phone: %v", err)
	}
	b, err := os.ReadFile(e.outbox)
	if err != nil {
		tb.Fatalf("read outbox: %v", err)
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	var msg struct{ To, Code string }
	if err := json.Unmarshal(lines[len(lines)-1], &msg); err != nil || msg.To != phone {
		tb.Fatalf("last outbox message %s (%v), want one to %s", lines[len(lines)-1], err, phone)
	}
	if err := e.ids.VerifyPhone(ctx, account, msg.Code); err != nil {
		tb.Fatalf("verify phone: %v", err)
	}
}

func TestDefaultPolicyNeedsVerifiedPhone(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db, func(s *setup) { s.identity = identity.DefaultConfig() })
		a, b := e.account(t, "alice"), e.account(t, "bob")

		ops := []struct {
			name string
			do   func(me, other plaza.ID, conv plaza.ID) error
		}{
			{"request contact", func(me, other, _ plaza.ID) error {
				_, err := e.svc.RequestContact(ctx, me, other, "")
				return err
			}},
			{"open direct", func(me, other, _ plaza.ID) error {
				_, _, err := e.svc.OpenDirect(ctx, me, other)
				return err
			}},
			{"create group", func(me, other, _ plaza.ID) error {
				_, err := e.svc.CreateGroup(ctx, me, "g", []plaza.ID{other})
				return err
			}},
			{"send", func(me, _, conv plaza.ID) error {
				_, _, err := e.svc.Send(ctx, me, SendInput{ConversationID: conv, ClientID: "c", Kind: KindText, Text: "hi"})
				return err
			}},
		}
		for _, op := range ops {
			t.Run("unverified "+op.name, func(t *testing.T) {
				err := op.do(a, b, plaza.NewID())
				wantCode(t, err, plaza.EVerificationRequired)
				if got := plaza.AsError(err).Details["level"]; got != "phone" {
					t.Errorf("details.level = %v, want phone", got)
				}
			})
		}

		// Once both verify their phones, the same steps go through.
		e.verifyPhone(t, a, "+8613800138000")
		e.verifyPhone(t, b, "+8613800138001")
		e.befriend(t, a, b)
		conv, _, err := e.svc.OpenDirect(ctx, a, b)
		mustNil(t, err, "open direct")
		e.send(t, b, conv.ID, "verified")
		_, err = e.svc.CreateGroup(ctx, a, "g", []plaza.ID{b})
		mustNil(t, err, "create group")

		// A verified sender in a conversation with someone unverified is
		// fine: the policy binds who acts.
		c := e.account(t, "carol")
		_, err = e.svc.RequestContact(ctx, c, a, "")
		wantCode(t, err, plaza.EVerificationRequired)
		_, err = e.svc.RequestContact(ctx, a, c, "")
		mustNil(t, err, "verified asks unverified")
	})
}
