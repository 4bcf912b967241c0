package plaza

// Moderation is what the moderation decision in force on a piece of
// content (a microblog post, a channel post, a message or a channel) does
// to it. Domains store it beside the content and apply it on every read,
// so that reversing a decision puts the content back everywhere; package
// moderation sets it.
type Moderation struct {
	// Action is "" (no decision in force), ModLabel, ModLimit or ModRemove.
	Action string
	// Label is the note shown with labelled content.
	Label string
	// DecisionID is the decision in force; 0 with no Action.
	DecisionID ID
	// Replaces, when set, makes the change only if that decision is the
	// one in force: reversing a decision must not undo a later one that
	// took its place meanwhile. A change that does not apply is not_found.
	Replaces ID
}

// Moderation actions on content.
const (
	// ModLabel shows Label with the content to everyone.
	ModLabel = "label"
	// ModLimit keeps the content out of search, trending and hashtag
	// pages, and from everyone but its author and the author's followers.
	ModLimit = "limit"
	// ModRemove hides the content from everyone but its author, who sees
	// it marked removed with the decision.
	ModRemove = "remove"
)

// Columns checks m and returns how a domain stores it: the action, the
// label (only for ModLabel) and the decision ID (nil with no Action).
func (m Moderation) Columns() (action, label string, decision any, err error) {
	switch m.Action {
	case "":
		return "", "", nil, nil
	case ModLabel:
		if m.Label == "" {
			return "", "", nil, Invalid("label", "is required for a label decision")
		}
		label = m.Label
	case ModLimit, ModRemove:
	default:
		return "", "", nil, Invalid("action", "must be label, limit or remove")
	}
	if m.DecisionID <= 0 {
		return "", "", nil, Invalid("decision_id", "must name the decision")
	}
	return m.Action, label, int64(m.DecisionID), nil
}
