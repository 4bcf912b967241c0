package identity_test

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

func TestDefaultPolicy(t *testing.T) {
	// DESIGN.md, Governance model → Identity: messaging (contact requests,
	// conversations, messages), posting and submitting an identity need a
	// verified phone; applying for and publishing on a public account need
	// a verified identity.
	want := identity.Policy{
		identity.ContactRequest:     identity.LevelPhone,
		identity.ConversationCreate: identity.LevelPhone,
		identity.MessageSend:        identity.LevelPhone,
		identity.PostCreate:         identity.LevelPhone,
		identity.IdentitySubmit:     identity.LevelPhone,
		identity.ChannelApply:       identity.LevelIdentity,
		identity.ChannelPublish:     identity.LevelIdentity,
	}
	if got := identity.DefaultPolicy(); !maps.Equal(got, want) {
		t.Errorf("DefaultPolicy() = %v, want %v", got, want)
	}
	if got := identity.DefaultConfig().Policy; !maps.Equal(got, want) {
		t.Errorf("DefaultConfig().Policy = %v, want %v", got, want)
	}
	// Each call returns its own map: editing one must not change the defaults.
	p := identity.DefaultPolicy()
	p[identity.MessageSend] = identity.LevelNone
	if got := identity.DefaultPolicy()[identity.MessageSend]; got != identity.LevelPhone {
		t.Errorf("after editing a copy, default message.send = %v, want phone", got)
	}
}

func TestDefaultConfig(t *testing.T) {
	cfg := identity.DefaultConfig()
	if !cfg.OneAccountPerPhone || cfg.CodeTTL.Minutes() != 10 || cfg.MaxAttempts != 5 || cfg.ResendAfter.Seconds() != 60 || cfg.DefaultRegion != "" {
		t.Errorf("DefaultConfig() = %+v, want one account per phone, 10 min codes, 5 attempts, 60 s resend, no default region", cfg)
	}
}

func TestLevels(t *testing.T) {
	for _, tt := range []struct {
		level identity.Level
		name  string
	}{{identity.LevelNone, "none"}, {identity.LevelPhone, "phone"}, {identity.LevelIdentity, "identity"}} {
		if got := tt.level.String(); got != tt.name {
			t.Errorf("Level(%d).String() = %q, want %q", tt.level, got, tt.name)
		}
		if got, err := identity.ParseLevel(tt.name); err != nil || got != tt.level {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v, nil", tt.name, got, err, tt.level)
		}
	}
	if !(identity.LevelNone < identity.LevelPhone && identity.LevelPhone < identity.LevelIdentity) {
		t.Errorf("levels are not ordered none < phone < identity")
	}
	for _, s := range []string{"", "Phone", "verified", "phone "} {
		if _, err := identity.ParseLevel(s); err == nil {
			t.Errorf("ParseLevel(%q): got no error, want one", s)
		}
	}
}

func TestParsePolicy(t *testing.T) {
	t.Run("overrides on top of the defaults", func(t *testing.T) {
		got, err := identity.ParsePolicy("message.send=none,post.create=identity")
		if err != nil {
			t.Fatal(err)
		}
		want := identity.DefaultPolicy()
		want[identity.MessageSend] = identity.LevelNone
		want[identity.PostCreate] = identity.LevelIdentity
		if !maps.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("spaces and empty items", func(t *testing.T) {
		got, err := identity.ParsePolicy(" channel.apply = phone , ,identity.submit=none, ")
		if err != nil {
			t.Fatal(err)
		}
		want := identity.DefaultPolicy()
		want[identity.ChannelApply] = identity.LevelPhone
		want[identity.IdentitySubmit] = identity.LevelNone
		if !maps.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("empty is the defaults", func(t *testing.T) {
		got, err := identity.ParsePolicy("")
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, identity.DefaultPolicy()) {
			t.Errorf("got %v, want the defaults", got)
		}
	})
	t.Run("String round-trips", func(t *testing.T) {
		p, err := identity.ParsePolicy("message.send=none,channel.publish=phone")
		if err != nil {
			t.Fatal(err)
		}
		s := p.String()
		const want = "channel.apply=identity,channel.publish=phone,contact.request=phone,conversation.create=phone,identity.submit=phone,message.send=none,post.create=phone"
		if s != want {
			t.Errorf("String() = %q, want %q", s, want)
		}
		back, err := identity.ParsePolicy(s)
		if err != nil || !maps.Equal(back, p) {
			t.Errorf("ParsePolicy(String()) = %v, %v; want %v", back, err, p)
		}
	})
	for _, tt := range []struct {
		name, in, mention string
	}{
		{"unknown action", "message.delete=none", "unknown action"},
		{"unknown action lists the known ones", "message.delete=none", "message.send"},
		{"action in the wrong case", "Message.Send=none", "unknown action"},
		{"bad level", "message.send=verified", "want none, phone or identity"},
		{"empty level", "message.send=", "want none, phone or identity"},
		{"missing =", "message.send", "want ACTION=LEVEL"},
		{"missing = after a good item", "post.create=none,message.send:phone", "want ACTION=LEVEL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := identity.ParsePolicy(tt.in)
			if err == nil {
				t.Fatalf("ParsePolicy(%q) = %v, nil; want an error", tt.in, p)
			}
			if p != nil {
				t.Errorf("ParsePolicy(%q) returned policy %v with its error, want nil", tt.in, p)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("ParsePolicy(%q) error %q does not mention %q", tt.in, err, tt.mention)
			}
		})
	}
}

func TestRequire(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		id := f.register(t, "alice")

		wantLevels := func(t *testing.T, want map[identity.Action]string) {
			t.Helper()
			for action, level := range want {
				err := f.svc.Require(ctx, id, action)
				if level == "" {
					if err != nil {
						t.Errorf("Require(%s): got %v, want nil", action, err)
					}
					continue
				}
				if plaza.ErrorCode(err) != plaza.EVerificationRequired {
					t.Errorf("Require(%s): got %v, want verification_required", action, err)
					continue
				}
				d := plaza.AsError(err).Details
				if d["level"] != level || d["action"] != string(action) {
					t.Errorf("Require(%s): got details %v, want level %q and action %q", action, d, level, action)
				}
			}
		}

		// Nothing verified.
		wantLevels(t, map[identity.Action]string{
			identity.ContactRequest: "phone", identity.ConversationCreate: "phone", identity.MessageSend: "phone",
			identity.PostCreate: "phone", identity.IdentitySubmit: "phone",
			identity.ChannelApply: "identity", identity.ChannelPublish: "identity",
			identity.Action("not.in.policy"): "",
		})
		err := f.svc.Require(ctx, id, identity.MessageSend)
		if !strings.Contains(err.Error(), "POST /api/v1/me/phone") {
			t.Errorf("phone refusal %q does not say how to verify", err)
		}
		err = f.svc.Require(ctx, id, identity.ChannelApply)
		if !strings.Contains(err.Error(), "POST /api/v1/me/identity") {
			t.Errorf("identity refusal %q does not say how to verify", err)
		}

		// A verified phone.
		f.verifyPhone(t, id, f.newPhone())
		wantLevels(t, map[identity.Action]string{
			identity.MessageSend: "", identity.PostCreate: "", identity.IdentitySubmit: "",
			identity.ChannelApply: "identity", identity.ChannelPublish: "identity",
		})

		// A pending identity is not yet a verified one.
		idn := f.submit(t, id, submission("Zhang San"))
		wantLevels(t, map[identity.Action]string{identity.ChannelApply: "identity", identity.MessageSend: ""})

		// A rejected one neither.
		if _, err := f.svc.Decide(ctx, compliance, idn.ID, false, "photo unreadable"); err != nil {
			t.Fatal(err)
		}
		wantLevels(t, map[identity.Action]string{identity.ChannelApply: "identity", identity.MessageSend: ""})

		// Approved: everything passes.
		idn = f.submit(t, id, submission("Zhang San"))
		if _, err := f.svc.Decide(ctx, compliance, idn.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		wantLevels(t, map[identity.Action]string{
			identity.ContactRequest: "", identity.ConversationCreate: "", identity.MessageSend: "",
			identity.PostCreate: "", identity.IdentitySubmit: "", identity.ChannelApply: "", identity.ChannelPublish: "",
		})
	})
}

func TestRequireVerifiedIdentitySatisfiesPhone(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, func(c *identity.Config) { c.Policy[identity.IdentitySubmit] = identity.LevelNone })
		id := f.register(t, "bob")
		idn := f.submit(t, id, submission("Li Si"))
		if _, err := f.svc.Decide(ctx, compliance, idn.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		st, err := f.svc.Status(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if st.Phone || st.Identity != identity.StatusVerified || st.Level() != identity.LevelIdentity {
			t.Fatalf("got status %+v (level %v), want no phone, identity verified, level identity", st, st.Level())
		}
		for _, a := range []identity.Action{identity.MessageSend, identity.ContactRequest, identity.ChannelPublish} {
			if err := f.svc.Require(ctx, id, a); err != nil {
				t.Errorf("Require(%s) with a verified identity and no phone: got %v, want nil", a, err)
			}
		}
	})
}

func TestRequireFollowsOperatorPolicy(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		p, err := identity.ParsePolicy("message.send=none,post.create=identity")
		if err != nil {
			t.Fatal(err)
		}
		f := newFixture(t, db, func(c *identity.Config) { c.Policy = p })
		id := f.register(t, "carol")
		if err := f.svc.Require(ctx, id, identity.MessageSend); err != nil {
			t.Errorf("Require(message.send) with message.send=none: got %v, want nil", err)
		}
		wantLevel(t, f.svc.Require(ctx, id, identity.PostCreate), "identity")
		f.verifyPhone(t, id, f.newPhone())
		wantLevel(t, f.svc.Require(ctx, id, identity.PostCreate), "identity")
		if got := f.svc.Policy()[identity.PostCreate]; got != identity.LevelIdentity {
			t.Errorf("Policy()[post.create] = %v, want identity", got)
		}
	})
}

func TestNilPolicyMeansDefaults(t *testing.T) {
	t.Parallel()
	db := sqldbtest.Open(t, sqldb.SQLite)
	f := newFixture(t, db, func(c *identity.Config) { c.Policy = nil })
	if got := f.svc.Policy(); !maps.Equal(got, identity.DefaultPolicy()) {
		t.Errorf("Policy() with a nil config policy = %v, want the defaults", got)
	}
	id := f.register(t, "dave")
	wantLevel(t, f.svc.Require(context.Background(), id, identity.MessageSend), "phone")
}
