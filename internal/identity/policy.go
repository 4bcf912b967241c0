package identity

import (
	"fmt"
	"sort"
	"strings"

	"github.com/plaza-im/plaza"
)

// Level is how far an account has proven who it is.
type Level int

// Verification levels, in order.
const (
	LevelNone Level = iota
	LevelPhone
	LevelIdentity
)

func (l Level) String() string {
	switch l {
	case LevelPhone:
		return "phone"
	case LevelIdentity:
		return "identity"
	}
	return "none"
}

// ParseLevel reads "none", "phone" or "identity".
func ParseLevel(s string) (Level, error) {
	switch s {
	case "none":
		return LevelNone, nil
	case "phone":
		return LevelPhone, nil
	case "identity":
		return LevelIdentity, nil
	}
	return 0, fmt.Errorf("level %q: want none, phone or identity", s)
}

// Action names something the policy may require a level for. Features
// call Service.Require with their action before acting.
type Action string

// The actions the policy covers.
const (
	ContactRequest     Action = "contact.request"
	ConversationCreate Action = "conversation.create"
	MessageSend        Action = "message.send"
	PostCreate         Action = "post.create"
	IdentitySubmit     Action = "identity.submit"
	ChannelApply       Action = "channel.apply"
	ChannelPublish     Action = "channel.publish"
)

// Policy maps each action to the level it needs. Actions not listed need
// nothing.
type Policy map[Action]Level

// DefaultPolicy is DESIGN.md's: messaging and posting need a verified
// phone, as does submitting an identity; applying for and publishing on a
// public account need a verified identity.
func DefaultPolicy() Policy {
	return Policy{
		ContactRequest:     LevelPhone,
		ConversationCreate: LevelPhone,
		MessageSend:        LevelPhone,
		PostCreate:         LevelPhone,
		IdentitySubmit:     LevelPhone,
		ChannelApply:       LevelIdentity,
		ChannelPublish:     LevelIdentity,
	}
}

var knownActions = []Action{ContactRequest, ConversationCreate, MessageSend, PostCreate, IdentitySubmit, ChannelApply, ChannelPublish}

// ParsePolicy reads overrides such as "message.send=none,post.create=identity"
// on top of the defaults.
func ParsePolicy(s string) (Policy, error) {
	p := DefaultPolicy()
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		name, lvl, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("policy item %q: want ACTION=LEVEL", item)
		}
		a := Action(strings.TrimSpace(name))
		known := false
		for _, k := range knownActions {
			known = known || k == a
		}
		if !known {
			return nil, fmt.Errorf("policy item %q: unknown action; known: %s", item, strings.Join(actionNames(), ", "))
		}
		l, err := ParseLevel(strings.TrimSpace(lvl))
		if err != nil {
			return nil, fmt.Errorf("policy item %q: %w", item, err)
		}
		p[a] = l
	}
	return p, nil
}

func actionNames() []string {
	out := make([]string, len(knownActions))
	for i, a := range knownActions {
		out[i] = string(a)
	}
	sort.Strings(out)
	return out
}

// String lists the policy in ParsePolicy's form.
func (p Policy) String() string {
	var parts []string
	for _, a := range actionNames() {
		parts = append(parts, a+"="+p[Action(a)].String())
	}
	return strings.Join(parts, ",")
}

// verificationRequired is the refusal every feature returns.
func verificationRequired(a Action, need Level) error {
	var how string
	switch need {
	case LevelPhone:
		how = "verify your phone number first (POST /api/v1/me/phone)"
	default:
		how = "verify your identity first (POST /api/v1/me/identity)"
	}
	return plaza.Errorf(plaza.EVerificationRequired, "%s needs a verified %s: %s", a, need, how).
		WithDetails(map[string]any{"level": need.String(), "action": string(a)})
}
